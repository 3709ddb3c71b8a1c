import { createHash } from 'node:crypto'
import { readDeployment } from '@computegraph/contracts/deploy'
import { Inject, Injectable, Logger } from '@nestjs/common'
import type { Config } from '../config/config'
import { CONFIG } from '../config/config.module'
import { IndexerService } from '../indexer/indexer.service'
import type { Head } from './block-height'
import { EntityRepository } from './entity.repository'
import type { HeadSource } from './entity-queries'

// Without an indexer in this process (an API replica), the cursor is re-read at most this often: a response may be
// this much behind the database, never inconsistent, since it reads at one block throughout.
const HEAD_CACHE_MS = 250

export interface DeploymentIdentity {
  chainId: number
  contracts: { name: string; address: string; startBlock: number }[]
}

/** A stable id for `_meta.deployment`: sha256 over the chain id and the contracts indexed (graph-node uses a CID). */
export function deploymentId({ chainId, contracts }: DeploymentIdentity): string {
  const canonical = contracts
    .map((c) => `${c.name}=${c.address.toLowerCase()}@${c.startBlock}`)
    .sort()
    .join(',')
  return `0x${createHash('sha256').update(`${chainId}:${canonical}`).digest('hex')}`
}

/** The block the API reads at by default: the in-process indexer's committed cursor, else `sync_state`. */
@Injectable()
export class ChainHeadService implements HeadSource {
  private readonly logger = new Logger('GraphQL')
  private cached?: { head: Head | null; at: number }
  private reading?: Promise<Head | null>
  private identity?: Promise<DeploymentIdentity | null>

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(IndexerService) private readonly indexer: IndexerService,
    @Inject(EntityRepository) private readonly repository: EntityRepository,
  ) {}

  async latest({ fresh = false }: { fresh?: boolean } = {}): Promise<Head | null> {
    const local = this.indexer.status().block
    if (local) {
      return {
        chainId: local.chainId,
        number: local.blockNumber,
        hash: local.blockHash,
        timestamp: local.blockTimestamp,
      }
    }
    if (!fresh && this.cached && performance.now() - this.cached.at < HEAD_CACHE_MS) return this.cached.head
    this.reading ??= this.read().finally(() => {
      this.reading = undefined
    })
    return this.reading
  }

  /** The deployment file's contracts, read once; null when the gateway indexes nothing itself. */
  deployment(): Promise<DeploymentIdentity | null> {
    const file = this.config.indexer.deploymentFile
    this.identity ??= file
      ? readDeployment(file).then(
          (d) => ({
            chainId: d.chainId,
            contracts: Object.entries(d.contracts).map(([name, c]) => ({ name, ...c })),
          }),
          (error: Error) => {
            this.logger.warn(`_meta.deployment falls back to the chain id: cannot read ${file}: ${error.message}`)
            return null
          },
        )
      : Promise.resolve(null)
    return this.identity
  }

  private async read(): Promise<Head | null> {
    const identity = await this.deployment()
    const state = await this.repository.syncState(identity?.chainId)
    const head = state && { chainId: state.chainId, number: state.number, hash: state.hash, timestamp: state.timestamp }
    this.cached = { head, at: performance.now() }
    return head
  }
}
