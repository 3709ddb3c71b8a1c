import type { EventEmitter } from 'node:events'
import type { IndexerEvents, Logger } from '../../indexer/indexer'
import type { SyncState } from '../../indexer/indexer.repository'
import type { JobSummary } from './job-filter'

export interface FeedBlock {
  number: bigint
  hash: string
  parentHash: string | null
  timestamp: bigint
}

/** A version of a job: the fields filters look at and the block that wrote it. */
export interface JobVersion extends JobSummary {
  block: bigint
}

export interface JobChangeEvent {
  id: string
  /** The version at `block`; null when a reorg removed the job. */
  job: JobVersion | null
  previousStatus: string | null
  block: FeedBlock
  reorged: boolean
  /** For a reorg correction: the state last delivered, from an orphaned block (filters match either). */
  orphaned?: JobVersion
}

/** A statistics bucket rolled up (or, with `reorged`, reopened by a reorg that orphaned the block that closed it). */
export interface StatsBucketEvent {
  interval: string
  /** Start of the bucket's period, microseconds since the epoch. */
  timestamp: bigint
  /** The block that closed it; for a reorg correction, the common ancestor. */
  block: FeedBlock
  reorged: boolean
}

export interface ClosedBucketRow {
  interval: string
  timestamp: bigint
  block: bigint
}

export type FeedEvent =
  | { kind: 'block'; block: FeedBlock }
  | { kind: 'job'; change: JobChangeEvent }
  | { kind: 'stats'; bucket: StatsBucketEvent }
  | { kind: 'reorg'; ancestor: bigint; orphanedHead: bigint; newHead: FeedBlock | null }

export interface FeedStore {
  blocksIn(args: { chainId: number; from: bigint; to: bigint }): Promise<FeedBlock[]>
  jobChangesIn(args: { from: bigint; to: bigint }): Promise<(JobVersion & { previousStatus: string | null })[]>
  jobsAt(args: { ids: string[]; block: bigint }): Promise<JobVersion[]>
  /** Statistics buckets closed by blocks in (from, to], shorter intervals first. */
  bucketsIn(args: { from: bigint; to: bigint }): Promise<ClosedBucketRow[]>
  blockAt(args: { chainId: number; number: bigint }): Promise<FeedBlock | null>
}

/** What the feed listens to: the Indexer. */
export type FeedSource = EventEmitter<IndexerEvents> & { state?: SyncState }

/**
 * Turns the indexer's commits and rollbacks into ordered events for every subscriber: after each commit it reads
 * the blocks and job versions that commit wrote (one read per commit, whatever the number of subscribers), and
 * after a rollback it re-reads the jobs it had delivered for the orphaned blocks. Events are produced one commit at
 * a time, in the indexer's order, so each subscriber sees block order.
 */
export class ChangeFeed {
  private source?: FeedSource
  private chainId = 0
  /** The newest block whose changes were published (or skipped while nobody listened). */
  private last?: bigint
  private work: Promise<void> = Promise.resolve()
  private readonly listeners = new Set<(event: FeedEvent) => void>()
  /** Job states published per block not yet final: what a rollback must correct. */
  private readonly recent = new Map<bigint, Map<string, JobVersion>>()
  /** Statistics buckets published per block not yet final: a rollback reopens them. */
  private readonly recentBuckets = new Map<bigint, ClosedBucketRow[]>()

  constructor(private readonly o: { store: FeedStore; logger: Logger }) {}

  attach(source: FeedSource): void {
    this.detach()
    this.source = source
    this.last = source.state?.blockNumber
    if (source.state) this.chainId = source.state.chainId
    source.on('block', this.onBlock)
    source.on('reorg', this.onReorg)
  }

  detach(): void {
    this.source?.off('block', this.onBlock)
    this.source?.off('reorg', this.onReorg)
    this.source = undefined
  }

  /** Calls `listener` with every event from now on; returns the unsubscribe function. */
  subscribe(listener: (event: FeedEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Resolves once every event received so far has been published. */
  idle(): Promise<void> {
    return this.work
  }

  private readonly onBlock = (state: SyncState) => this.enqueue(`block ${state.blockNumber}`, () => this.commit(state))

  private readonly onReorg = (r: { ancestor: bigint; orphanedHead: bigint }) =>
    this.enqueue(`reorg to ${r.ancestor}`, () => this.rollback(r))

  private enqueue(what: string, task: () => Promise<void>): void {
    this.work = this.work.then(task).catch((error: Error) => {
      // Subscribers miss this commit's events; the next commit's read starts after it all the same.
      this.o.logger.error(`subscriptions: ${what}: ${error.message}`)
    })
  }

  private async commit(state: SyncState): Promise<void> {
    this.chainId = state.chainId
    const to = state.blockNumber
    // Before its first commit the feed has no cursor; it starts at the committed block rather than replaying history.
    const from = this.last ?? to - 1n
    this.last = to
    for (const n of this.recent.keys()) if (n <= state.finalizedBlock) this.recent.delete(n)
    for (const n of this.recentBuckets.keys()) if (n <= state.finalizedBlock) this.recentBuckets.delete(n)
    if (to <= from || this.listeners.size === 0) return
    const [blocks, changes, buckets] = await Promise.all([
      this.o.store.blocksIn({ chainId: state.chainId, from, to }),
      this.o.store.jobChangesIn({ from, to }),
      this.o.store.bucketsIn({ from, to }),
    ])
    const byBlock = new Map<bigint, typeof changes>()
    for (const c of changes) {
      const group = byBlock.get(c.block)
      if (group) group.push(c)
      else byBlock.set(c.block, [c])
    }
    for (const block of blocks) {
      this.publish({ kind: 'block', block })
      const closed = buckets.filter((b) => b.block === block.number)
      if (closed.length > 0) this.recentBuckets.set(block.number, closed)
      for (const b of closed) {
        this.publish({ kind: 'stats', bucket: { interval: b.interval, timestamp: b.timestamp, block, reorged: false } })
      }
      const group = byBlock.get(block.number) ?? []
      if (group.length === 0) continue
      const published = this.recent.get(block.number) ?? new Map<string, JobVersion>()
      this.recent.set(block.number, published)
      for (const { previousStatus, ...job } of group) {
        published.set(job.id, job)
        this.publish({ kind: 'job', change: { id: job.id, job, previousStatus, block, reorged: false } })
      }
    }
  }

  private async rollback({ ancestor, orphanedHead }: { ancestor: bigint; orphanedHead: bigint }): Promise<void> {
    if (this.last === undefined || this.last > ancestor) this.last = ancestor
    const orphaned = new Map<string, JobVersion>()
    for (const n of [...this.recent.keys()].sort((a, b) => (a < b ? -1 : 1))) {
      if (n <= ancestor) continue
      for (const [id, job] of this.recent.get(n) ?? []) orphaned.set(id, job)
      this.recent.delete(n)
    }
    const reopened: ClosedBucketRow[] = []
    for (const n of [...this.recentBuckets.keys()].sort((a, b) => (a < b ? -1 : 1))) {
      if (n <= ancestor) continue
      reopened.push(...(this.recentBuckets.get(n) ?? []))
      this.recentBuckets.delete(n)
    }
    if (this.listeners.size === 0) return
    const newHead = await this.o.store.blockAt({ chainId: this.chainId, number: ancestor })
    this.publish({ kind: 'reorg', ancestor, orphanedHead, newHead })
    if (!newHead) return
    // The canonical chain has not closed these buckets yet: it delivers them anew when its time reaches their end.
    for (const b of reopened) {
      this.publish({
        kind: 'stats',
        bucket: { interval: b.interval, timestamp: b.timestamp, block: newHead, reorged: true },
      })
    }
    if (orphaned.size === 0) return
    const canonical = new Map(
      (await this.o.store.jobsAt({ ids: [...orphaned.keys()], block: ancestor })).map((j) => [j.id, j]),
    )
    const ids = [...orphaned.keys()].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
    for (const id of ids) {
      const last = orphaned.get(id) as JobVersion
      this.publish({
        kind: 'job',
        change: {
          id,
          job: canonical.get(id) ?? null,
          previousStatus: last.status,
          block: newHead,
          reorged: true,
          orphaned: last,
        },
      })
    }
  }

  private publish(event: FeedEvent): void {
    for (const listener of this.listeners) listener(event)
  }
}
