import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common'
import type { Config } from '../config/config'
import { CONFIG } from '../config/config.module'
import type { Database } from '../db/database'
import { DATABASE } from '../db/db.module'
import { IndexerService } from '../indexer/indexer.service'
import { ChainRpc } from '../indexer/rpc'
import { type IndexerTracking, trackIndexer } from './indexer-metrics'
import { type ChainHead, createMetrics, type GatewayMetrics, type IndexerSnapshot } from './metrics'
import { MetricsRepository } from './metrics.repository'

// Scrapes every 15 s are typical; a tighter loop of scrapers still costs the RPC at most one request this often.
const CHAIN_HEAD_CACHE_MS = 2_000
const CHAIN_HEAD_TIMEOUT_MS = 2_000

/** Owns the app's metrics registry and feeds it from the indexer and the chain. */
@Injectable()
export class MetricsService implements OnModuleInit {
  readonly metrics: GatewayMetrics
  private readonly logger = new Logger('Metrics')
  private readonly repository: MetricsRepository
  private readonly rpc?: ChainRpc
  private tracking?: IndexerTracking
  private head?: { value: ChainHead | null; at: number }
  private reading?: Promise<ChainHead | null>

  constructor(
    @Inject(CONFIG) config: Config,
    @Inject(DATABASE) database: Database,
    @Inject(IndexerService) private readonly indexer: IndexerService,
  ) {
    this.repository = new MetricsRepository(database)
    const { rpcUrls, getLogs } = config.indexer
    if (rpcUrls.length > 0 && config.indexer.deploymentFile) {
      this.rpc = new ChainRpc({
        urls: rpcUrls,
        timeoutMs: Math.min(getLogs.timeoutMs, CHAIN_HEAD_TIMEOUT_MS),
        // A scrape should answer promptly; the next one asks again.
        maxAttempts: 1,
      })
    }
    this.metrics = createMetrics({ snapshot: () => this.snapshot() })
  }

  onModuleInit(): void {
    this.indexer.onIndexer((indexer) => {
      this.tracking = trackIndexer({
        indexer,
        metrics: this.metrics,
        repository: this.repository,
        onError: (error) => this.logger.warn(`indexer metrics: ${error.message}`),
      })
    })
  }

  /** The Prometheus text exposition, once the counters include everything the indexer has committed. */
  async render(): Promise<string> {
    await this.tracking?.settled()
    return this.metrics.registry.metrics()
  }

  private async snapshot(): Promise<IndexerSnapshot> {
    const block = this.indexer.status().block
    const indexed = block ? { number: block.blockNumber, timestamp: block.blockTimestamp } : null
    return { indexed, chain: await this.chainHead(indexed) }
  }

  private async chainHead(indexed: ChainHead | null): Promise<ChainHead | null> {
    if (!this.rpc) return null
    const cached = this.head
    // A head older than what the indexer has committed is stale however recent the request was.
    const stale = !cached?.value || (indexed !== null && cached.value.number < indexed.number)
    if (cached && !stale && Date.now() - cached.at < CHAIN_HEAD_CACHE_MS) return cached.value
    this.reading ??= this.rpc
      .getBlock('latest')
      .then(
        (b) => ({ number: b.number, timestamp: b.timestamp }),
        (error: Error) => {
          this.logger.warn(`chain head: ${error.message}`)
          return null
        },
      )
      .then((value) => {
        this.head = { value, at: Date.now() }
        this.reading = undefined
        return value
      })
    return this.reading
  }
}
