import type { Db } from '../db/database'
import type { SchemaModel } from '../db/entity-model'
import { EventApplier } from './event-applier'
import type { HandlerEnv } from './handlers'
import { IndexerRepository } from './indexer.repository'
import { closedBuckets, rollupIntervals } from './rollup'

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
  for (;;) {
    const events = await repository.readEvents(chainId, after, pageSize)
    if (events.length === 0) break
    await applier.apply(events)
    await repository.writeEntityChanges(applier.takeChanges())
    const last = events.at(-1) as (typeof events)[number]
    after = { block: last.blockNumber, logIndex: last.logIndex }
    total += events.length
    onProgress?.({ events: total, block: last.blockNumber })
  }
  // With every data point stored, the buckets are rolled up at the stored blocks that closed them, as they were live.
  const intervals = rollupIntervals(model)
  let previous: { number: bigint; timestamp: bigint } | undefined
  for (;;) {
    const blocks = await repository.blocksAfter(chainId, previous?.number ?? -1n, pageSize)
    if (blocks.length === 0) break
    const first = blocks[0] as (typeof blocks)[number]
    await repository.writeRollups(
      closedBuckets({
        intervals,
        previous: (previous ?? first).timestamp,
        blocks: previous ? blocks : blocks.slice(1),
      }),
    )
    previous = blocks.at(-1)
  }
  return { events: total }
}
