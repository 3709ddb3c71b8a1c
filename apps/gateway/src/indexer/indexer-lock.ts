import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { sleep } from '../common/errors'
import type { Db } from '../db/database'
import * as schema from '../db/schema'

/** pg_advisory_lock key of the indexer: "cgindexr" read as a 64-bit integer. */
export const INDEXER_LOCK_KEY = 0x6367696e64657872n

export interface IndexerLock {
  /** The connection that holds the lock; the indexer writes through it, so losing one loses the other. */
  db: Db
  /** Resolves if the lock is lost (the connection died). */
  lost: Promise<Error>
  release(): Promise<void>
}

/**
 * Takes the one-indexer-per-database lock on Postgres, waiting while another process holds it. A session-level
 * advisory lock is released by the server when its holder dies, so a waiting instance takes over.
 */
export async function acquirePostgresIndexerLock({
  databaseUrl,
  signal,
  onWait,
  pollMs = 1_000,
}: {
  databaseUrl: string
  signal?: AbortSignal
  onWait?: () => void
  pollMs?: number
}): Promise<IndexerLock> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'computegraph-indexer' })
  await client.connect()
  let lostResolve: (e: Error) => void = () => {}
  const lost = new Promise<Error>((r) => {
    lostResolve = r
  })
  client.on('error', (e) => lostResolve(e))
  client.on('end', () => lostResolve(new Error('indexer lock connection closed')))
  let waited = false
  for (;;) {
    const { rows } = await client.query('select pg_try_advisory_lock($1) as ok', [INDEXER_LOCK_KEY.toString()])
    if (rows[0]?.ok) break
    if (!waited) onWait?.()
    waited = true
    if (signal?.aborted) {
      await client.end()
      throw new Error('aborted while waiting for the indexer lock')
    }
    await sleep(pollMs, signal)
  }
  return {
    db: drizzle(client, { schema }) as unknown as Db,
    lost,
    release: async () => {
      await client.query('select pg_advisory_unlock($1)', [INDEXER_LOCK_KEY.toString()]).catch(() => {})
      await client.end().catch(() => {})
    },
  }
}
