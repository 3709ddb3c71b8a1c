import { type SQL, sql } from 'drizzle-orm'
import type { EntityModel } from '../../db/entity-model'
import type { ApiModel, EntityApi, Relation } from '../api-model'
import { Aliases, type BlockScope, column, liveAt, table } from './block-range'
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
    const value = f.kind === 'bigint' || f.kind === 'int8' ? sql`${c}::text` : c
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
  const aliases = new Aliases()
  const c = 'c'
  const order = compileOrder({ entity, ...args, alias: c, block, aliases })
  const filter = compileFilter({ api, entity, where: args.where, alias: c, block, aliases })
  return sql`select ${selectList(entity.entity, c)} from ${table(entity.entity.table, c)} ${sql.join(order.joins, sql` `)}
    where ${where([liveAt({ alias: c, block, immutable: entity.entity.immutable }), filter])}
    order by ${sql.join(
      order.keys.map((k) => sortSql(k)),
      sql`, `,
    )}
    limit ${args.first} offset ${args.skip}`
}

/** The versions of `ids` live at a block, in no particular order: one statement for a whole batch of references. */
export function byIdsStatement({ entity, ids, block }: { entity: EntityModel; ids: string[]; block: BlockScope }): SQL {
  const c = 'c'
  return sql`select ${selectList(entity, c)} from ${table(entity.table, c)}
    where ${column(c, 'id')} in (select json_array_elements_text(${JSON.stringify(ids)}::json)) and ${liveAt({ alias: c, block, immutable: entity.immutable })}`
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
  const aliases = new Aliases()
  const c = 'c'
  const order = compileOrder({ entity, ...args, alias: c, block, aliases })
  const filter = compileFilter({ api, entity, where: args.where, alias: c, block, aliases })
  const sortCols = order.keys.map((k, i) => sql`${k.expr} as ${sql.raw(`_s${i}`)}`)
  // The outer query re-sorts by the same keys: a lateral subquery's order is not guaranteed to survive the join.
  const outerOrder = order.keys.map((k, i) => sortSql(k, sql.raw(`x._s${i}`)))
  return sql`select k.key as "_parent", x.* from json_array_elements_text(${JSON.stringify(parentIds)}::json)
      with ordinality as k(key, ord)
    cross join lateral (
      select ${selectList(entity.entity, c)}, ${sql.join(sortCols, sql`, `)}
      from ${table(entity.entity.table, c)} ${sql.join(order.joins, sql` `)}
      where ${where([sql`${column(c, relation.column)} = k.key`, liveAt({ alias: c, block, immutable: entity.entity.immutable }), filter])}
      order by ${sql.join(
        order.keys.map((k) => sortSql(k)),
        sql`, `,
      )}
      limit ${args.first} offset ${args.skip}
    ) x
    order by k.ord, ${sql.join(outerOrder, sql`, `)}`
}
