import { Controller, Get, HttpException, HttpStatus, Inject } from '@nestjs/common'
import { sql } from 'drizzle-orm'
import type { Database } from '../db/database'
import { DATABASE } from '../db/db.module'
import { IndexerService } from '../indexer/indexer.service'

/** Liveness and readiness for orchestrators and load balancers. */
@Controller()
export class HealthController {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(IndexerService) private readonly indexer: IndexerService,
  ) {}

  /** The process is up. */
  @Get('health')
  health() {
    return { status: 'ok' }
  }

  /** The database answers and the indexer has caught up with the chain at least once. */
  @Get('ready')
  async ready() {
    try {
      await this.database.query(sql`select 1`)
    } catch {
      throw new HttpException({ status: 'unavailable', reason: 'database unreachable' }, HttpStatus.SERVICE_UNAVAILABLE)
    }
    const status = this.indexer.status()
    const body = {
      status: status.synced && !status.error ? 'ready' : 'syncing',
      indexer: {
        running: status.running,
        synced: status.synced,
        block: status.block ? Number(status.block.blockNumber) : null,
        error: status.error,
        // Queries answer while these build after catch-up, only slower on large tables.
        queryIndexes: status.queryIndexes,
      },
    }
    if (body.status !== 'ready') throw new HttpException(body, HttpStatus.SERVICE_UNAVAILABLE)
    return body
  }
}
