import type { LocalNetwork } from '@computegraph/contracts/fixture'
import { sql } from 'drizzle-orm'
import type { Database } from '../../db/database'
import { aggregationTable, type SchemaModel } from '../../db/entity-model'
import type { Indexer } from '../indexer'

/** Waits until the indexer's committed cursor satisfies `done`. */
export async function waitForCursor(
  indexer: Indexer,
  done: (block: bigint, hash: string) => boolean,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs
  while (!(indexer.state && done(indexer.state.blockNumber, indexer.state.blockHash))) {
    if (Date.now() > deadline) throw new Error(`indexer stuck at block ${indexer.state?.blockNumber}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Waits until the indexer has committed the chain's current head (by number and hash). */
export async function waitForHead(indexer: Indexer, net: LocalNetwork, timeoutMs = 60_000) {
  const head = await net.publicClient.getBlock()
  await waitForCursor(indexer, (n, h) => n === head.number && h === head.hash, timeoutMs)
  return head.number
}

/** Stored events or blocks whose hash is not the canonical chain's: anything left from an orphaned block. */
export async function orphansLeft(database: Database, net: LocalNetwork): Promise<string[]> {
  const rows = await database.query<{ number: string; hash: string; what: string }>(sql`
    select distinct block_number::text as number, block_hash as hash, 'event' as what from chain_event
    union select number::text, hash, 'block' from block`)
  const out: string[] = []
  for (const r of rows) {
    const canonical = await net.publicClient.getBlock({ blockNumber: BigInt(r.number) }).catch(() => undefined)
    if (canonical?.hash !== r.hash) out.push(`${r.what} at block ${r.number} has orphaned hash ${r.hash}`)
  }
  return out
}

/**
 * Every entity version and statistics bucket (and, with `events`, every stored event) in a canonical order, without
 * vids: two databases that hold the same index dump equal. `closingBlocks: false` leaves out the block that closed
 * each bucket: it is the first block the indexer stored at or past the bucket's end, and which blocks a run stores
 * (batch ends, blocks followed at the head) depends on where it stopped and resumed, while the buckets do not (on a
 * chain whose block times never go back: see rollup.ts's bucketClock).
 */
export async function dumpIndex(
  database: Database,
  model: SchemaModel,
  { events = false, closingBlocks = true } = {},
): Promise<string[]> {
  const out: string[] = []
  for (const e of model.entities) {
    const cols = e.fields.map((f) => `"${f.column}"`).join(', ')
    const rows = await database.query(
      sql.raw(`select ${cols}, block_from, block_to from "${e.table}" order by id, block_from`),
    )
    for (const r of rows) out.push(`${e.name} ${JSON.stringify(r)}`)
  }
  for (const a of model.aggregations) {
    for (const interval of a.intervals) {
      const cols = a.fields.map((f) => `"${f.column}"`).join(', ')
      const order = [...a.dimensions.map((d) => `"${d.column}"`), 'timestamp'].join(', ')
      const rows = await database.query(
        sql.raw(
          `select ${cols}${closingBlocks ? ', block_from' : ''} from "${aggregationTable(a, interval)}" order by ${order}`,
        ),
      )
      for (const r of rows) out.push(`${a.name}_${interval} ${JSON.stringify(r)}`)
    }
  }
  if (events) {
    const rows = await database.query(
      sql`select block_number, log_index, block_hash, name, args from chain_event order by 1, 2`,
    )
    for (const r of rows) out.push(`event ${JSON.stringify(r)}`)
  }
  return out
}
