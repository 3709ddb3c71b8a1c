import { sql } from 'drizzle-orm'
import type { Database } from '../db/database'

/** The reads the indexer metrics need: the stored cursor and event counts by block range. */
export class MetricsRepository {
  constructor(private readonly database: Database) {}

  /** The committed cursor, or null before the indexer's first commit. */
  async cursor(): Promise<bigint | null> {
    const [row] = await this.database.query<{ n: string }>(
      sql`select block_number::text as n from sync_state order by chain_id limit 1`,
    )
    return row ? BigInt(row.n) : null
  }

  /** The oldest stored block: the cursor the indexer starts from on an empty database. */
  async firstBlock(chainId: number): Promise<bigint | null> {
    const [row] = await this.database.query<{ n: string | null }>(
      sql`select min(number)::text as n from block where chain_id = ${chainId}`,
    )
    return row?.n ? BigInt(row.n) : null
  }

  /** Events stored in blocks (after, upTo]; the primary key's leading columns make it a range scan. */
  async countEvents({ chainId, after, upTo }: { chainId: number; after: bigint; upTo: bigint }): Promise<number> {
    const [row] = await this.database.query<{ n: string }>(
      sql`select count(*)::text as n from chain_event
        where chain_id = ${chainId} and block_number > ${after} and block_number <= ${upTo}`,
    )
    return Number(row?.n ?? 0)
  }
}
