import { type SQL, sql } from 'drizzle-orm'

/** The block a query reads at, or the current versions when nothing has been indexed yet. */
export type BlockScope = bigint | 'latest'

/** A column of a table alias the compilers chose; names come from the schema model, never from a request. */
export const column = (alias: string, name: string) => sql.raw(`${alias}."${name.replace(/"/g, '""')}"`)
export const table = (name: string, alias: string) => sql.raw(`"${name.replace(/"/g, '""')}" ${alias}`)

/** Hands out distinct table aliases within one statement. */
export class Aliases {
  private n = 0
  next(prefix: string): string {
    this.n++
    return `${prefix}${this.n}`
  }
}

/**
 * Versions live at `block`: `block_from <= n` and (`block_to` is null or `> n`), graph-node's `block_range @> n`
 * for the tables the indexer writes. Immutable entities have one version whose `block_to` stays null, so their
 * condition names that, which lets the current-id index serve them.
 */
export function liveAt({
  alias,
  block,
  immutable = false,
}: {
  alias: string
  block: BlockScope
  immutable?: boolean
}): SQL {
  const to = column(alias, 'block_to')
  if (block === 'latest') return sql`${to} is null`
  const n = block.toString()
  const from = sql`${column(alias, 'block_from')} <= ${n}::int8`
  return immutable ? sql`${to} is null and ${from}` : sql`${from} and (${to} is null or ${to} > ${n}::int8)`
}

/**
 * `liveAt` split into conditions that each select one kind of version, for statements that read a union of one
 * branch per condition: the current versions (`block_to is null`) and, at a block number, those superseded after it.
 * Each branch reads its own partial indexes (db/query-indexes.ts) in the order the query sorts by, so a page of the
 * newest rows reads a page of index entries; one `or` over `block_to` leaves Postgres nothing but a scan and a sort.
 */
export function liveBranches({
  alias,
  block,
  immutable = false,
}: {
  alias: string
  block: BlockScope
  immutable?: boolean
}): SQL[] {
  if (immutable || block === 'latest') return [liveAt({ alias, block, immutable })]
  const n = block.toString()
  const from = sql`${column(alias, 'block_from')} <= ${n}::int8`
  const to = column(alias, 'block_to')
  return [sql`${to} is null and ${from}`, sql`${to} > ${n}::int8 and ${from}`]
}

/** `_change_block: {number_gte}`: the live version was written at or after block `number`. */
export function changedSince({ alias, number }: { alias: string; number: bigint }): SQL {
  return sql`${column(alias, 'block_from')} >= ${number.toString()}::int8`
}
