import type { Db } from '../db/database'
import type { SchemaModel } from '../db/entity-model'
import { EventApplier } from './event-applier'
import type { HandlerEnv } from './handlers'
import { IndexerRepository } from './indexer.repository'
import { bucketClock, closedBuckets, rollupIntervals } from './rollup'

/**
 * Rebuilds every entity table from the stored event table, without the RPC: for when handler logic changes.
 * Run it while no indexer writes the database (the CLI takes the indexer lock first).
 */
export async function rebuildEntities({
  db,
  model,
  chainId,
  env,
  pageSize = 10_000,
  onProgress,
}: {
  db: Db
  model: SchemaModel
  chainId: number
  env: HandlerEnv
  pageSize?: number
  onProgress?: (p: { events: number; block: bigint }) => void
}): Promise<{ events: number }> {
  const repository = new IndexerRepository(db, model)
  const applier = new EventApplier(repository, model, env)
  await repository.truncateEntities()
  let after = { block: -1n, logIndex: -1 }
  let total = 0
  // Data points count at the bucket clock, which every stored block raises (those without events too), as live.
  let clock = 0n
  for (;;) {
    const events = await repository.readEvents(chainId, after, pageSize)
    if (events.length === 0) break
    const last = events.at(-1) as (typeof events)[number]
    const blocks = await repository.blocksBetween(chainId, after.block, last.blockNumber)
    clock = await applier.apply(events, { clock, blocks })
    await repository.writeEntityChanges(applier.takeChanges())
    after = { block: last.blockNumber, logIndex: last.logIndex }
    total += events.length
    onProgress?.({ events: total, block: last.blockNumber })
  }
  // With every data point stored, the buckets are rolled up at the stored blocks that closed them, as they were live.
  const intervals = rollupIntervals(model)
  let previous: { number: bigint; clock: bigint } | undefined
  for (;;) {
    const blocks = await repository.blocksAfter(chainId, previous?.number ?? -1n, pageSize)
    const first = blocks[0]
    if (!first) break
    const start = previous?.clock ?? first.timestamp
    await repository.writeRollups(
      closedBuckets({ intervals, previous: start, blocks: previous ? blocks : blocks.slice(1) }),
    )
    const end = blocks.at(-1) as (typeof blocks)[number]
    previous = { number: end.number, clock: blocks.reduce((c, b) => bucketClock(c, b.timestamp), start) }
  }
  return { events: total }
}
