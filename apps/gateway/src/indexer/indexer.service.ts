import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common'
import type { Config } from '../config/config'
import { CONFIG } from '../config/config.module'
import type { Database } from '../db/database'
import { describeError } from '../db/database-error'
import { DATABASE } from '../db/db.module'
import type { Indexer } from './indexer'
import type { SyncState } from './indexer.repository'
import { runIndexer } from './indexer.runner'

export interface IndexerStatus {
  running: boolean
  /** The last committed block, or null before the first commit. */
  block: SyncState | null
  synced: boolean
  error: string | null
}

/** Runs the indexer in the background for the gateway's lifetime (waiting for the lock if another instance holds it). */
@Injectable()
export class IndexerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Indexer')
  private readonly controller = new AbortController()
  private running?: Promise<void>
  private indexer?: Indexer
  private synced = false
  private error: string | null = null
  private readonly listeners: ((indexer: Indexer) => void)[] = []

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(DATABASE) private readonly database: Database,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.indexer.deploymentFile) {
      this.logger.warn('no DEPLOYMENT_FILE: indexing is off')
      return
    }
    this.running = runIndexer({
      config: this.config,
      database: this.database,
      signal: this.controller.signal,
      logger: this.logger,
      onIndexer: (indexer) => {
        this.indexer = indexer
        for (const listener of this.listeners) listener(indexer)
        indexer.on('synced', () => {
          this.synced = true
        })
      },
    }).catch((error: Error) => {
      this.error = error.message
      this.logger.error(`indexer stopped: ${describeError(error)}`)
    })
  }

  /** The indexer, once it holds the lock; listeners subscribe to its block and reorg events. */
  get current(): Indexer | undefined {
    return this.indexer
  }

  /** Calls `listener` with the indexer once it holds the lock, before its first step. */
  onIndexer(listener: (indexer: Indexer) => void): void {
    this.listeners.push(listener)
    if (this.indexer) listener(this.indexer)
  }

  status(): IndexerStatus {
    return {
      running: Boolean(this.indexer) && !this.controller.signal.aborted && !this.error,
      block: this.indexer?.state ?? null,
      synced: this.synced,
      error: this.error,
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.controller.abort()
    await this.running
  }
}
