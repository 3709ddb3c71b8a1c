import {
  type DocumentNode,
  type FieldDefinitionNode,
  Kind,
  type ObjectTypeDefinitionNode,
  parse,
  type TypeNode,
} from 'graphql'

/** How an entity field is stored and exposed; read from subgraph/schema.graphql. */
export type ScalarKind = 'id' | 'bytes' | 'bigint' | 'string' | 'boolean' | 'int' | 'int8' | 'timestamp' | 'enum'

export interface EntityField {
  name: string
  column: string
  kind: ScalarKind
  nullable: boolean
  /** For references to another entity: that entity's name; the column holds its id. */
  ref?: string
  enumName?: string
}

export interface DerivedField {
  name: string
  entity: string
  /** The field of `entity` that points back here. */
  field: string
  list: boolean
}

export interface EntityModel {
  name: string
  table: string
  immutable: boolean
  /** `@entity(timeseries: true)`: immutable data points with an Int8 id and the block's Timestamp. */
  timeseries: boolean
  idKind: 'id' | 'bytes' | 'int8'
  fields: EntityField[]
  derived: DerivedField[]
}

/** graph-node's aggregation intervals, with their length in seconds. */
export const INTERVALS = { hour: 3_600, day: 86_400 } as const
export type Interval = keyof typeof INTERVALS

export const AGGREGATE_FNS = ['sum', 'count', 'min', 'max', 'first', 'last'] as const
export type AggregateFn = (typeof AGGREGATE_FNS)[number]

export interface Aggregate {
  /** The aggregation's field (and column) the value is stored in. */
  field: EntityField
  fn: AggregateFn
  /** The source timeseries field aggregated; null for `count`. */
  arg: EntityField | null
  cumulative: boolean
}

/**
 * An `@aggregation` type: its fields are `id`, `timestamp`, the dimensions (fields without `@aggregate`) and the
 * aggregates. One table per interval, named `<table>_<interval>`, as graph-node names them.
 */
export interface AggregationModel extends EntityModel {
  source: string
  intervals: Interval[]
  dimensions: EntityField[]
  aggregates: Aggregate[]
}

export interface SchemaModel {
  entities: EntityModel[]
  aggregations: AggregationModel[]
  enums: Record<string, string[]>
}

const SCALARS: Record<string, ScalarKind> = {
  ID: 'id',
  Bytes: 'bytes',
  BigInt: 'bigint',
  String: 'string',
  Boolean: 'boolean',
  Int: 'int',
  Int8: 'int8',
  Timestamp: 'timestamp',
}
const NUMERIC_KINDS = new Set<ScalarKind>(['bigint', 'int', 'int8'])

export const snakeCase = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()

function unwrap(type: TypeNode): { name: string; nullable: boolean; list: boolean } {
  let nullable = true
  let list = false
  let t = type
  if (t.kind === Kind.NON_NULL_TYPE) {
    nullable = false
    t = t.type
  }
  if (t.kind === Kind.LIST_TYPE) {
    list = true
    t = t.type.kind === Kind.NON_NULL_TYPE ? t.type.type : t.type
  }
  if (t.kind !== Kind.NAMED_TYPE) throw new Error('nested list types are not supported')
  return { name: t.name.value, nullable, list }
}

function directiveArg(node: FieldDefinitionNode | ObjectTypeDefinitionNode, directive: string, arg: string) {
  const d = node.directives?.find((x) => x.name.value === directive)
  const a = d?.arguments?.find((x) => x.name.value === arg)
  if (!d) return undefined
  if (!a) return null
  if (a.value.kind === Kind.LIST) return a.value.values.map((v) => (v.kind === Kind.STRING ? v.value : null))
  return a.value.kind === Kind.STRING || a.value.kind === Kind.BOOLEAN ? a.value.value : null
}

const hasDirective = (node: ObjectTypeDefinitionNode | FieldDefinitionNode, name: string) =>
  node.directives?.some((d) => d.name.value === name) ?? false

/** Reads the entity and aggregation types of a subgraph schema: the one model the tables and the API derive from. */
export function readSchemaModel(sdl: string | DocumentNode): SchemaModel {
  const doc = typeof sdl === 'string' ? parse(sdl) : sdl
  const enums: Record<string, string[]> = {}
  const objects: ObjectTypeDefinitionNode[] = []
  const aggregationTypes: ObjectTypeDefinitionNode[] = []
  for (const def of doc.definitions) {
    if (def.kind === Kind.ENUM_TYPE_DEFINITION) enums[def.name.value] = (def.values ?? []).map((v) => v.name.value)
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION && hasDirective(def, 'entity')) objects.push(def)
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION && hasDirective(def, 'aggregation')) aggregationTypes.push(def)
  }
  const entityNames = new Set(objects.map((o) => o.name.value))
  const readFields = (obj: ObjectTypeDefinitionNode, kind: 'entity' | 'timeseries' | 'aggregation') => {
    const name = obj.name.value
    const fields: EntityField[] = []
    const derived: DerivedField[] = []
    let idKind: EntityModel['idKind'] = 'id'
    for (const f of obj.fields ?? []) {
      const t = unwrap(f.type)
      const derivedFrom = directiveArg(f, 'derivedFrom', 'field')
      if (derivedFrom) {
        if (kind !== 'entity') throw new Error(`${name}.${f.name.value}: @derivedFrom is not allowed on ${kind} types`)
        derived.push({ name: f.name.value, entity: t.name, field: String(derivedFrom), list: t.list })
        continue
      }
      if (t.list) throw new Error(`${name}.${f.name.value}: list fields are not supported yet`)
      const column = snakeCase(f.name.value)
      if (f.name.value === 'id') {
        const kindOf = SCALARS[t.name]
        if (kind === 'entity' ? kindOf !== 'id' && kindOf !== 'bytes' : kindOf !== 'int8') {
          throw new Error(`${name}.id must be ${kind === 'entity' ? 'ID or Bytes' : 'Int8'}, got ${t.name}`)
        }
        idKind = kindOf as EntityModel['idKind']
        fields.push({ name: 'id', column: 'id', kind: idKind, nullable: false })
      } else if (entityNames.has(t.name)) {
        fields.push({ name: f.name.value, column, kind: 'string', nullable: t.nullable, ref: t.name })
      } else if (enums[t.name]) {
        fields.push({ name: f.name.value, column, kind: 'enum', nullable: t.nullable, enumName: t.name })
      } else {
        const scalar = SCALARS[t.name]
        if (!scalar) throw new Error(`${name}.${f.name.value}: unsupported type ${t.name}`)
        fields.push({ name: f.name.value, column, kind: scalar, nullable: t.nullable })
      }
    }
    if (kind !== 'entity' && fields.find((f) => f.name === 'timestamp')?.kind !== 'timestamp') {
      throw new Error(`${name} must have a timestamp: Timestamp! field`)
    }
    return { name, fields, derived, idKind }
  }
  const entities = objects.map((obj): EntityModel => {
    const timeseries = directiveArg(obj, 'entity', 'timeseries') === true
    const immutable = directiveArg(obj, 'entity', 'immutable')
    if (timeseries && immutable === false) throw new Error(`${obj.name.value}: a timeseries is always immutable`)
    const { name, fields, derived, idKind } = readFields(obj, timeseries ? 'timeseries' : 'entity')
    return {
      name,
      table: snakeCase(name),
      immutable: timeseries || immutable === true,
      timeseries,
      idKind,
      fields,
      derived,
    }
  })
  const aggregations = aggregationTypes.map((obj) => readAggregation(obj, readFields(obj, 'aggregation'), entities))
  // Reference columns take the kind of the referenced entity's id.
  for (const e of [...entities, ...aggregations]) {
    for (const f of e.fields) {
      if (f.ref) f.kind = entities.find((x) => x.name === f.ref)?.idKind === 'bytes' ? 'bytes' : 'id'
    }
  }
  return { entities, aggregations, enums }
}

/** An `@aggregation` type, checked against its source timeseries the way graph-node validates one. */
function readAggregation(
  obj: ObjectTypeDefinitionNode,
  read: { name: string; fields: EntityField[] },
  entities: EntityModel[],
): AggregationModel {
  const { name, fields } = read
  const sourceName = directiveArg(obj, 'aggregation', 'source')
  const source = entities.find((e) => e.name === sourceName)
  if (!source?.timeseries) {
    throw new Error(`${name}: @aggregation(source:) must name a timeseries type, got ${JSON.stringify(sourceName)}`)
  }
  const intervals = directiveArg(obj, 'aggregation', 'intervals')
  if (!Array.isArray(intervals) || intervals.length === 0 || intervals.some((i) => !(String(i) in INTERVALS))) {
    throw new Error(`${name}: @aggregation(intervals:) must list some of ${Object.keys(INTERVALS).join(', ')}`)
  }
  const dimensions: EntityField[] = []
  const aggregates: Aggregate[] = []
  for (const f of obj.fields ?? []) {
    const field = fields.find((x) => x.name === f.name.value) as EntityField
    if (!hasDirective(f, 'aggregate')) {
      if (field.name === 'id' || field.name === 'timestamp') continue
      const match = source.fields.find((x) => x.name === field.name)
      if (!match || match.ref !== field.ref || match.enumName !== field.enumName) {
        throw new Error(`${name}.${field.name}: a dimension must be a field of ${source.name} of the same type`)
      }
      dimensions.push(field)
      continue
    }
    const fn = directiveArg(f, 'aggregate', 'fn') as AggregateFn
    if (!AGGREGATE_FNS.includes(fn)) {
      throw new Error(`${name}.${field.name}: @aggregate(fn:) must be one of ${AGGREGATE_FNS.join(', ')}`)
    }
    if (!NUMERIC_KINDS.has(field.kind) || field.ref) {
      throw new Error(`${name}.${field.name}: an aggregate must be Int, Int8 or BigInt`)
    }
    const argName = directiveArg(f, 'aggregate', 'arg')
    const arg = fn === 'count' ? null : (source.fields.find((x) => x.name === argName) ?? null)
    // graph-node also takes SQL expressions over the source's fields; field names cover this schema's statistics.
    if (fn !== 'count' && (!arg || !NUMERIC_KINDS.has(arg.kind) || arg.ref)) {
      throw new Error(`${name}.${field.name}: @aggregate(arg:) must name a numeric field of ${source.name}`)
    }
    aggregates.push({ field, fn, arg, cumulative: directiveArg(f, 'aggregate', 'cumulative') === true })
  }
  if (aggregates.length === 0) throw new Error(`${name}: an aggregation needs at least one @aggregate field`)
  return {
    name,
    table: snakeCase(name),
    immutable: true,
    timeseries: false,
    idKind: 'int8',
    fields,
    derived: [],
    source: source.name,
    intervals: [...new Set(intervals as Interval[])].sort((a, b) => INTERVALS[a] - INTERVALS[b]),
    dimensions,
    aggregates,
  }
}

const COLUMN_BUILDERS: Record<ScalarKind, string> = {
  id: 'text',
  bytes: 'text',
  bigint: 'uint256',
  string: 'text',
  boolean: 'boolean',
  int: 'integer',
  int8: 'int8',
  timestamp: 'int8',
  enum: 'text',
}

/**
 * Renders the drizzle tables of every entity, versioned by block range the way graph-node stores them, and one table
 * per aggregation and interval. Timestamps are int8 microseconds since the epoch.
 */
export function renderEntityTables(model: SchemaModel): string {
  const out = [
    '// Generated from subgraph/schema.graphql by apps/gateway/scripts/generate-entities.ts. Do not edit.',
    "import { sql } from 'drizzle-orm'",
    "import { bigint, bigserial, boolean, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core'",
    "import { uint256 } from './columns'",
    '',
    "const int8 = (name: string) => bigint(name, { mode: 'bigint' })",
    '',
  ]
  for (const e of model.entities) {
    out.push(`export const ${lowerFirst(e.name)}Table = pgTable(`)
    out.push(`  '${e.table}',`)
    out.push('  {')
    out.push("    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),")
    for (const f of e.fields) {
      out.push(`    ${f.name}: ${COLUMN_BUILDERS[f.kind]}('${f.column}')${f.nullable ? '' : '.notNull()'},`)
    }
    out.push("    blockFrom: int8('block_from').notNull(),")
    out.push('    /** Null while this is the current version. */')
    out.push("    blockTo: int8('block_to'),")
    out.push('  },')
    out.push('  (t) => [')
    out.push(`    uniqueIndex('${e.table}_current').on(t.id).where(sql\`\${t.blockTo} is null\`),`)
    // Immutable entities have one version each: the current-id index serves them, and block_to stays null.
    // A version superseded after block n, by id: what a lookup at a past block reads besides the current version.
    if (!e.immutable) {
      out.push(`    index('${e.table}_id_block_to').on(t.id, t.blockTo).where(sql\`\${t.blockTo} is not null\`),`)
    }
    out.push(`    index('${e.table}_block_from').using('brin', t.blockFrom),`)
    if (!e.immutable) out.push(`    index('${e.table}_block_to').using('brin', t.blockTo),`)
    // Query indexes (db/query-indexes.ts) are built once the indexer has caught up; timeseries keep theirs here.
    if (e.timeseries) {
      for (const f of e.fields.filter((x) => x.ref)) out.push(`    index('${e.table}_${f.column}').on(t.${f.name}),`)
      // Rollups and the current bucket read data points by time.
      out.push(`    index('${e.table}_timestamp').on(t.timestamp),`)
    }
    out.push('  ],')
    out.push(')')
    out.push('')
  }
  for (const a of model.aggregations) {
    for (const interval of a.intervals) {
      const table = aggregationTable(a, interval)
      out.push(`export const ${lowerFirst(a.name)}${upperFirst(interval)}Table = pgTable(`)
      out.push(`  '${table}',`)
      out.push('  {')
      out.push("    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),")
      for (const f of a.fields) {
        out.push(`    ${f.name}: ${COLUMN_BUILDERS[f.kind]}('${f.column}')${f.nullable ? '' : '.notNull()'},`)
      }
      out.push('    /** The block whose time closed the bucket: a reorg that orphans it removes the row. */')
      out.push("    blockFrom: int8('block_from').notNull(),")
      out.push(
        '    /** Always null: buckets are never updated; kept so that queries read them as immutable entities. */',
      )
      out.push("    blockTo: int8('block_to'),")
      out.push('  },')
      out.push('  (t) => [')
      // One row per bucket and dimension values; the order also serves the lookup of a group's previous bucket.
      const bucket = [...a.dimensions.map((d) => `t.${d.name}`), 't.timestamp'].join(', ')
      out.push(`    uniqueIndex('${table}_bucket').on(${bucket}),`)
      out.push(`    index('${table}_block_from').using('brin', t.blockFrom),`)
      out.push('  ],')
      out.push(')')
      out.push('')
    }
  }
  out.push('export const entityTables = {')
  for (const e of model.entities) out.push(`  ${e.name}: ${lowerFirst(e.name)}Table,`)
  out.push('} as const')
  out.push('')
  out.push('export const aggregationTables = {')
  for (const a of model.aggregations) {
    const tables = a.intervals.map((i) => `${i}: ${lowerFirst(a.name)}${upperFirst(i)}Table`).join(', ')
    out.push(`  ${a.name}: { ${tables} },`)
  }
  out.push('} as const')
  out.push('')
  return out.join('\n')
}

/** The table of one interval of an aggregation, as graph-node names it (`network_stat_hour`). */
export const aggregationTable = (a: AggregationModel, interval: Interval) => `${a.table}_${interval}`

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

export const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1)
