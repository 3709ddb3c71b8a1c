import { type SQL, sql } from 'drizzle-orm'
import type { EntityApi } from '../api-model'
import { DEFAULT_FIRST } from '../api-model'
import { BadUserInputError } from '../graphql.errors'
import { type Aliases, type BlockScope, column, liveAt, table } from './block-range'

export interface SortKey {
  expr: SQL
  desc: boolean
  /** Text sorts byte-wise (collation "C"), as on graph-node, which requires a C-locale database. */
  text: boolean
}

export interface CompiledOrder {
  /** Left joins that bring a child's column (`provider__stake`) into reach. */
  joins: SQL[]
  keys: SortKey[]
}

const TEXT_KINDS = new Set(['id', 'bytes', 'string', 'enum'])

/**
 * Compiles `orderBy`/`orderDirection` the way graph-node sorts: by the field, then by id in the same direction;
 * `id` ascending when no field is given. `parent__child` joins the child as it was at the query's block.
 */
export function compileOrder({
  entity,
  orderBy,
  orderDirection,
  alias,
  block,
  aliases,
}: {
  entity: EntityApi
  orderBy?: string | null
  orderDirection?: string | null
  alias: string
  block: BlockScope
  aliases: Aliases
}): CompiledOrder {
  const desc = orderDirection === 'desc'
  const id: SortKey = { expr: column(alias, 'id'), desc, text: entity.entity.idKind !== 'int8' }
  if (!orderBy) return { joins: [], keys: [id] }
  const key = entity.orderBy.get(orderBy)
  if (!key) throw new BadUserInputError(`orderBy: ${entity.entity.name} has no field ${orderBy} to sort by`)
  switch (key.kind) {
    case 'unsupported':
      throw new BadUserInputError(key.reason)
    case 'field': {
      if (key.field.name === 'id') return { joins: [], keys: [id] }
      const sortKey = { expr: column(alias, key.field.column), desc, text: TEXT_KINDS.has(key.field.kind) }
      return { joins: [], keys: [sortKey, id] }
    }
    case 'child': {
      const { relation, field } = key
      const j = aliases.next('o')
      const on =
        relation.kind === 'reference'
          ? sql`${column(j, 'id')} = ${column(alias, relation.column)}`
          : sql`${column(j, relation.column)} = ${column(alias, 'id')}`
      const join = sql`left join ${table(relation.target.table, j)} on ${on} and ${liveAt({ alias: j, block, immutable: relation.target.immutable })}`
      return { joins: [join], keys: [{ expr: column(j, field.column), desc, text: TEXT_KINDS.has(field.kind) }, id] }
    }
  }
}

/** One sort key as SQL: `expr [collate "C"] [desc]`, nulls where Postgres puts them (last ascending), as graph-node. */
export function sortSql(key: SortKey, expr: SQL = key.expr): SQL {
  return sql`${expr}${key.text ? sql.raw(' collate "C"') : sql``}${key.desc ? sql.raw(' desc') : sql``}`
}

/** Validates `first`/`skip` against the limits: `first` must be between 0 and 1000, got 5000. */
export function validatePage({
  first,
  skip,
  maxFirst,
  maxSkip,
}: {
  first?: number | null
  skip?: number | null
  maxFirst: number
  maxSkip: number
}): { first: number; skip: number } {
  const f = first ?? DEFAULT_FIRST
  const s = skip ?? 0
  if (!Number.isInteger(f) || f < 0 || f > maxFirst) {
    throw new BadUserInputError(`first must be between 0 and ${maxFirst}, got ${first}`)
  }
  if (!Number.isInteger(s) || s < 0 || s > maxSkip) {
    throw new BadUserInputError(
      `skip must be between 0 and ${maxSkip}, got ${skip}; page past it with where: { id_gt: <last id> } and orderBy: id`,
    )
  }
  return { first: f, skip: s }
}
