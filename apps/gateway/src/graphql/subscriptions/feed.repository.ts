import { Inject, Injectable } from '@nestjs/common'
import { sql } from 'drizzle-orm'
import type { Database } from '../../db/database'
import { DATABASE } from '../../db/db.module'
import { aggregationTable, INTERVALS } from '../../db/entity-model'
import { loadSchemaModel } from '../../db/schema-file'
import { storeError } from '../entity.repository'
import type { ClosedBucketRow, FeedBlock, FeedStore, JobVersion } from './change-feed'

type Row = Record<string, unknown>

/** The feed's reads: what one commit wrote, and the canonical jobs after a rollback. */
@Injectable()
export class FeedRepository implements FeedStore {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  /** Stored blocks in (from, to]; backfill stores no parent hash, the stored block below supplies it. */
  async blocksIn({ chainId, from, to }: { chainId: number; from: bigint; to: bigint }): Promise<FeedBlock[]> {
    const rows = await this.run(sql`select b.number::text, b.hash, coalesce(b.parent_hash, p.hash) as parent_hash,
        b.timestamp::text
      from block b left join block p on p.chain_id = b.chain_id and p.number = b.number - 1
      where b.chain_id = ${chainId} and b.number > ${from.toString()}::int8 and b.number <= ${to.toString()}::int8
      order by b.number`)
    return rows.map(toBlock)
  }

  /** Every job version written in (from, to], with the status of the version it replaced, in write order. */
  async jobChangesIn({
    from,
    to,
  }: {
    from: bigint
    to: bigint
  }): Promise<(JobVersion & { previousStatus: string | null })[]> {
    const rows = await this.run(sql`select j.id, j.client, j.provider, j.status, j.block_from::text,
        p.status as previous_status
      from job j left join job p on p.id = j.id and p.block_to = j.block_from
      where j.block_from > ${from.toString()}::int8 and j.block_from <= ${to.toString()}::int8
      order by j.block_from, j.vid`)
    return rows.map((r) => ({ ...toJob(r), previousStatus: (r.previous_status as string | null) ?? null }))
  }

  /** The versions of `ids` live at `block`. */
  async jobsAt({ ids, block }: { ids: string[]; block: bigint }): Promise<JobVersion[]> {
    if (ids.length === 0) return []
    const n = block.toString()
    const rows = await this.run(sql`select id, client, provider, status, block_from::text from job
      where id in (${sql.join(
        ids.map((id) => sql`${id}`),
        sql`, `,
      )}) and block_from <= ${n}::int8 and (block_to is null or block_to > ${n}::int8)`)
    return rows.map(toJob)
  }

  /** Buckets of every aggregation table closed by blocks in (from, to]: one statement over all of them. */
  async bucketsIn({ from, to }: { from: bigint; to: bigint }): Promise<ClosedBucketRow[]> {
    const tables = loadSchemaModel().aggregations.flatMap((a) =>
      a.intervals.map((interval) => ({ interval, table: aggregationTable(a, interval) })),
    )
    if (tables.length === 0) return []
    const parts = tables.map(
      ({
        interval,
        table,
      }) => sql`select ${interval}::text as interval, timestamp, block_from from ${sql.raw(`"${table}"`)}
        where block_from > ${from.toString()}::int8 and block_from <= ${to.toString()}::int8`,
    )
    const rows = await this.run(
      sql`select distinct interval, timestamp::text, block_from::text from (${sql.join(
        parts,
        sql` union all `,
      )}) b order by block_from, timestamp`,
    )
    const order = (i: string) => INTERVALS[i as keyof typeof INTERVALS] ?? 0
    return rows
      .map((r) => ({
        interval: r.interval as string,
        timestamp: BigInt(r.timestamp as string),
        block: BigInt(r.block_from as string),
      }))
      .sort((a, b) => (a.block !== b.block ? (a.block < b.block ? -1 : 1) : order(a.interval) - order(b.interval)))
  }

  async blockAt({ chainId, number }: { chainId: number; number: bigint }): Promise<FeedBlock | null> {
    const blocks = await this.blocksIn({ chainId, from: number - 1n, to: number })
    return blocks[0] ?? null
  }

  private async run(statement: ReturnType<typeof sql>): Promise<Row[]> {
    try {
      return await this.database.query<Row>(statement)
    } catch (error) {
      throw storeError(error)
    }
  }
}

const toBlock = (r: Row): FeedBlock => ({
  number: BigInt(r.number as string),
  hash: r.hash as string,
  parentHash: (r.parent_hash as string | null) ?? null,
  timestamp: BigInt(r.timestamp as string),
})

const toJob = (r: Row): JobVersion => ({
  id: r.id as string,
  client: r.client as string,
  provider: (r.provider as string | null) ?? null,
  status: r.status as string,
  block: BigInt(r.block_from as string),
})
