import { type SQL, sql } from 'drizzle-orm'
import type { ApiModel, EntityApi, FilterKey, FilterOp } from '../api-model'
import { BadUserInputError } from '../graphql.errors'
import { normalizeBigInt, normalizeBytes } from '../scalars'
import { type Aliases, type BlockScope, changedSince, column, liveAt, table } from './block-range'

export type Where = Record<string, unknown>

export interface CompileFilterArgs {
  api: ApiModel
  entity: EntityApi
  where: Where | null | undefined
  /** The alias of `entity`'s table in the statement. */
  alias: string
  block: BlockScope
  aliases: Aliases
}

interface Ctx extends Omit<CompileFilterArgs, 'where'> {
  /** The path to this object, for error messages (`where.provider_`). */
  path: string
  /** Set inside a child filter: graph-node allows no child filter within another. */
  child?: string
}

const TEXT_TYPES = new Set(['ID', 'String', 'Bytes'])
const CASTS: Record<string, string> = {
  BigInt: 'numeric',
  Int: 'int4',
  Int8: 'int8',
  Timestamp: 'int8',
  Boolean: 'boolean',
}

/**
 * Compiles a `T_filter` object into a parameterised SQL condition on `alias`, following graph-node's semantics:
 * keys of one object are ANDed, `and`/`or` take lists, `field_` filters a related entity at the same block.
 * Returns undefined when nothing constrains the rows.
 */
export function compileFilter({ where, ...args }: CompileFilterArgs): SQL | undefined {
  if (where === null || where === undefined) return undefined
  const parts = compileObject({ ...args, path: 'where' }, where)
  return parts.length === 0 ? undefined : and(parts)
}

const and = (parts: SQL[]) => (parts.length === 1 ? (parts[0] as SQL) : sql`(${sql.join(parts, sql` and `)})`)
const or = (parts: SQL[]) => (parts.length === 1 ? (parts[0] as SQL) : sql`(${sql.join(parts, sql` or `)})`)

function compileObject(ctx: Ctx, where: unknown): SQL[] {
  if (typeof where !== 'object' || where === null || Array.isArray(where)) {
    throw new BadUserInputError(`${ctx.path} must be an object of ${ctx.entity.entity.name}_filter fields`)
  }
  const entries = Object.entries(where as Where).filter(([, v]) => v !== undefined)
  if (entries.some(([k, v]) => k === 'or' && v !== null)) {
    const columns = entries.map(([k]) => k).filter((k) => k !== 'or' && k !== 'and' && k !== '_change_block')
    if (columns.length > 0) {
      // graph-node rejects this too: it is ambiguous whether the columns apply inside or beside the `or`.
      throw new BadUserInputError(
        `${ctx.path} mixes column filters (${columns.join(', ')}) with 'or' at the same level; ` +
          `move them into each branch: or: [{ ${columns[0]}: …, … }, { ${columns[0]}: …, … }]`,
      )
    }
  }
  const parts: SQL[] = []
  for (const [key, value] of entries) {
    const k = ctx.entity.filter.get(key)
    if (!k) throw new BadUserInputError(`${ctx.path}: ${ctx.entity.entity.name}_filter has no field ${key}`)
    const part = compileKey(ctx, key, k, value)
    if (part) parts.push(part)
  }
  return parts
}

function compileKey(ctx: Ctx, key: string, k: FilterKey, value: unknown): SQL | undefined {
  const path = `${ctx.path}.${key}`
  switch (k.kind) {
    case 'and':
    case 'or': {
      if (value === null) return undefined
      if (!Array.isArray(value)) throw new BadUserInputError(`${path} must be a list of filters`)
      const branches = value
        .filter((v) => v !== null && v !== undefined)
        .map((v, i) => {
          const parts = compileObject({ ...ctx, path: `${path}[${i}]` }, v)
          return parts.length === 0 ? sql`true` : and(parts)
        })
      if (branches.length === 0) return k.kind === 'and' ? undefined : sql`false`
      return k.kind === 'and' ? and(branches) : or(branches)
    }
    case 'change_block': {
      const n = (value as { number_gte?: unknown } | null)?.number_gte
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
        throw new BadUserInputError(`${path}.number_gte must be a non-negative block number, got ${JSON.stringify(n)}`)
      }
      return changedSince({ alias: ctx.alias, number: BigInt(n) })
    }
    case 'child': {
      if (ctx.child) {
        throw new BadUserInputError(`${path}: child filters cannot be nested (${key} inside ${ctx.child})`)
      }
      if (value === null) return undefined
      const { relation } = k
      const target = ctx.api.entities.get(relation.target.name) as EntityApi
      const inner = ctx.aliases.next('f')
      const parts = compileObject({ ...ctx, entity: target, alias: inner, path, child: key }, value)
      const join =
        relation.kind === 'reference'
          ? sql`${column(inner, 'id')} = ${column(ctx.alias, relation.column)}`
          : sql`${column(inner, relation.column)} = ${column(ctx.alias, 'id')}`
      const conditions = [
        join,
        liveAt({ alias: inner, block: ctx.block, immutable: relation.target.immutable }),
        ...parts,
      ]
      return sql`exists (select 1 from ${table(relation.target.table, inner)} where ${sql.join(conditions, sql` and `)})`
    }
    case 'value':
      return compileValue({ col: column(ctx.alias, k.field.column), k, value, path, ctx })
  }
}

function scalar(k: Extract<FilterKey, { kind: 'value' }>, value: unknown, path: string, ctx: Ctx): unknown {
  const fail = (expected: string): never => {
    throw new BadUserInputError(`${path} must be ${expected}, got ${JSON.stringify(value)}`)
  }
  switch (k.type) {
    case 'ID':
      if (typeof value === 'number' && Number.isInteger(value)) return String(value)
      return typeof value === 'string' ? value : fail('an ID string')
    case 'String':
      if (typeof value !== 'string') return fail('a string')
      return k.lowerCase ? value.toLowerCase() : value
    case 'Bytes':
      try {
        return normalizeBytes(value)
      } catch {
        return fail('a hex string of whole bytes such as "0x1234"')
      }
    case 'BigInt':
    case 'Int8':
    case 'Timestamp':
      try {
        return normalizeBigInt(value, k.type)
      } catch {
        return fail('a decimal integer string')
      }
    case 'Int':
      return typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31
        ? value
        : fail('a 32-bit integer')
    case 'Boolean':
      return typeof value === 'boolean' ? value : fail('true or false')
    default: {
      const values = ctx.api.model.enums[k.type]
      if (values && typeof value === 'string' && values.includes(value)) return value
      return fail(`one of ${k.type}'s values`)
    }
  }
}

function compileValue({
  col,
  k,
  value,
  path,
  ctx,
}: {
  col: SQL
  k: Extract<FilterKey, { kind: 'value' }>
  value: unknown
  path: string
  ctx: Ctx
}): SQL {
  const op: FilterOp = k.op
  if (value === null) {
    // graph-node reads `field: null` as "is null" and `field_not: null` as "is not null".
    if (op === '') return sql`${col} is null`
    if (op === 'not') return sql`${col} is not null`
    throw new BadUserInputError(`${path} must not be null`)
  }
  const cast = CASTS[k.type]
  const param = (v: unknown) => (cast ? sql`${v}::${sql.raw(cast)}` : sql`${v}`)
  const text = TEXT_TYPES.has(k.type)
  // Text compares byte-wise, as on graph-node (which requires a C-locale database), whatever this database's locale.
  const ordered = text ? sql`${col} collate "C"` : col
  if (op === 'in' || op === 'not_in') {
    if (!Array.isArray(value)) throw new BadUserInputError(`${path} must be a list`)
    const items = value.map((v, i) => scalar(k, v, `${path}[${i}]`, ctx))
    const list = sql`select ${cast ? sql.raw(`x::${cast}`) : sql.raw('x')} from json_array_elements_text(${JSON.stringify(items)}::json) as t(x)`
    return op === 'in' ? sql`${col} in (${list})` : sql`${col} not in (${list})`
  }
  const v = scalar(k, value, path, ctx)
  switch (op) {
    case '':
      return sql`${col} = ${param(v)}`
    case 'not':
      return sql`${col} <> ${param(v)}`
    case 'gt':
      return sql`${ordered} > ${param(v)}`
    case 'lt':
      return sql`${ordered} < ${param(v)}`
    case 'gte':
      return sql`${ordered} >= ${param(v)}`
    case 'lte':
      return sql`${ordered} <= ${param(v)}`
  }
  if (k.type === 'Bytes') {
    // Bytes are stored as hex text: a match must start on a byte boundary, not mid-byte.
    const pattern = `^0x(..)*${(v as string).slice(2)}`
    return op === 'contains' ? sql`${col} ~ ${pattern}` : sql`${col} !~ ${pattern}`
  }
  const nocase = op.endsWith('_nocase')
  const subject = nocase ? sql`lower(${col})` : col
  const needle = nocase ? sql`lower(${v}::text)` : sql`${v}::text`
  const negated = op.startsWith('not_')
  const base = op.replace(/^not_/, '').replace(/_nocase$/, '')
  let match: SQL
  if (base === 'contains') match = sql`position(${needle} in ${subject}) > 0`
  else if (base === 'starts_with') match = sql`left(${subject}, length(${needle})) = ${needle}`
  else if (base === 'ends_with') match = sql`right(${subject}, length(${needle})) = ${needle}`
  else throw new BadUserInputError(`${path}: unsupported filter ${op}`)
  return negated ? sql`not (${match})` : match
}
