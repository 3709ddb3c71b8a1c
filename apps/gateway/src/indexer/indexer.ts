export { HandlerError } from './event-applier'

import { EventEmitter } from 'node:events'
import { backoffMs, RetryableError, sleep } from '../common/errors'
import type { IndexerConfig } from '../config/config'
import { describeError } from '../db/database-error'
import type { Interval, SchemaModel } from '../db/entity-model'
import { EventApplier, HandlerError } from './event-applier'
import { type ChainEvent, decodeLog, type IndexedContract } from './events'
import type { HandlerEnv } from './handlers'
import type { BlockRow, IndexerRepository, SyncState } from './indexer.repository'
import { bucketClock, closedBuckets, rollupIntervals } from './rollup'
import { type BlockHeader, type ChainRpc, RangeTooLargeError, type RawLog } from './rpc'

export interface IndexedContractConfig {
  name: IndexedContract
  address: string
  startBlock: bigint
}

export interface Logger {
  log(message: string): void
  warn(message: string): void
  error(message: string): void
}

export interface IndexerOptions {
  repository: IndexerRepository
  rpc: ChainRpc
  chainId: number
  contracts: IndexedContractConfig[]
  env: HandlerEnv
  config: IndexerConfig
  model: SchemaModel
  logger?: Logger
}

/** Emitted after each committed batch ('block') and after each rollback ('reorg'). */
export interface IndexerEvents {
  block: [SyncState]
  reorg: [{ ancestor: bigint; orphanedHead: bigint }]
  synced: [SyncState]
}

const silent: Logger = { log() {}, warn() {}, error() {} }

/**
 * Follows one chain: backfills finalized blocks in wide parallel eth_getLogs ranges, then follows the head block by
 * block, checking each parent hash and rolling back to the common ancestor on a reorg. Entity writes, events, blocks
 * and the cursor commit in one transaction, so a restart resumes exactly where the last commit left off.
 */
export class Indexer extends EventEmitter<IndexerEvents> {
  state?: SyncState
  private readonly applier: EventApplier
  private readonly addresses: string[]
  private readonly logger: Logger
  private range: bigint
  private rangeSuccesses = 0
  private finality?: { kind: 'tag' } | { kind: 'depth'; depth: bigint }
  private readonly intervals: Interval[]

  constructor(private readonly o: IndexerOptions) {
    super()
    this.applier = new EventApplier(o.repository, o.model, o.env, o.config.cacheEntities)
    this.addresses = o.contracts.map((c) => c.address.toLowerCase())
    this.logger = o.logger ?? silent
    this.range = BigInt(o.config.getLogs.initialRange)
    this.intervals = rollupIntervals(o.model)
  }

  /** Indexes until `signal` aborts. Transient failures are logged and retried with backoff. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0
    while (!signal.aborted) {
      try {
        if (!this.state) await this.init()
        const caughtUp = await this.step()
        failures = 0
        if (caughtUp) {
          this.emit('synced', this.state as SyncState)
          await sleep(this.o.config.pollIntervalMs, signal)
        }
      } catch (error) {
        this.applier.reset()
        if (error instanceof HandlerError) {
          this.logger.error(error.message)
          // A retry would fail the same way: stop, and say so in _meta, as graph-node does.
          await this.o.repository.markIndexingError(this.o.chainId)
          throw error
        }
        failures++
        this.logger.warn(`indexer: ${describeError(error)}; retrying (attempt ${failures})`)
        await sleep(backoffMs({ attempt: failures, baseMs: 200, capMs: 10_000 }), signal)
        // Re-read the cursor: what the failed step held in memory may not have been committed.
        this.state = undefined
      }
    }
  }

  private async init(): Promise<void> {
    const stored = await this.o.repository.getSyncState(this.o.chainId)
    if (stored) {
      this.state = stored
      return
    }
    const start = minBig(...this.o.contracts.map((c) => c.startBlock))
    const cursor = await this.o.rpc.getBlock(start > 0n ? start - 1n : 0n)
    const state: SyncState = {
      chainId: this.o.chainId,
      blockNumber: cursor.number,
      blockHash: cursor.hash,
      blockTimestamp: cursor.timestamp,
      finalizedBlock: 0n,
      clock: cursor.timestamp,
    }
    await this.o.repository.writeBatch({ changes: [], events: [], blocks: [toBlockRow(cursor)], state })
    this.state = state
  }

  /** One round: backfill what is final, or follow the head. Returns true when caught up with the head. */
  private async step(): Promise<boolean> {
    const state = this.state as SyncState
    const head = await this.o.rpc.getBlock('latest')
    const finalized = await this.finalizedBlock(head)
    if (finalized > state.blockNumber) {
      // Backfilling over the cursor is only safe while the cursor block is still canonical. Checked even below the
      // finality depth: one request per step turns a finality violation into an ordinary rollback.
      const canonical = await this.o.rpc.getBlock(state.blockNumber).catch(() => undefined)
      if (canonical?.hash !== state.blockHash) {
        await this.reconcile(head)
        return false
      }
      await this.backfill(finalized)
      return false
    }
    if (head.number > state.blockNumber) {
      await this.follow(head, finalized)
      return head.number === this.state?.blockNumber
    }
    if (head.hash !== state.blockHash) await this.reconcile(head)
    return true
  }

  private async finalizedBlock(head: BlockHeader): Promise<bigint> {
    if (!this.finality) {
      const f = this.o.config.finality
      if (f.kind === 'depth') this.finality = { kind: 'depth', depth: BigInt(f.depth) }
      else if (f.kind === 'tag') this.finality = { kind: 'tag' }
      else {
        // Dev chains answer the finalized tag without meaning it; a depth is the honest choice there.
        const version = (await this.o.rpc.clientVersion()).toLowerCase()
        const dev = /anvil|hardhat|ganache/.test(version)
        const tag = dev ? undefined : await this.o.rpc.getBlock('finalized').catch(() => undefined)
        this.finality = tag ? { kind: 'tag' } : { kind: 'depth', depth: BigInt(f.depth) }
        this.logger.log(`finality: ${tag ? 'finalized tag' : `${f.depth} blocks`} (${version})`)
      }
    }
    if (this.finality.kind === 'tag') return (await this.o.rpc.getBlock('finalized')).number
    const n = head.number - this.finality.depth
    return n > 0n ? n : 0n
  }

  /** Backfills (cursor, target] in parallel ranges, committing every `batchEvents` events. */
  private async backfill(target: bigint): Promise<void> {
    const startState = this.state as SyncState
    const concurrency = this.o.config.getLogs.concurrency
    const queue: Promise<{ to: bigint; logs: RawLog[] } | Error>[] = []
    let next = startState.blockNumber + 1n
    let pending: ChainEvent[] = []
    let lastTo = startState.blockNumber
    // The bucket clock as of the blocks handed to a write (where the next batch's bucket boundaries are counted from),
    // and as of the events applied since, which count at it.
    let flushedClock = startState.clock
    let clock = startState.clock
    let lastFlush = Date.now()
    const began = Date.now()
    const total = target - startState.blockNumber
    let eventsDone = 0
    let lastLog = Date.now()

    // One write transaction in flight while the next chunk is fetched, decoded and applied. Writes stay in order,
    // and the store only takes (and evicts) after the previous write committed, so nothing evicted is re-read
    // before it is in the database.
    // The newest block with events of each range in the pending batch, with the hash its logs carried.
    let rangeTops = new Map<bigint, string>()
    let writing: Promise<void> = Promise.resolve()
    let writeError: Error | undefined
    const flush = async () => {
      const header = await this.o.rpc.getBlock(lastTo)
      // Ranges are fetched at different moments; if the chain reorganised below the finality depth meanwhile, the
      // batch would mix two chains. A block whose hash is still canonical has only canonical ancestors, so checking
      // each range's newest event block (and the cursor header again) proves the whole batch is one chain.
      for (const [n, hash] of rangeTops) {
        const canonical = await this.o.rpc.getBlock(n)
        if (canonical.hash !== hash) {
          throw new RetryableError(`block ${n} changed during backfill: the chain reorganised below the finality depth`)
        }
      }
      if ((await this.o.rpc.getBlock(lastTo)).hash !== header.hash) {
        throw new RetryableError(
          `block ${lastTo} changed during backfill: the chain reorganised below the finality depth`,
        )
      }
      rangeTops = new Map()
      await writing
      if (writeError) throw writeError
      const blocks = new Map<bigint, BlockRow>()
      for (const e of pending) {
        blocks.set(e.blockNumber, {
          number: e.blockNumber,
          hash: e.blockHash,
          parentHash: null,
          timestamp: e.timestamp,
        })
      }
      blocks.set(header.number, toBlockRow(header))
      const rollups = closedBuckets({ intervals: this.intervals, previous: flushedClock, blocks: [...blocks.values()] })
      clock = bucketClock(clock, header.timestamp)
      flushedClock = clock
      const state: SyncState = {
        chainId: this.o.chainId,
        blockNumber: header.number,
        blockHash: header.hash,
        blockTimestamp: header.timestamp,
        finalizedBlock: target,
        clock,
      }
      const events = pending
      pending = []
      lastFlush = Date.now()
      writing = this.o.repository
        .writeBatch(
          { changes: this.applier.takeChanges(), events, blocks: [...blocks.values()], state, rollups },
          { durable: false },
        )
        .then(
          () => {
            this.state = state
            eventsDone += events.length
            this.emit('block', state)
          },
          (error: Error) => {
            writeError = error
          },
        )
    }

    try {
      while (next <= target || queue.length > 0) {
        while (queue.length < concurrency && next <= target) {
          const from = next
          const to = from + this.range - 1n < target ? from + this.range - 1n : target
          queue.push(
            this.fetchRange(from, to).then(
              (logs) => ({ to, logs }),
              (e: Error) => e,
            ),
          )
          next = to + 1n
        }
        const chunk = await (queue.shift() as Promise<{ to: bigint; logs: RawLog[] } | Error>)
        if (chunk instanceof Error) {
          await Promise.allSettled(queue)
          throw chunk
        }
        const top = chunk.logs.at(-1)
        if (top) rangeTops.set(top.blockNumber, top.blockHash.toLowerCase())
        const events = await this.decode(chunk.logs)
        clock = await this.applier.apply(events, { clock })
        for (const e of events) pending.push(e)
        lastTo = chunk.to
        const done = next > target && queue.length === 0
        if (done || pending.length >= this.o.config.batchEvents || Date.now() - lastFlush > 5_000) await flush()
        if (Date.now() - lastLog > 5_000) {
          lastLog = Date.now()
          const secs = (Date.now() - began) / 1000
          const blocksDone = lastTo - startState.blockNumber
          const rate = Number(blocksDone) / secs
          const eta = rate > 0 ? Number(target - lastTo) / rate : 0
          this.logger.log(
            `backfill: block ${lastTo}/${target} (${((Number(blocksDone) / Number(total)) * 100).toFixed(1)}%), ` +
              `${Math.round((eventsDone + pending.length) / secs)} events/s, ETA ${Math.round(eta)} s`,
          )
        }
      }
      await writing
      if (writeError) throw writeError
    } finally {
      // Never leave a write running: the caller re-reads the cursor after a failure.
      await writing
    }
  }

  /**
   * eth_getLogs over [from, to], splitting the range while the provider says it is too large. Later ranges follow
   * the result size too: shrink when a response is far above the target, widen after a run of small ones, so
   * memory stays bounded on dense chains and requests stay few on sparse ones.
   */
  private async fetchRange(from: bigint, to: bigint): Promise<RawLog[]> {
    const { maxRange, targetLogs } = this.o.config.getLogs
    try {
      const logs = await this.o.rpc.getLogs({ addresses: this.addresses, fromBlock: from, toBlock: to })
      const span = to - from + 1n
      if (logs.length > targetLogs * 2) {
        const scaled = (span * BigInt(targetLogs)) / BigInt(logs.length)
        this.range = scaled > 0n ? scaled : 1n
        this.rangeSuccesses = 0
      } else if (logs.length < targetLogs / 2 && ++this.rangeSuccesses % 4 === 0 && this.range < BigInt(maxRange)) {
        this.range = this.range * 2n < BigInt(maxRange) ? this.range * 2n : BigInt(maxRange)
      }
      return logs
    } catch (error) {
      if (!(error instanceof RangeTooLargeError) || from === to) throw error
      const suggestedTo =
        error.suggested && error.suggested.to > from && error.suggested.to < to ? error.suggested.to : undefined
      const mid = suggestedTo ?? from + (to - from) / 2n
      const size = mid - from + 1n
      if (size < this.range) this.range = size > 0n ? size : 1n
      this.rangeSuccesses = 0
      const left = await this.fetchRange(from, mid)
      const right = await this.fetchRange(mid + 1n, to)
      return left.concat(right)
    }
  }

  /** Follows the head one block at a time, checking that each block's parent is the cursor. */
  private async follow(head: BlockHeader, finalized: bigint): Promise<void> {
    let state = this.state as SyncState
    const last = head.number - state.blockNumber > 100n ? state.blockNumber + 100n : head.number
    for (let n = state.blockNumber + 1n; n <= last; n++) {
      const block = n === head.number ? head : await this.o.rpc.getBlock(n)
      if (block.parentHash !== state.blockHash) {
        await this.reconcile(head)
        return
      }
      const logs = await this.o.rpc.getLogsByBlockHash({ addresses: this.addresses, blockHash: block.hash })
      if (logs.some((l) => l.blockHash.toLowerCase() !== block.hash)) {
        throw new Error(`logs for block ${n} came back for another block hash`)
      }
      const events = await this.decode(logs, block.timestamp)
      await this.applier.apply(events, { clock: state.clock })
      const next: SyncState = {
        chainId: this.o.chainId,
        blockNumber: block.number,
        blockHash: block.hash,
        blockTimestamp: block.timestamp,
        finalizedBlock: finalized,
        clock: bucketClock(state.clock, block.timestamp),
      }
      await this.o.repository.writeBatch({
        changes: this.applier.takeChanges(),
        events,
        blocks: [toBlockRow(block)],
        state: next,
        rollups: closedBuckets({ intervals: this.intervals, previous: state.clock, blocks: [block] }),
      })
      this.state = state = next
      this.emit('block', next)
    }
  }

  /** Finds the newest stored block still on the canonical chain and rolls everything after it back. */
  private async reconcile(head: BlockHeader): Promise<void> {
    const state = this.state as SyncState
    const stored = await this.o.repository.blocksFrom(
      this.o.chainId,
      state.finalizedBlock > 1000n ? state.finalizedBlock - 1000n : 0n,
    )
    for (const b of stored) {
      if (b.number > head.number) continue
      const canonical = await this.o.rpc.getBlock(b.number).catch(() => undefined)
      if (canonical?.hash !== b.hash) continue
      const ancestor = {
        chainId: this.o.chainId,
        blockNumber: b.number,
        blockHash: b.hash,
        blockTimestamp: b.timestamp,
        finalizedBlock: minBig(state.finalizedBlock, b.number),
      }
      this.logger.warn(
        `reorg: rolling back blocks ${b.number + 1n}..${state.blockNumber} to common ancestor ${b.number}`,
      )
      const rolledBack = await this.o.repository.rollbackTo(ancestor)
      this.applier.reset()
      this.state = rolledBack
      this.emit('reorg', { ancestor: b.number, orphanedHead: state.blockNumber })
      return
    }
    throw new HandlerError(
      `reorg deeper than the stored blocks: no common ancestor at or below block ${state.blockNumber}`,
    )
  }

  private async decode(logs: RawLog[], blockTimestamp?: bigint): Promise<ChainEvent[]> {
    const missing = new Set<bigint>()
    if (blockTimestamp === undefined)
      for (const l of logs) if (l.blockTimestamp === undefined) missing.add(l.blockNumber)
    const timestamps = new Map<bigint, bigint>()
    // Providers that omit blockTimestamp from logs cost one header per block with events.
    for (const n of missing) timestamps.set(n, (await this.o.rpc.getBlock(n)).timestamp)
    const out: ChainEvent[] = []
    for (const log of logs) {
      if (log.removed) continue
      const ts = blockTimestamp ?? log.blockTimestamp ?? (timestamps.get(log.blockNumber) as bigint)
      const event = decodeLog(log, this.o.chainId, ts)
      if (event) out.push(event)
    }
    return out
  }
}

const minBig = (...xs: bigint[]) => xs.reduce((m, x) => (x < m ? x : m))

function toBlockRow(b: BlockHeader): BlockRow {
  return { number: b.number, hash: b.hash, parentHash: b.parentHash, timestamp: b.timestamp }
}
