import { type SQL, sql } from 'drizzle-orm'
import { aggregateSql, cumulativeSql } from '../../db/aggregate-sql'
import {
  type AggregationModel,
  aggregationTable,
  type EntityModel,
  INTERVALS,
  type Interval,
  snakeCase,
} from '../../db/entity-model'
import type { AggregationApi, ApiModel, EntityApi, Relation } from '../api-model'
import { Aliases, type BlockScope, column, liveAt, liveBranches, table } from './block-range'
import { compileFilter, type Where } from './filter'
import { compileOrder, sortSql } from './order'

/** Collection arguments after validation: `first`/`skip` are in range. */
export interface ListArgs {
  where?: Where | null
  orderBy?: string | null
  orderDirection?: string | null
  first: number
  skip: number
}

/** Every field of the entity, named as in GraphQL; amounts as text so no driver turns them into numbers. */
function selectList(entity: EntityModel, alias: string): SQL {
  const cols = entity.fields.map((f) => {
    const c = column(alias, f.column)
    const value = f.kind === 'bigint' || f.kind === 'int8' || f.kind === 'timestamp' ? sql`${c}::text` : c
    return sql`${value} as ${sql.raw(`"${f.name}"`)}`
  })
  return sql.join(cols, sql`, `)
}

const where = (conditions: (SQL | undefined)[]) =>
  sql.join(
    conditions.filter((c): c is SQL => c !== undefined),
    sql` and `,
  )

/** `ts(where, orderBy, orderDirection, first, skip)` at a block: one statement. */
export function listStatement({
  api,
  entity,
  args,
  block,
}: {
  api: ApiModel
  entity: EntityApi
  args: ListArgs
  block: BlockScope
}): SQL {
  return pageStatement({ api, entity, args, block })
}

/**
 * One page of `entity`'s rows live at `block`, with `extra` conditions (a parent's id). With one version branch, a
 * plain ordered query; with two, each branch's own first `skip + first` rows in order (an ordered index read each),
 * merged and paged again outside. Rows carry their sort values as `_s0`, `_s1`, ….
 */
function pageStatement({
  api,
  entity,
  args,
  block,
  extra,
}: {
  api: ApiModel
  entity: EntityApi
  args: ListArgs
  block: BlockScope
  extra?: SQL
}): SQL {
  const aliases = new Aliases()
  const c = 'c'
  const order = compileOrder({ entity, ...args, alias: c, block, aliases })
  const filter = compileFilter({ api, entity, where: args.where, alias: c, block, aliases })
  const sortCols = order.keys.map((k, i) => sql`${k.expr} as ${sql.raw(`_s${i}`)}`)
  const orderBy = sql.join(
    order.keys.map((k) => sortSql(k)),
    sql`, `,
  )
  const branches = liveBranches({ alias: c, block, immutable: entity.entity.immutable })
  const branch = (live: SQL, limit: SQL) =>
    sql`select ${selectList(entity.entity, c)}, ${sql.join(sortCols, sql`, `)}
    from ${table(entity.entity.table, c)} ${sql.join(order.joins, sql` `)}
    where ${where([extra, live, filter])}
    order by ${orderBy} ${limit}`
  if (branches.length === 1) return branch(branches[0] as SQL, sql`limit ${args.first} offset ${args.skip}`)
  const merged = sql.join(
    branches.map((live) => sql`(${branch(live, sql`limit ${args.first + args.skip}`)})`),
    sql` union all `,
  )
  const outerOrder = order.keys.map((k, i) => sortSql(k, sql.raw(`v._s${i}`)))
  return sql`select * from (${merged}) v order by ${sql.join(outerOrder, sql`, `)} limit ${args.first} offset ${args.skip}`
}

/** The versions of `ids` live at a block, in no particular order: one statement for a whole batch of references. */
export function byIdsStatement({ entity, ids, block }: { entity: EntityModel; ids: string[]; block: BlockScope }): SQL {
  const c = 'c'
  const id = entity.idKind === 'int8' ? sql.raw('x::int8') : sql.raw('x')
  const branches = liveBranches({ alias: c, block, immutable: entity.immutable }).map(
    (live) => sql`select ${selectList(entity, c)} from ${table(entity.table, c)}
    where ${column(c, 'id')} in (select ${id} from json_array_elements_text(${JSON.stringify(ids)}::json) as t(x)) and ${live}`,
  )
  return sql.join(branches, sql` union all `)
}

/**
 * The related rows of many parents at once (`provider.jobs(first, where, …)` for every provider of a page), each
 * parent's own page and order applied in a lateral subquery: one statement per relation per request. Rows come back
 * grouped by parent, in the order of `parentIds`, each group in its requested order; `_parent` names the parent.
 */
export function relatedStatement({
  api,
  relation,
  parentIds,
  args,
  block,
}: {
  api: ApiModel
  relation: Extract<Relation, { kind: 'derived' }>
  parentIds: string[]
  args: ListArgs
  block: BlockScope
}): SQL {
  const entity = api.entities.get(relation.target.name) as EntityApi
  const keys = compileOrder({ entity, ...args, alias: 'c', block, aliases: new Aliases() }).keys
  const page = pageStatement({ api, entity, args, block, extra: sql`${column('c', relation.column)} = k.key` })
  // The outer query re-sorts by the same keys: a lateral subquery's order is not guaranteed to survive the join.
  const outerOrder = keys.map((k, i) => sortSql(k, sql.raw(`x._s${i}`)))
  return sql`select k.key as "_parent", x.* from json_array_elements_text(${JSON.stringify(parentIds)}::json)
      with ordinality as k(key, ord)
    cross join lateral (${page}) x
    order by k.ord, ${sql.join(outerOrder, sql`, `)}`
}

/**
 * `stats(interval, current, where, orderBy, orderDirection, first, skip)` at a block: one statement. The rolled-up
 * buckets are the rows of the interval's table the block had written; with `current: include`, the bucket in
 * progress joins them, computed from the data points since the last rollup: those in the bucket that holds the time of
 * the newest stored block at or below the query's block (every stored block rolls up the buckets its time closes).
 * Filters and order apply to both alike. Without `orderBy`, the newest buckets come first, as on graph-node.
 */
export function aggregationStatement({
  api,
  aggregation,
  interval,
  current,
  args,
  block,
  chainId,
}: {
  api: ApiModel
  aggregation: AggregationApi
  interval: Interval
  current: boolean
  args: ListArgs
  block: BlockScope
  chainId: number | null
}): SQL {
  const model = aggregation.entity
  const rolled = table(aggregationTable(model, interval), 'r')
  // The same columns in the same order as the current bucket's, for the union.
  const fieldCols = [
    'id',
    'timestamp',
    ...model.dimensions.map((d) => d.column),
    ...model.aggregates.map((a) => a.field.column),
  ].map((name) => column('r', name))
  let rows = sql`select ${sql.join(fieldCols, sql`, `)}, r.block_from from ${rolled}
    where ${liveAt({ alias: 'r', block, immutable: true })}`
  if (current && block !== 'latest' && chainId !== null)
    rows = sql`${rows} union all ${currentBucket({ model, interval, block, chainId })}`
  const aliases = new Aliases()
  const c = 'c'
  const byTime = !args.orderBy
  const order = compileOrder({
    entity: aggregation,
    ...args,
    orderBy: byTime ? 'timestamp' : args.orderBy,
    orderDirection: byTime ? 'desc' : args.orderDirection,
    alias: c,
    block,
    aliases,
  })
  const filter = compileFilter({ api, entity: aggregation, where: args.where, alias: c, block, aliases })
  return sql`select ${selectList(model, c)} from (${rows}) ${sql.raw(c)} ${sql.join(order.joins, sql` `)}
    ${filter ? sql`where ${filter}` : sql``}
    order by ${sql.join(
      order.keys.map((k) => sortSql(k)),
      sql`, `,
    )}
    limit ${args.first} offset ${args.skip}`
}

/**
 * The bucket in progress at `block`, one row per dimension values, from the data points not rolled up yet; cumulative
 * aggregates start from the group's latest rolled-up bucket, as graph-node's current-bucket query does.
 */
function currentBucket({
  model,
  interval,
  block,
  chainId,
}: {
  model: AggregationModel
  interval: Interval
  block: bigint
  chainId: number
}): SQL {
  const length = (BigInt(INTERVALS[interval]) * 1_000_000n).toString()
  const source = table(snakeCase(model.source), 'd')
  const dims = model.dimensions.map((d) => column('d', d.column))
  const dimList = dims.length ? sql`, ${sql.join(dims, sql`, `)}` : sql``
  const bucket = sql`select max(d.id) as id, ref.start as timestamp${dimList},
      ${sql.join(
        model.aggregates.map((aggregate) => aggregateSql({ aggregate, alias: 'd' })),
        sql`, `,
      )}, max(d.block_from) as block_from
    from (select b.timestamp * 1000000 / ${length}::int8 * ${length}::int8 as start from block b
      where b.chain_id = ${chainId} and b.number <= ${block.toString()}::int8 order by b.number desc limit 1) ref
    join ${source} on d.timestamp >= ref.start and ${liveAt({ alias: 'd', block, immutable: true })}
    group by ref.start${dimList}`
  const values = model.aggregates.map((aggregate) => {
    const col = column('cur', aggregate.field.column)
    if (!aggregate.cumulative) return col
    return cumulativeSql({ aggregate, previous: column('p', aggregate.field.column), current: col })
  })
  const cumulative = model.aggregates.some((a) => a.cumulative)
  const prev = cumulative
    ? sql`left join lateral (select * from ${table(aggregationTable(model, interval), 'p')}
        where ${liveAt({ alias: 'p', block, immutable: true })}${sql.join(
          model.dimensions.map((d) => sql` and ${column('p', d.column)} = ${column('cur', d.column)}`),
          sql``,
        )} order by p.timestamp desc limit 1) p on true`
    : sql``
  const outDims = model.dimensions.map((d) => column('cur', d.column))
  return sql`select cur.id, cur.timestamp${outDims.length ? sql`, ${sql.join(outDims, sql`, `)}` : sql``},
      ${sql.join(values, sql`, `)}, cur.block_from
    from (${bucket}) cur ${prev}`
}
