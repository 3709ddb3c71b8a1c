import type { Indexer } from '../indexer/indexer'
import type { GatewayMetrics } from './metrics'
import type { MetricsRepository } from './metrics.repository'

export interface IndexerTracking {
  /** Resolves once the counters include every event the indexer has emitted so far. */
  settled(): Promise<void>
}

/**
 * Counts blocks, events and reorgs from the indexer's 'block' and 'reorg' events. A 'block' event carries only the
 * new cursor, so the blocks in a commit are the distance from the previous cursor and its events are counted in the
 * database over that range; updates run one at a time, in the order the indexer emitted them.
 */
export function trackIndexer({
  indexer,
  metrics,
  repository,
  onError,
}: {
  indexer: Indexer
  metrics: GatewayMetrics
  repository: MetricsRepository
  onError: (error: Error) => void
}): IndexerTracking {
  // Read before the indexer's first step can commit: it starts from this cursor.
  let previous: Promise<bigint | null> | bigint | null = indexer.state?.blockNumber ?? repository.cursor()
  let queue: Promise<void> = Promise.resolve()
  const enqueue = (work: () => Promise<void>) => {
    queue = queue.then(work).catch(onError)
  }
  indexer.on('block', (state) => {
    enqueue(async () => {
      // On an empty database the indexer's first cursor is the block before the earliest start block, stored as is.
      const after = (await previous) ?? (await repository.firstBlock(state.chainId)) ?? state.blockNumber
      previous = state.blockNumber
      if (state.blockNumber <= after) return
      metrics.blocks.inc(Number(state.blockNumber - after))
      const events = await repository.countEvents({ chainId: state.chainId, after, upTo: state.blockNumber })
      if (events > 0) metrics.events.inc(events)
    })
  })
  indexer.on('reorg', ({ ancestor, orphanedHead }) => {
    enqueue(async () => {
      previous = ancestor
      metrics.reorgs.inc()
      metrics.rolledBackBlocks.inc(Number(orphanedHead - ancestor))
    })
  })
  return { settled: () => queue }
}
