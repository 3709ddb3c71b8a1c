import { type SQL, sql } from 'drizzle-orm'
import { aggregateSql, cumulativeSql, runningSql } from '../db/aggregate-sql'
import {
  type AggregationModel,
  aggregationTable,
  INTERVALS,
  type Interval,
  type SchemaModel,
  snakeCase,
} from '../db/entity-model'
import { MICROS } from './handlers'

/** One bucket to roll up: its interval, its start (microseconds) and the block whose time closed it. */
export interface ClosedBucket {
  interval: Interval
  start: bigint
  block: bigint
}

/**
 * The time statistics count a block at: the latest block time indexed up to it (`clock`, the running maximum over the
 * stored blocks before it) or its own, whichever is later. Ethereum requires each block to be later than its parent,
 * but some rollups allow equal times and a dev chain can jump back (anvil restarted from a state file mines at wall
 * time, hours before its parent): such a block counts in the bucket that is still open, and a bucket once closed
 * never takes another data point. The event table and entity fields (createdAt) keep each block's own time. The
 * clock counts the blocks the indexer stored, so on such a chain an index that backfilled (storing fewer blocks than
 * one that followed the head) can count a back-dated block in an earlier bucket; rebuilds and reorgs keep to the
 * blocks stored.
 */
export function bucketClock(clock: bigint, timestamp: bigint): bigint {
  return timestamp > clock ? timestamp : clock
}

/** The intervals any aggregation of the schema uses, shortest first. */
export function rollupIntervals(model: SchemaModel): Interval[] {
  const used = new Set(model.aggregations.flatMap((a) => a.intervals))
  return (Object.keys(INTERVALS) as Interval[]).filter((i) => used.has(i))
}

/**
 * The buckets that `blocks` close, given the bucket clock before them (`previous`): a bucket is rolled up at the first
 * stored block whose time reaches its end, as graph-node rolls up when a written block crosses a boundary. Only the
 * bucket holding the clock can have data points (every block with events is stored, and data points count at the
 * clock), so each block closes at most one bucket per interval. Times are in seconds.
 */
export function closedBuckets({
  intervals,
  previous,
  blocks,
}: {
  intervals: Interval[]
  previous: bigint
  blocks: { number: bigint; timestamp: bigint }[]
}): ClosedBucket[] {
  const out: ClosedBucket[] = []
  let before = previous
  for (const b of [...blocks].sort((x, y) => (x.number < y.number ? -1 : x.number > y.number ? 1 : 0))) {
    for (const interval of intervals) {
      const length = BigInt(INTERVALS[interval])
      const start = before - (before % length)
      if (start + length <= b.timestamp) out.push({ interval, start: start * MICROS, block: b.number })
    }
    before = bucketClock(before, b.timestamp)
  }
  return out
}

const ident = (s: string) => sql.raw(`"${s.replace(/"/g, '""')}"`)

/**
 * Rolls up the data points of `buckets` into one interval's table of an aggregation, one row per bucket and dimension
 * values that have data points, each recorded at the block that closed its bucket (so a reorg removes it). The
 * row's id is the largest id among its data points, as graph-node chooses it.
 */
export function rollupStatement({
  aggregation,
  interval,
  buckets,
}: {
  aggregation: AggregationModel
  interval: Interval
  buckets: ClosedBucket[]
}): SQL {
  const length = BigInt(INTERVALS[interval]) * MICROS
  const source = ident(snakeCase(aggregation.source))
  const target = ident(aggregationTable(aggregation, interval))
  const dims = aggregation.dimensions.map((d) => ident(d.column))
  const cols = aggregation.aggregates.map((a) => ident(a.field.column))
  const todo = JSON.stringify(buckets.map((b) => ({ start: b.start.toString(), block: b.block.toString() })))
  const list = (xs: SQL[], prefix: string) =>
    sql.join(
      xs.map((x) => sql`${sql.raw(prefix)}${x}`),
      sql`, `,
    )
  const dimList = (prefix: string) => (dims.length ? sql`, ${list(dims, prefix)}` : sql``)
  const bucketCols = aggregation.aggregates.map((aggregate) => aggregateSql({ aggregate, alias: 'd' }))
  const cumulative = aggregation.aggregates.some((a) => a.cumulative)
  // A cumulative aggregate combines the group's latest stored bucket (p) with this statement's buckets up to this one
  // (window w), so that one statement can roll up many buckets of a group in order.
  const values = aggregation.aggregates.map((aggregate) => {
    const col = ident(aggregate.field.column)
    if (!aggregate.cumulative) return sql`b.${col}`
    const current = runningSql({ aggregate, value: sql`b.${col}` })
    return cumulativeSql({ aggregate, previous: sql`p.${col}`, current })
  })
  const prev = cumulative
    ? sql`left join lateral (select * from ${target} p where p.timestamp < b.timestamp${sql.join(
        dims.map((d) => sql` and p.${d} = b.${d}`),
        sql``,
      )} order by p.timestamp desc limit 1) p on true`
    : sql``
  const window = cumulative
    ? sql`window w as (${dims.length ? sql`partition by ${list(dims, 'b.')} ` : sql``}order by b.timestamp rows between unbounded preceding and current row)`
    : sql``
  return sql`with todo as (select * from json_to_recordset(${todo}::json) as x(start int8, block int8)),
    bucket as (
      select t.start as timestamp, t.block, max(d.id) as id${dimList('d.')}, ${sql.join(bucketCols, sql`, `)}
      from todo t join ${source} d on d.timestamp >= t.start and d.timestamp < t.start + ${length.toString()}::int8
      group by t.start, t.block${dimList('d.')}
    )
    insert into ${target} (id, timestamp${dims.length ? sql`, ${list(dims, '')}` : sql``}, ${list(cols, '')}, block_from)
    select b.id, b.timestamp${dimList('b.')}, ${sql.join(values, sql`, `)}, b.block
    from bucket b ${prev}
    ${window}`
}
