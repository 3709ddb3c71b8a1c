import { Inject, Injectable } from '@nestjs/common'
import { type SQL, sql } from 'drizzle-orm'
import type { Database } from '../db/database'
import { DATABASE } from '../db/db.module'
import type { EntityModel, Interval } from '../db/entity-model'
import type { AggregationApi, ApiModel, EntityApi, Relation } from './api-model'
import { UnavailableError } from './graphql.errors'
import type { BlockScope } from './sql/block-range'
import { aggregationStatement, byIdsStatement, type ListArgs, listStatement, relatedStatement } from './sql/statements'

export type EntityRow = Record<string, unknown>

export interface SyncStateRow {
  chainId: number
  number: bigint
  hash: string
  timestamp: bigint
  hasIndexingErrors: boolean
}

export interface StoredBlock {
  number: bigint
  hash: string
  parentHash: string | null
  timestamp: bigint
}

// Postgres SQLSTATEs (and socket errors) after which a retry may succeed.
const STATEMENT_TIMEOUT = '57014'
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', 'ECONNREFUSED'])

/** Database failures a client can act on become UnavailableError (with the cause kept); the rest pass through. */
export function storeError(error: unknown): unknown {
  // drizzle wraps the driver's error ("Failed query: …"); the SQLSTATE is on its cause.
  const e = error as { code?: string; cause?: { code?: string } }
  const code = e.code ?? e.cause?.code
  if (code === STATEMENT_TIMEOUT) {
    return new UnavailableError(
      'The query ran past the database statement timeout; narrow it with where, first or block',
      {
        cause: error,
      },
    )
  }
  if (code && UNAVAILABLE_CODES.has(code)) return new UnavailableError('The database is unavailable', { cause: error })
  return error
}

/** Reads entities, blocks and the sync cursor for the GraphQL API; statements come from ./sql, one per call. */
@Injectable()
export class EntityRepository {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  list(args: { api: ApiModel; entity: EntityApi; args: ListArgs; block: BlockScope }): Promise<EntityRow[]> {
    return this.run(listStatement(args))
  }

  aggregation(args: {
    api: ApiModel
    aggregation: AggregationApi
    interval: Interval
    current: boolean
    args: ListArgs
    block: BlockScope
    chainId: number | null
  }): Promise<EntityRow[]> {
    return this.run(aggregationStatement(args))
  }

  byIds(args: { entity: EntityModel; ids: string[]; block: BlockScope }): Promise<EntityRow[]> {
    return this.run(byIdsStatement(args))
  }

  /** Rows carry `_parent`, the id of the parent they belong to. */
  related(args: {
    api: ApiModel
    relation: Extract<Relation, { kind: 'derived' }>
    parentIds: string[]
    args: ListArgs
    block: BlockScope
  }): Promise<EntityRow[]> {
    return this.run(relatedStatement(args))
  }

  /** The cursor of `chainId`, or of the only chain indexed when none is given. */
  async syncState(chainId?: number): Promise<SyncStateRow | null> {
    const rows =
      await this.run(sql`select chain_id, block_number::text, block_hash, block_timestamp::text, has_indexing_errors
      from sync_state ${chainId === undefined ? sql`` : sql`where chain_id = ${chainId}`} order by chain_id limit 1`)
    const r = rows[0]
    if (!r) return null
    return {
      chainId: Number(r.chain_id),
      number: BigInt(r.block_number as string),
      hash: r.block_hash as string,
      timestamp: BigInt(r.block_timestamp as string),
      hasIndexingErrors: r.has_indexing_errors === true,
    }
  }

  async blockByHash({ chainId, hash }: { chainId: number; hash: string }): Promise<StoredBlock | null> {
    const rows = await this.run(sql`select number::text, hash, parent_hash, timestamp::text from block
      where chain_id = ${chainId} and hash = ${hash}`)
    return rows[0] ? toBlock(rows[0]) : null
  }

  /**
   * The stored block at `number` (if the indexer kept it) and the cursor's error flag, in one statement. Blocks
   * stored during backfill lack a parent hash; the stored block before them, canonical like every stored one, has it.
   */
  async metaAt({ chainId, number }: { chainId: number; number: bigint }) {
    const n = number.toString()
    const rows = await this.run(sql`select s.has_indexing_errors, b.number::text, b.hash,
        coalesce(b.parent_hash, p.hash) as parent_hash, b.timestamp::text
      from sync_state s
      left join block b on b.chain_id = s.chain_id and b.number = ${n}::int8
      left join block p on p.chain_id = s.chain_id and p.number = ${n}::int8 - 1
      where s.chain_id = ${chainId}`)
    const r = rows[0]
    return {
      hasIndexingErrors: r?.has_indexing_errors === true,
      block: r?.hash ? toBlock(r) : null,
    }
  }

  private async run(statement: SQL): Promise<EntityRow[]> {
    try {
      return await this.database.query<EntityRow>(statement)
    } catch (error) {
      throw storeError(error)
    }
  }
}

const toBlock = (r: EntityRow): StoredBlock => ({
  number: BigInt(r.number as string),
  hash: r.hash as string,
  parentHash: (r.parent_hash as string | null) ?? null,
  timestamp: BigInt(r.timestamp as string),
})
