import { type SQL, sql } from 'drizzle-orm'
import type { Aggregate } from './entity-model'

const ident = (s: string) => sql.raw(`"${s.replace(/"/g, '""')}"`)

/**
 * An aggregate over the data points of one bucket (table alias `alias`), named for its column; `first` and `last`
 * follow the data points' ids, as graph-node orders them.
 */
export function aggregateSql({ aggregate, alias }: { aggregate: Aggregate; alias: string }): SQL {
  const arg = aggregate.arg ? sql`${sql.raw(alias)}.${ident(aggregate.arg.column)}` : sql``
  const id = sql.raw(`${alias}.id`)
  let value: SQL
  switch (aggregate.fn) {
    case 'sum':
      value = sql`sum(${arg})`
      break
    case 'count':
      value = sql`count(*)`
      break
    case 'min':
      value = sql`min(${arg})`
      break
    case 'max':
      value = sql`max(${arg})`
      break
    case 'first':
      value = sql`(array_agg(${arg} order by ${id}))[1]`
      break
    case 'last':
      value = sql`(array_agg(${arg} order by ${id} desc))[1]`
      break
  }
  return sql`${value} as ${ident(aggregate.field.column)}`
}

/**
 * A cumulative aggregate: the value of the group's previous bucket combined with what came since (null `previous`
 * means the group had no earlier bucket). Counts add up like sums.
 */
export function cumulativeSql({
  aggregate,
  previous,
  current,
}: {
  aggregate: Aggregate
  previous: SQL
  current: SQL
}): SQL {
  switch (aggregate.fn) {
    case 'sum':
    case 'count':
      return sql`coalesce(${previous}, 0) + ${current}`
    case 'min':
      return sql`least(${previous}, ${current})`
    case 'max':
      return sql`greatest(${previous}, ${current})`
    case 'first':
      return sql`coalesce(${previous}, ${current})`
    case 'last':
      return current
  }
}

/** The window function that carries an aggregate across consecutive buckets of one statement (window `w`). */
export function runningSql({ aggregate, value }: { aggregate: Aggregate; value: SQL }): SQL {
  switch (aggregate.fn) {
    case 'sum':
    case 'count':
      return sql`sum(${value}) over w`
    case 'min':
      return sql`min(${value}) over w`
    case 'max':
      return sql`max(${value}) over w`
    case 'first':
      return sql`first_value(${value}) over w`
    case 'last':
      return value
  }
}
