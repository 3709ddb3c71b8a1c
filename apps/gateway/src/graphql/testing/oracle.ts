import {
  type Aggregate,
  type AggregationModel,
  type EntityField,
  type EntityModel,
  INTERVALS,
  type Interval,
  type SchemaModel,
} from '../../db/entity-model'
import type { Truth, TruthRow } from './chain-truth'

/**
 * A reference evaluator for The Graph's query dialect over the chain's truth: plain JavaScript comparisons, written
 * apart from the SQL compilers so that the two can disagree. Also renders each query as GraphQL text with literals.
 */

/** An enum value: rendered bare in GraphQL, compared as its name. */
export class Enum {
  constructor(readonly name: string) {}
}

export type Where = { [key: string]: unknown }
export interface Args {
  where?: Where
  orderBy?: string
  orderDirection?: 'asc' | 'desc'
  first?: number
  skip?: number
}
export type Selection = string | { field: string; args?: Args; select: Selection[] }
export interface Height {
  number?: number
  hash?: string
  number_gte?: number
}

export interface Spec {
  name: string
  /** The root query field, spelled out as a client would (`jobs`, `epoches`). */
  field: string
  entity: string
  id?: string
  args?: Args
  block?: Height
  select: Selection[]
  /** An empty answer is expected; otherwise the evaluator refuses to check an empty list (it proves nothing). */
  empty?: boolean
  /** For an aggregation: the interval, and whether to add the bucket in progress. */
  interval?: Interval
  current?: 'include' | 'exclude'
}

const SUFFIXES = [
  '_not_contains_nocase',
  '_not_starts_with_nocase',
  '_not_ends_with_nocase',
  '_contains_nocase',
  '_starts_with_nocase',
  '_ends_with_nocase',
  '_not_contains',
  '_not_starts_with',
  '_not_ends_with',
  '_starts_with',
  '_ends_with',
  '_contains',
  '_not_in',
  '_not',
  '_gte',
  '_lte',
  '_gt',
  '_lt',
  '_in',
  '_',
  '',
]

function literal(v: unknown): string {
  if (v instanceof Enum) return v.name
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`
  if (v !== null && typeof v === 'object') {
    return `{ ${Object.entries(v)
      .map(([k, x]) => `${k}: ${literal(x)}`)
      .join(', ')} }`
  }
  return JSON.stringify(v)
}

function renderArgs(args: Args | undefined, extra: Record<string, unknown> = {}): string {
  const all: Record<string, unknown> = { ...extra, ...args }
  if (all.orderBy) all.orderBy = new Enum(all.orderBy as string)
  if (all.orderDirection) all.orderDirection = new Enum(all.orderDirection as string)
  const parts = Object.entries(all)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${literal(v)}`)
  return parts.length ? `(${parts.join(', ')})` : ''
}

const renderSelect = (select: Selection[]): string =>
  select
    .map((s) => (typeof s === 'string' ? s : `${s.field}${renderArgs(s.args)} { ${renderSelect(s.select)} }`))
    .join(' ')

/** The spec as a GraphQL query with every argument written as a literal. */
export function renderQuery(spec: Spec): string {
  const args = renderArgs(spec.args, {
    ...(spec.interval ? { interval: new Enum(spec.interval) } : {}),
    ...(spec.current ? { current: new Enum(spec.current) } : {}),
    ...(spec.id !== undefined ? { id: spec.id } : {}),
    ...(spec.block ? { block: spec.block } : {}),
  })
  return `{ ${spec.field}${args} { ${renderSelect(spec.select)} } }`
}

export class Oracle {
  private readonly entities: Map<string, EntityModel>
  private readonly aggregations: Map<string, AggregationModel>

  constructor(
    model: SchemaModel,
    private readonly truth: Truth,
  ) {
    this.entities = new Map([...model.entities, ...model.aggregations].map((e) => [e.name, e]))
    this.aggregations = new Map(model.aggregations.map((a) => [a.name, a]))
  }

  /** The `data` a correct gateway answers with. */
  answer(spec: Spec): Record<string, unknown> {
    if (spec.interval) {
      const rows = this.buckets(spec.entity, spec.interval, spec.current === 'include')
      // Aggregations list the newest buckets first unless told otherwise (graph-node's default).
      const args = spec.args?.orderBy
        ? spec.args
        : { ...spec.args, orderBy: 'timestamp', orderDirection: 'desc' as const }
      const list = this.list(spec.entity, rows, args)
      if (list.length === 0 && !spec.empty)
        throw new Error(`${spec.name}: the truth gives an empty answer; pick other values`)
      return { [spec.field]: list.map((r) => this.project(spec.entity, r, spec.select)) }
    }
    const rows = this.rows(spec.entity)
    if (spec.id !== undefined) {
      const row = rows.find((r) => r.id === this.normalizeId(spec.entity, spec.id as string))
      return { [spec.field]: row ? this.project(spec.entity, row, spec.select) : null }
    }
    const list = this.list(spec.entity, rows, spec.args ?? {})
    if (list.length === 0 && !spec.empty)
      throw new Error(`${spec.name}: the truth gives an empty answer; pick other values`)
    return { [spec.field]: list.map((r) => this.project(spec.entity, r, spec.select)) }
  }

  /**
   * An aggregation's buckets from the truth's data points, by its definition: a bucket is rolled up once the truth
   * block's time reaches its end; with `current`, the bucket holding that time joins them, from its points so far.
   * Each bucket's id is the largest id of its points; cumulative aggregates run over every earlier point of the group.
   */
  buckets(name: string, interval: Interval, current: boolean): TruthRow[] {
    const a = this.aggregations.get(name)
    if (!a) throw new Error(`no aggregation ${name}`)
    const length = BigInt(INTERVALS[interval]) * 1_000_000n
    const now = this.truth.timestamp * 1_000_000n
    const open = now - (now % length)
    const points = this.rows(a.source).filter(
      (p) => (this.truth.pointBlocks.get(`${a.source} ${p.id}`) ?? 0n) <= this.truth.block,
    )
    const groups = new Map<string, TruthRow[]>()
    for (const p of points) {
      const key = JSON.stringify([...a.dimensions.map((d) => p[d.name]), String(bucketStart(p, length))])
      const group = groups.get(key)
      if (group) group.push(p)
      else groups.set(key, [p])
    }
    const out: TruthRow[] = []
    for (const group of groups.values()) {
      const first = group[0] as TruthRow
      const start = bucketStart(first, length)
      if (start + length > now && !(current && start === open)) continue
      const sameGroup = (p: TruthRow) => a.dimensions.every((d) => p[d.name] === first[d.name])
      const upToEnd = points.filter((p) => sameGroup(p) && BigInt(p.timestamp as string) < start + length)
      const byId = (xs: TruthRow[]) => [...xs].sort((x, y) => (BigInt(x.id) < BigInt(y.id) ? -1 : 1))
      const row: TruthRow = { id: (byId(group).at(-1) as TruthRow).id, timestamp: start.toString() }
      for (const d of a.dimensions) row[d.name] = first[d.name]
      for (const agg of a.aggregates) row[agg.field.name] = aggregate(agg, byId(agg.cumulative ? upToEnd : group))
      out.push(row)
    }
    return out
  }

  rows(entity: string): TruthRow[] {
    const rows = this.truth.entities[entity]
    if (!rows) throw new Error(`no truth for ${entity}`)
    return rows
  }

  private entity(name: string) {
    return this.entities.get(name) as EntityModel
  }

  private normalizeId(entity: string, id: string) {
    return this.entity(entity).idKind === 'bytes' ? id.toLowerCase() : id
  }

  private list(entity: string, rows: TruthRow[], args: Args): TruthRow[] {
    const matched = rows.filter((r) => this.matches(entity, r, args.where ?? {}))
    const sorted = this.sort(entity, matched, args.orderBy, args.orderDirection === 'desc')
    const skip = args.skip ?? 0
    return sorted.slice(skip, skip + (args.first ?? 100))
  }

  private related(entity: string, row: TruthRow, field: string): TruthRow | TruthRow[] | null {
    const e = this.entity(entity)
    const ref = e.fields.find((f) => f.name === field && f.ref)
    if (ref) {
      const id = row[field]
      return id === null ? null : (this.rows(ref.ref as string).find((r) => r.id === id) ?? null)
    }
    const d = e.derived.find((x) => x.name === field)
    if (!d) throw new Error(`${entity}.${field} is not a relation`)
    const children = this.rows(d.entity).filter((r) => r[d.field] === row.id)
    if (d.list) return children
    return this.sort(d.entity, children, undefined, false)[0] ?? null
  }

  private matches(entity: string, row: TruthRow, where: Where): boolean {
    return Object.entries(where).every(([key, value]) => this.matchKey(entity, row, key, value))
  }

  private matchKey(entity: string, row: TruthRow, key: string, value: unknown): boolean {
    if (key === 'and') return (value as Where[]).every((w) => this.matches(entity, row, w))
    if (key === 'or') return (value as Where[]).some((w) => this.matches(entity, row, w))
    if (key === '_change_block') {
      if (entity !== 'Job') throw new Error('the truth knows change blocks of jobs only')
      return (this.truth.jobChangedAt.get(row.id) ?? -1n) >= BigInt((value as { number_gte: number }).number_gte)
    }
    const e = this.entity(entity)
    for (const suffix of SUFFIXES) {
      if (!key.endsWith(suffix)) continue
      const name = key.slice(0, key.length - suffix.length)
      if (suffix === '_') {
        const rel = this.related(entity, row, name)
        const target = e.fields.find((f) => f.name === name)?.ref ?? e.derived.find((d) => d.name === name)?.entity
        if (!target) continue
        const children = rel === null ? [] : Array.isArray(rel) ? rel : [rel]
        return children.some((c) => this.matches(target, c, value as Where))
      }
      const field = e.fields.find((f) => f.name === name)
      if (field) return compare(field, this.entities, row[name], suffix, unwrap(value))
    }
    throw new Error(`${entity}_filter has no key ${key}`)
  }

  private sortValue(entity: string, row: TruthRow, orderBy: string): { value: unknown; field: EntityField } {
    const [parent, child] = orderBy.split('__') as [string, string | undefined]
    const e = this.entity(entity)
    if (!child) return { value: row[parent], field: e.fields.find((f) => f.name === parent) as EntityField }
    const rel = this.related(entity, row, parent) as TruthRow | null
    const target = e.fields.find((f) => f.name === parent)?.ref ?? e.derived.find((d) => d.name === parent)?.entity
    const field = this.entity(target as string).fields.find((f) => f.name === child) as EntityField
    return { value: rel ? rel[child] : null, field }
  }

  private sort(entity: string, rows: TruthRow[], orderBy: string | undefined, desc: boolean): TruthRow[] {
    const dir = desc ? -1 : 1
    return [...rows].sort((a, b) => {
      if (orderBy && orderBy !== 'id') {
        const x = this.sortValue(entity, a, orderBy)
        const y = this.sortValue(entity, b, orderBy).value
        // Postgres' default: nulls sort as larger than every value.
        if (x.value === null && y !== null) return dir
        if (x.value !== null && y === null) return -dir
        if (x.value !== null && y !== null) {
          const c = order(x.field, x.value, y)
          if (c !== 0) return c * dir
        }
      }
      if (this.entity(entity).idKind === 'int8') return (BigInt(a.id) < BigInt(b.id) ? -1 : 1) * dir
      return (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) * dir
    })
  }

  private project(entity: string, row: TruthRow, select: Selection[]): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    const e = this.entity(entity)
    for (const s of select) {
      if (typeof s === 'string') {
        if (!(s in row)) throw new Error(`the truth has no ${entity}.${s}`)
        out[s] = row[s]
        continue
      }
      const target =
        e.fields.find((f) => f.name === s.field)?.ref ?? (e.derived.find((d) => d.name === s.field)?.entity as string)
      const rel = this.related(entity, row, s.field)
      if (Array.isArray(rel))
        out[s.field] = this.list(target, rel, s.args ?? {}).map((r) => this.project(target, r, s.select))
      else out[s.field] = rel ? this.project(target, rel, s.select) : null
    }
    return out
  }
}

const bucketStart = (p: TruthRow, length: bigint) => {
  const t = BigInt(p.timestamp as string)
  return t - (t % length)
}

/** One aggregate over points in id order, in plain bigint arithmetic. */
function aggregate(a: Aggregate, points: TruthRow[]): string {
  const values = points.map((p) => BigInt(p[a.arg?.name ?? 'id'] as string))
  switch (a.fn) {
    case 'count':
      return String(points.length)
    case 'sum':
      return String(values.reduce((x, y) => x + y, 0n))
    case 'min':
      return String(values.reduce((x, y) => (y < x ? y : x)))
    case 'max':
      return String(values.reduce((x, y) => (y > x ? y : x)))
    case 'first':
      return String(values[0])
    case 'last':
      return String(values.at(-1))
  }
}

const unwrap = (v: unknown): unknown => (v instanceof Enum ? v.name : Array.isArray(v) ? v.map(unwrap) : v)

function order(field: EntityField, a: unknown, b: unknown): number {
  if (field.kind === 'bigint' || field.kind === 'int8' || field.kind === 'timestamp') {
    const x = BigInt(a as string)
    const y = BigInt(b as string)
    return x < y ? -1 : x > y ? 1 : 0
  }
  if (field.kind === 'int') return (a as number) - (b as number)
  if (field.kind === 'boolean') return Number(a) - Number(b)
  return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0
}

function compare(
  field: EntityField,
  entities: Map<string, EntityModel>,
  x: unknown,
  suffix: string,
  raw: unknown,
): boolean {
  const lowerId = field.ref && entities.get(field.ref)?.idKind === 'bytes'
  const norm = (v: unknown) => (typeof v === 'string' && (field.kind === 'bytes' || lowerId) ? v.toLowerCase() : v)
  const v = Array.isArray(raw) ? raw.map(norm) : norm(raw)
  if (suffix === '') return v === null ? x === null : x !== null && order(field, x, v) === 0
  if (suffix === '_not') return v === null ? x !== null : x !== null && order(field, x, v) !== 0
  if (x === null || x === undefined) return false
  switch (suffix) {
    case '_gt':
      return order(field, x, v) > 0
    case '_lt':
      return order(field, x, v) < 0
    case '_gte':
      return order(field, x, v) >= 0
    case '_lte':
      return order(field, x, v) <= 0
    case '_in':
      return (v as unknown[]).some((y) => order(field, x, y) === 0)
    case '_not_in':
      return !(v as unknown[]).some((y) => order(field, x, y) === 0)
  }
  const negated = suffix.startsWith('_not_')
  const nocase = suffix.endsWith('_nocase')
  const op = suffix.replace(/^_not_/, '_').replace(/_nocase$/, '')
  let subject = x as string
  let needle = v as string
  if (nocase) {
    subject = subject.toLowerCase()
    needle = needle.toLowerCase()
  }
  let hit: boolean
  if (field.kind === 'bytes' && !field.ref) {
    // Bytes contain bytes: the needle's hex must start at an even offset.
    const hex = subject.slice(2)
    const part = needle.slice(2)
    hit = false
    for (let i = hex.indexOf(part); i >= 0; i = hex.indexOf(part, i + 1)) {
      if (i % 2 === 0) {
        hit = true
        break
      }
    }
  } else if (op === '_contains') hit = subject.includes(needle)
  else if (op === '_starts_with') hit = subject.startsWith(needle)
  else hit = subject.endsWith(needle)
  return negated ? !hit : hit
}
