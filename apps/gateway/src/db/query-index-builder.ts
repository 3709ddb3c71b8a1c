import { sql } from 'drizzle-orm'
import type { Database } from './database'
import { createIndexSql, type QueryIndex } from './query-indexes'

/** The query indexes not yet usable in the database: missing, or left invalid by an interrupted concurrent build. */
export async function missingQueryIndexes({
  database,
  indexes,
}: {
  database: Database
  indexes: QueryIndex[]
}): Promise<QueryIndex[]> {
  const rows = await database.query<{ name: string }>(sql`select c.relname as name from pg_index i
    join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and i.indisvalid
      and c.relname in (select json_array_elements_text(${JSON.stringify(indexes.map((i) => i.name))}::json))`)
  const valid = new Set(rows.map((r) => r.name))
  return indexes.filter((i) => !valid.has(i.name))
}

/**
 * Builds the query indexes the database lacks, one at a time: concurrently on Postgres, so that the indexer's writes
 * and the API's reads go on meanwhile; plainly on PGlite, which has one connection and no concurrent builds.
 */
export async function buildQueryIndexes({
  database,
  indexes,
  signal,
  onBuilt,
}: {
  database: Database
  indexes: QueryIndex[]
  signal?: AbortSignal
  onBuilt?: (index: QueryIndex) => void
}): Promise<void> {
  const concurrently = database.kind === 'postgres'
  for (const index of await missingQueryIndexes({ database, indexes })) {
    if (signal?.aborted) return
    // A concurrent build that was interrupted leaves an invalid index that `if not exists` would keep.
    if (concurrently) await database.query(sql.raw(`drop index concurrently if exists "${index.name}"`))
    await database.query(sql.raw(createIndexSql({ index, concurrently })))
    onBuilt?.(index)
  }
}
