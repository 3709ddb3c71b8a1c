import { type SQL, sql } from 'drizzle-orm'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { Db } from '../db/database'
import {
  aggregationTable,
  type EntityField,
  type EntityModel,
  type ScalarKind,
  type SchemaModel,
} from '../db/entity-model'
import type { EntityChanges, Row } from './entity-store'
import { argsFromJson, argsToJson, type ChainEvent, type IndexedContract } from './events'
import { type ClosedBucket, rollupStatement } from './rollup'

const SQL_TYPES: Record<ScalarKind, string> = {
  id: 'text',
  bytes: 'text',
  string: 'text',
  enum: 'text',
  bigint: 'numeric(78,0)',
  boolean: 'boolean',
  int: 'int4',
  int8: 'int8',
  timestamp: 'int8',
}

const EVENT_COLUMNS = [
  'chain_id',
  'block_number',
  'log_index',
  'block_hash',
  'transaction_hash',
  'transaction_index',
  'address',
  'contract',
  'name',
  'args',
  'timestamp',
]
const EVENT_TYPES = ['int4', 'int8', 'int4', 'text', 'text', 'int4', 'text', 'text', 'text', 'jsonb', 'int8']

export interface SyncState {
  chainId: number
  blockNumber: bigint
  blockHash: string
  blockTimestamp: bigint
  finalizedBlock: bigint
  /** The bucket clock at the cursor (rollup.ts's bucketClock): the latest stored block time, derived, not stored. */
  clock: bigint
}

export interface BlockRow {
  number: bigint
  hash: string
  parentHash: string | null
  timestamp: bigint
}

export interface Batch {
  changes: EntityChanges[]
  events: ChainEvent[]
  blocks: BlockRow[]
  /** The cursor after the batch (its bucket clock follows from the stored blocks). */
  state: Omit<SyncState, 'clock'>
  /** Statistics buckets the batch's blocks close, rolled up after its data points are written. */
  rollups?: ClosedBucket[]
}

/** A value in COPY's text format: \N for null, backslash escapes for the characters COPY reserves. */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N'
  if (typeof v === 'boolean') return v ? 't' : 'f'
  const text = typeof v === 'object' ? json(v) : String(v)
  return /[\\\t\n\r]/.test(text)
    ? text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : text
}

/** The node-postgres connection under a drizzle transaction, when there is one (not on PGlite). */
function pgClientOf(tx: Db): pg.ClientBase | undefined {
  const client = (tx as unknown as { session?: { client?: unknown } }).session?.client
  return client instanceof pg.Client ? client : undefined
}

/**
 * Inserts rows in bulk: COPY on Postgres (about twice json_to_recordset's rate), one JSON parameter per chunk on
 * PGlite. `types` are the SQL types of `columns`, for the JSON path.
 */
async function bulkInsert(tx: Db, table: string, columns: string[], types: string[], rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return
  const cols = columns.map((c) => `"${c}"`).join(', ')
  const client = pgClientOf(tx)
  if (client) {
    await new Promise<void>((resolve, reject) => {
      const stream = client.query(copyFrom(`copy "${table}" (${cols}) from stdin`))
      stream.on('error', reject)
      stream.on('finish', () => resolve())
      for (let i = 0; i < rows.length; i += 2_000) {
        let chunk = ''
        for (const row of rows.slice(i, i + 2_000)) chunk += `${row.map(copyValue).join('\t')}\n`
        stream.write(chunk)
      }
      stream.end()
    })
    return
  }
  const defs = columns.map((c, i) => `"${c}" ${types[i]}`).join(', ')
  for (let i = 0; i < rows.length; i += 5_000) {
    const records = rows.slice(i, i + 5_000).map((row) => Object.fromEntries(columns.map((c, j) => [c, row[j]])))
    await tx.execute(
      sql`insert into ${ident(table)} (${sql.raw(cols)}) select ${sql.raw(cols)} from json_to_recordset(${json(records)}::json) as x(${sql.raw(defs)})`,
    )
  }
}

const ident = (s: string) => sql.raw(`"${s.replace(/"/g, '""')}"`)
const json = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x))

function fromDb(field: EntityField, v: unknown): unknown {
  if (v === null || v === undefined) return null
  switch (field.kind) {
    case 'bigint':
    case 'int8':
    case 'timestamp':
      return BigInt(v as string)
    case 'int':
      return Number(v)
    default:
      return v
  }
}

/** The only place the indexer talks SQL: bulk reads and writes of entities, events, blocks and the cursor. */
export class IndexerRepository {
  constructor(
    private readonly db: Db,
    private readonly model: SchemaModel,
  ) {}

  async getSyncState(chainId: number): Promise<SyncState | undefined> {
    return this.syncState(this.db, chainId)
  }

  private async syncState(db: Db, chainId: number): Promise<SyncState | undefined> {
    // Stored blocks end at the cursor (they commit with it and roll back with it); block_timestamp's index on
    // (chain_id, timestamp) finds their latest time without a scan.
    const result = (await db.execute(sql`select s.*, (select max(b.timestamp) from block b
      where b.chain_id = s.chain_id and b.number <= s.block_number)::text as clock
      from sync_state s where s.chain_id = ${chainId}`)) as unknown as { rows: Record<string, unknown>[] }
    const r = result.rows[0]
    if (!r) return undefined
    const blockTimestamp = BigInt(r.block_timestamp as string)
    return {
      chainId,
      blockNumber: BigInt(r.block_number as string),
      blockHash: r.block_hash as string,
      blockTimestamp,
      finalizedBlock: BigInt(r.finalized_block as string),
      clock: r.clock === null ? blockTimestamp : BigInt(r.clock as string),
    }
  }

  /** Current versions of `ids`, one query. */
  async loadCurrent(entity: EntityModel, ids: string[]): Promise<{ row: Row; blockFrom: bigint }[]> {
    if (ids.length === 0) return []
    const rows = await this.rows(
      sql`select * from ${ident(entity.table)} where block_to is null and id in (select json_array_elements_text(${json(ids)}::json))`,
    )
    return rows.map((r) => ({ row: this.toRow(entity, r), blockFrom: BigInt(r.block_from as string) }))
  }

  toRow(entity: EntityModel, r: Record<string, unknown>): Row {
    const row: Record<string, unknown> = {}
    for (const f of entity.fields) row[f.name] = fromDb(f, r[f.column])
    return row as Row
  }

  /**
   * Writes a batch and moves the cursor in one transaction: a crash leaves either all of it or none. `durable: false`
   * (backfill) skips the wait for the WAL flush: a Postgres crash may then lose the latest commits, but never part
   * of one, and the indexer re-derives them from the cursor it finds.
   */
  async writeBatch(batch: Batch, { durable = true }: { durable?: boolean } = {}): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (!durable) await tx.execute(sql`set local synchronous_commit = off`)
      for (const c of batch.changes) await this.writeChanges(tx as unknown as Db, c)
      await this.rollUp(tx as unknown as Db, batch.rollups ?? [])
      await this.insertEvents(tx as unknown as Db, batch.events)
      await this.upsertBlocks(tx as unknown as Db, batch.state.chainId, batch.blocks)
      await this.saveState(tx as unknown as Db, batch.state)
    })
  }

  /** Writes entity versions only (the rebuild path: events and cursor are already stored). */
  async writeEntityChanges(changes: EntityChanges[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const c of changes) await this.writeChanges(tx as unknown as Db, c)
    })
  }

  /** Rolls up closed statistics buckets (the rebuild path: the data points are already stored). */
  async writeRollups(buckets: ClosedBucket[]): Promise<void> {
    if (buckets.length === 0) return
    await this.db.transaction(async (tx) => this.rollUp(tx as unknown as Db, buckets))
  }

  /** One statement per aggregation and interval that has buckets to roll up. */
  private async rollUp(tx: Db, buckets: ClosedBucket[]): Promise<void> {
    if (buckets.length === 0) return
    for (const aggregation of this.model.aggregations) {
      for (const interval of aggregation.intervals) {
        const mine = buckets.filter((b) => b.interval === interval)
        if (mine.length > 0) await tx.execute(rollupStatement({ aggregation, interval, buckets: mine }))
      }
    }
  }

  private async writeChanges(tx: Db, c: EntityChanges): Promise<void> {
    const t = ident(c.entity.table)
    if (c.replace.length > 0) {
      await tx.execute(sql`delete from ${t} using json_to_recordset(${json(c.replace)}::json) as x(id text, "blockFrom" int8)
        where ${t}.id = x.id and ${t}.block_from = x."blockFrom" and ${t}.block_to is null`)
    }
    if (c.close.length > 0) {
      await tx.execute(sql`update ${t} set block_to = x."blockTo" from json_to_recordset(${json(c.close)}::json) as x(id text, "blockTo" int8)
        where ${t}.id = x.id and ${t}.block_to is null`)
    }
    const fields = c.entity.fields
    const columns = [...fields.map((f) => f.column), 'block_from', 'block_to']
    const types = [...fields.map((f) => SQL_TYPES[f.kind]), 'int8', 'int8']
    const rows = c.insert.map((v) => [...fields.map((f) => v.row[f.name] ?? null), v.blockFrom, v.blockTo])
    await bulkInsert(tx, c.entity.table, columns, types, rows)
  }

  private async insertEvents(tx: Db, events: ChainEvent[]): Promise<void> {
    // Events and the cursor commit together, so an event is never written twice: a plain insert suffices.
    await bulkInsert(
      tx,
      'chain_event',
      EVENT_COLUMNS,
      EVENT_TYPES,
      events.map((e) => [
        e.chainId,
        e.blockNumber,
        e.logIndex,
        e.blockHash,
        e.transactionHash,
        e.transactionIndex,
        e.address,
        e.contract,
        e.name,
        argsToJson(e.args),
        e.timestamp,
      ]),
    )
  }

  private async upsertBlocks(tx: Db, chainId: number, blocks: BlockRow[]): Promise<void> {
    if (blocks.length === 0) return
    await tx.execute(sql`insert into block (chain_id, number, hash, parent_hash, timestamp)
      select ${chainId}, n, h, p, t from json_to_recordset(${json(blocks.map((b) => ({ n: b.number, h: b.hash, p: b.parentHash, t: b.timestamp })))}::json)
        as x(n int8, h text, p text, t int8)
      on conflict (chain_id, number) do update set hash = excluded.hash, parent_hash = excluded.parent_hash,
        timestamp = excluded.timestamp`)
  }

  private async saveState(tx: Db, s: Omit<SyncState, 'clock'>): Promise<void> {
    await tx.execute(sql`insert into sync_state (chain_id, block_number, block_hash, block_timestamp, finalized_block, updated_at)
      values (${s.chainId}, ${s.blockNumber.toString()}, ${s.blockHash}, ${s.blockTimestamp.toString()}, ${s.finalizedBlock.toString()}, now())
      on conflict (chain_id) do update set block_number = excluded.block_number, block_hash = excluded.block_hash,
        block_timestamp = excluded.block_timestamp, finalized_block = excluded.finalized_block, updated_at = now()`)
  }

  /** Records that indexing stopped on an event it could not apply; `_meta.hasIndexingErrors` reports it. */
  async markIndexingError(chainId: number): Promise<void> {
    await this.db.execute(
      sql`update sync_state set has_indexing_errors = true, updated_at = now() where chain_id = ${chainId}`,
    )
  }

  /** Stored blocks at or above `from`, newest first: the indexer's memory of the unfinalized chain. */
  async blocksFrom(chainId: number, from: bigint): Promise<BlockRow[]> {
    const rows = await this.rows(
      sql`select * from block where chain_id = ${chainId} and number >= ${from.toString()} order by number desc`,
    )
    return rows.map((r) => ({
      number: BigInt(r.number as string),
      hash: r.hash as string,
      parentHash: (r.parent_hash as string) ?? null,
      timestamp: BigInt(r.timestamp as string),
    }))
  }

  /**
   * Undoes everything derived from blocks after `ancestor`, and moves the cursor there, in one transaction. Returns
   * the cursor as stored then, with the bucket clock of the blocks that remain.
   */
  async rollbackTo(state: Omit<SyncState, 'clock'>): Promise<SyncState> {
    const after = state.blockNumber.toString()
    return this.db.transaction(async (tx) => {
      for (const e of this.model.entities) {
        const t = ident(e.table)
        await tx.execute(sql`delete from ${t} where block_from > ${after}`)
        await tx.execute(sql`update ${t} set block_to = null where block_to > ${after}`)
      }
      // Buckets closed by an orphaned block go; the canonical chain closes them again when its time reaches them.
      for (const table of this.aggregationTables()) {
        await tx.execute(sql`delete from ${ident(table)} where block_from > ${after}`)
      }
      await tx.execute(sql`delete from chain_event where chain_id = ${state.chainId} and block_number > ${after}`)
      await tx.execute(sql`delete from block where chain_id = ${state.chainId} and number > ${after}`)
      await this.saveState(tx as unknown as Db, state)
      return (await this.syncState(tx as unknown as Db, state.chainId)) as SyncState
    })
  }

  /** Every version of `entity` live at `block`: the state right after that block was applied. */
  async entitiesAt(entity: EntityModel, block: bigint): Promise<Row[]> {
    const b = block.toString()
    const rows = await this.rows(
      sql`select * from ${ident(entity.table)} where block_from <= ${b} and (block_to is null or block_to > ${b}) order by id`,
    )
    return rows.map((r) => this.toRow(entity, r))
  }

  /** Empties the entity tables, for a rebuild from the event table. */
  async truncateEntities(): Promise<void> {
    const tables = [...this.model.entities.map((e) => e.table), ...this.aggregationTables()]
    await this.db.execute(sql.raw(`truncate ${tables.map((t) => `"${t}"`).join(', ')}`))
  }

  private aggregationTables(): string[] {
    return this.model.aggregations.flatMap((a) => a.intervals.map((i) => aggregationTable(a, i)))
  }

  /** Stored blocks after `after` in order, a page at a time: the blocks whose times close statistics buckets. */
  async blocksAfter(chainId: number, after: bigint, limit: number): Promise<BlockRow[]> {
    const rows =
      await this.rows(sql`select * from block where chain_id = ${chainId} and number > ${after.toString()}::int8
      order by number limit ${limit}`)
    return rows.map((r) => ({
      number: BigInt(r.number as string),
      hash: r.hash as string,
      parentHash: (r.parent_hash as string) ?? null,
      timestamp: BigInt(r.timestamp as string),
    }))
  }

  /** Stored blocks in (after, upTo], in order: the blocks that raise the bucket clock between a rebuild's events. */
  async blocksBetween(chainId: number, after: bigint, upTo: bigint): Promise<{ number: bigint; timestamp: bigint }[]> {
    const rows = await this.rows(sql`select number::text, timestamp::text from block where chain_id = ${chainId}
      and number > ${after.toString()}::int8 and number <= ${upTo.toString()}::int8 order by number`)
    return rows.map((r) => ({ number: BigInt(r.number as string), timestamp: BigInt(r.timestamp as string) }))
  }

  /** Stored events after (block, logIndex), in chain order. */
  async readEvents(chainId: number, after: { block: bigint; logIndex: number }, limit: number): Promise<ChainEvent[]> {
    const rows = await this.rows(sql`select * from chain_event where chain_id = ${chainId}
      and (block_number, log_index) > (${after.block.toString()}::int8, ${after.logIndex})
      order by block_number, log_index limit ${limit}`)
    return rows.map((r) => ({
      chainId,
      contract: r.contract as IndexedContract,
      address: r.address as string,
      name: r.name as string,
      args: argsFromJson(r.contract as IndexedContract, r.name as string, r.args as Record<string, unknown>),
      blockNumber: BigInt(r.block_number as string),
      blockHash: r.block_hash as string,
      logIndex: Number(r.log_index),
      transactionHash: r.transaction_hash as string,
      transactionIndex: Number(r.transaction_index),
      timestamp: BigInt(r.timestamp as string),
    }))
  }

  private async rows(statement: SQL): Promise<Record<string, unknown>[]> {
    const result = (await this.db.execute(statement)) as unknown as { rows: Record<string, unknown>[] }
    return result.rows
  }
}
