import type { EventEmitter } from 'node:events'
import type { Database } from '../db/database'
import { buildQueryIndexes, missingQueryIndexes } from '../db/query-index-builder'
import type { QueryIndex } from '../db/query-indexes'
import type { IndexerEvents, Logger } from './indexer'

/** Where the query indexes stand, for `/ready` and operators: the API answers throughout, slower until `ready`. */
export interface QueryIndexStatus {
  state: 'waiting for catch-up' | 'building' | 'ready' | 'failed'
  built: number
  total: number
  error?: string
}

/**
 * Builds the query indexes once the indexer first catches up with the head, as Ponder does: during the backfill every
 * index would cost each batch its writes, and a build over the finished table is one sort. Once built, Postgres keeps
 * them up to date block by block. Resolves when the build ends or `signal` aborts; a failed build is reported, not
 * thrown: the indexer and the API go on without the indexes.
 */
export function buildQueryIndexesAfterCatchUp({
  indexer,
  database,
  indexes,
  signal,
  logger,
  onStatus,
}: {
  indexer: EventEmitter<IndexerEvents>
  database: Database
  indexes: QueryIndex[]
  signal: AbortSignal
  logger: Logger
  onStatus?: (status: QueryIndexStatus) => void
}): Promise<void> {
  const total = indexes.length
  onStatus?.({ state: 'waiting for catch-up', built: 0, total })
  return new Promise<void>((resolve) => {
    const stop = () => {
      indexer.off('synced', start)
      resolve()
    }
    const start = () => {
      indexer.off('synced', start)
      signal.removeEventListener('abort', stop)
      void build().finally(resolve)
    }
    const build = async () => {
      try {
        const missing = await missingQueryIndexes({ database, indexes })
        let built = total - missing.length
        if (missing.length > 0) {
          logger.log(`caught up: building ${missing.length} query indexes`)
          onStatus?.({ state: 'building', built, total })
        }
        await buildQueryIndexes({
          database,
          indexes: missing,
          signal,
          onBuilt: () => onStatus?.({ state: 'building', built: ++built, total }),
        })
        if (signal.aborted) return
        if (missing.length > 0) logger.log(`query indexes built (${total})`)
        onStatus?.({ state: 'ready', built: total, total })
      } catch (error) {
        if (signal.aborted) return
        const message = (error as Error).message
        logger.error(`query indexes: build failed, queries stay slow until a restart builds them: ${message}`)
        onStatus?.({ state: 'failed', built: total - (await missingCount()), total, error: message })
      }
    }
    const missingCount = () =>
      missingQueryIndexes({ database, indexes }).then(
        (m) => m.length,
        () => total,
      )
    if (signal.aborted) return resolve()
    signal.addEventListener('abort', stop, { once: true })
    indexer.on('synced', start)
  })
}
