import type { AggregationModel, EntityField, EntityModel, ScalarKind, SchemaModel } from '../db/entity-model'
import { queryFieldNames } from './entity-names'

export const DEFAULT_FIRST = 100 // graph-node's default for `first`

/** The GraphQL scalar each stored kind is exposed as (enums use their own type). */
export const GRAPHQL_SCALARS: Record<Exclude<ScalarKind, 'enum'>, string> = {
  id: 'ID',
  bytes: 'Bytes',
  bigint: 'BigInt',
  string: 'String',
  boolean: 'Boolean',
  int: 'Int',
  int8: 'Int8',
  timestamp: 'Timestamp',
}

const NUMERIC_OPS = ['', 'not', 'gt', 'lt', 'gte', 'lte', 'in', 'not_in'] as const
const STRING_OPS = [
  ...NUMERIC_OPS,
  'contains',
  'contains_nocase',
  'not_contains',
  'not_contains_nocase',
  'starts_with',
  'starts_with_nocase',
  'not_starts_with',
  'not_starts_with_nocase',
  'ends_with',
  'ends_with_nocase',
  'not_ends_with',
  'not_ends_with_nocase',
] as const
export type FilterOp = (typeof STRING_OPS)[number]

// graph-node's `field_filter_ops`: the suffixes each value type gets in `T_filter`.
const FILTER_OPS: Record<string, readonly FilterOp[]> = {
  Boolean: ['', 'not', 'in', 'not_in'],
  Bytes: [...NUMERIC_OPS, 'contains', 'not_contains'],
  ID: NUMERIC_OPS,
  BigInt: NUMERIC_OPS,
  BigDecimal: NUMERIC_OPS,
  Int: NUMERIC_OPS,
  Int8: NUMERIC_OPS,
  Timestamp: NUMERIC_OPS,
  String: STRING_OPS,
}
const ENUM_OPS: readonly FilterOp[] = ['', 'not', 'in', 'not_in']
// graph-node's ops for aggregations (`FilterOpsSet::Aggregation`): ranges on numbers and timestamps, equality otherwise.
const AGGREGATION_RANGE_OPS: readonly FilterOp[] = ['', 'gt', 'lt', 'gte', 'lte', 'in']
const AGGREGATION_RANGE_TYPES = new Set(['BigInt', 'BigDecimal', 'Int', 'Int8', 'Timestamp'])

/** How rows of an entity reach a related entity's rows. */
export type Relation =
  /** The row's own column holds the related id (`job.provider`). */
  | { kind: 'reference'; name: string; column: string; target: EntityModel }
  /** The related rows point back at this one (`provider.jobs` from `job.provider`). */
  | { kind: 'derived'; name: string; column: string; target: EntityModel; list: boolean }

/** What one key of `T_filter` means. */
export type FilterKey =
  | {
      kind: 'value'
      field: EntityField
      op: FilterOp
      /** The GraphQL type of the value (of each item for `_in`). */
      type: string
      /** Values name a Bytes id (references to Bytes-id entities take String values); compare in lower case. */
      lowerCase: boolean
    }
  | { kind: 'child'; relation: Relation }
  | { kind: 'and' }
  | { kind: 'or' }
  | { kind: 'change_block' }

/** What one value of `T_orderBy` sorts by. */
export type OrderKey =
  | { kind: 'field'; field: EntityField }
  | { kind: 'child'; relation: Relation; field: EntityField }
  | { kind: 'unsupported'; reason: string }

/** One entity as the API exposes it: query field names, filter keys, sort keys and relations. */
export interface EntityApi {
  entity: EntityModel
  singular: string
  plural: string
  filter: Map<string, FilterKey>
  orderBy: Map<string, OrderKey>
  /** Fields that resolve to other entities, by field name. */
  relations: Map<string, Relation>
}

/** An `@aggregation` type as the API exposes it: one plural query field with an `interval`. */
export interface AggregationApi extends EntityApi {
  entity: AggregationModel
}

export interface ApiModel {
  model: SchemaModel
  entities: Map<string, EntityApi>
  aggregations: Map<string, AggregationApi>
}

export function valueType(field: EntityField): string {
  if (field.kind === 'enum') return field.enumName as string
  return GRAPHQL_SCALARS[field.kind]
}

function relationsOf(entity: EntityModel, byName: Map<string, EntityModel>): Map<string, Relation> {
  const out = new Map<string, Relation>()
  const target = (name: string) => {
    const t = byName.get(name)
    if (!t) throw new Error(`${entity.name} refers to unknown entity ${name}`)
    return t
  }
  for (const f of entity.fields) {
    if (f.ref) out.set(f.name, { kind: 'reference', name: f.name, column: f.column, target: target(f.ref) })
  }
  for (const d of entity.derived) {
    const t = target(d.entity)
    const back = t.fields.find((f) => f.name === d.field)
    if (!back?.ref) throw new Error(`${entity.name}.${d.name} derives from ${d.entity}.${d.field}, not a reference`)
    out.set(d.name, { kind: 'derived', name: d.name, column: back.column, target: t, list: d.list })
  }
  return out
}

function filterKeys(entity: EntityModel, relations: Map<string, Relation>): Map<string, FilterKey> {
  const out = new Map<string, FilterKey>()
  const add = (field: EntityField, ops: readonly FilterOp[], type: string, lowerCase: boolean) => {
    for (const op of ops)
      out.set(op ? `${field.name}_${op}` : field.name, { kind: 'value', field, op, type, lowerCase })
  }
  if ('aggregates' in entity) {
    // Aggregates themselves are not filterable in graph-node: only id, timestamp and the dimensions are.
    const aggregated = new Set((entity as AggregationModel).aggregates.map((a) => a.field.name))
    for (const f of entity.fields.filter((x) => !aggregated.has(x.name))) {
      const relation = relations.get(f.name)
      if (relation) {
        add(f, [''], 'String', relation.target.idKind === 'bytes')
        out.set(`${f.name}_`, { kind: 'child', relation })
      } else {
        const type = valueType(f)
        add(f, AGGREGATION_RANGE_TYPES.has(type) ? AGGREGATION_RANGE_OPS : [''], type, false)
      }
    }
  }
  for (const f of 'aggregates' in entity ? [] : entity.fields) {
    const relation = relations.get(f.name)
    if (relation) {
      // graph-node filters references by the related id as a String, whatever the id's own type.
      add(f, FILTER_OPS.String as readonly FilterOp[], 'String', relation.target.idKind === 'bytes')
      out.set(`${f.name}_`, { kind: 'child', relation })
    } else if (f.kind === 'enum') {
      add(f, ENUM_OPS, valueType(f), false)
    } else {
      const type = valueType(f)
      add(f, FILTER_OPS[type] ?? ['', 'not'], type, false)
    }
  }
  for (const d of entity.derived) out.set(`${d.name}_`, { kind: 'child', relation: relations.get(d.name) as Relation })
  // graph-node's filter_type_defn gives aggregation filters these too.
  out.set('_change_block', { kind: 'change_block' })
  out.set('and', { kind: 'and' })
  out.set('or', { kind: 'or' })
  return out
}

function orderKeys(entity: EntityModel, relations: Map<string, Relation>): Map<string, OrderKey> {
  const out = new Map<string, OrderKey>()
  const childValues = (relation: Relation) => {
    // One level deep, scalar fields only: sorting by a child's own references or lists is not offered.
    for (const f of relation.target.fields) {
      if (!f.ref) out.set(`${relation.name}__${f.name}`, { kind: 'child', relation, field: f })
    }
  }
  for (const f of entity.fields) {
    out.set(f.name, { kind: 'field', field: f })
    const relation = relations.get(f.name)
    if (relation) childValues(relation)
  }
  for (const d of entity.derived) {
    const relation = relations.get(d.name) as Relation
    if (d.list) {
      out.set(d.name, {
        kind: 'unsupported',
        reason: `Ordering by \`${d.name}\` is not supported for type \`${entity.name}\``,
      })
      continue
    }
    const id = relation.target.fields.find((f) => f.name === 'id') as EntityField
    out.set(d.name, { kind: 'child', relation, field: id })
    childValues(relation)
  }
  return out
}

/** Derives the API's view of every entity from the schema model: the one source for the SDL and the SQL compilers. */
export function buildApiModel(model: SchemaModel): ApiModel {
  const byName = new Map(model.entities.map((e) => [e.name, e]))
  const entities = new Map<string, EntityApi>()
  const taken = new Map<string, string>()
  for (const entity of model.entities) {
    const relations = relationsOf(entity, byName)
    const names = queryFieldNames(entity.name)
    for (const n of [names.singular, names.plural]) {
      const other = taken.get(n)
      if (other) throw new Error(`query field ${n} of ${entity.name} clashes with ${other}'s`)
      taken.set(n, entity.name)
    }
    entities.set(entity.name, {
      entity,
      ...names,
      filter: filterKeys(entity, relations),
      orderBy: orderKeys(entity, relations),
      relations,
    })
  }
  const aggregations = new Map<string, AggregationApi>()
  for (const aggregation of model.aggregations) {
    const relations = relationsOf(aggregation, byName)
    // graph-node generates only the plural field for an aggregation.
    const names = queryFieldNames(aggregation.name)
    const other = taken.get(names.plural)
    if (other) throw new Error(`query field ${names.plural} of ${aggregation.name} clashes with ${other}'s`)
    taken.set(names.plural, aggregation.name)
    aggregations.set(aggregation.name, {
      entity: aggregation,
      ...names,
      filter: filterKeys(aggregation, relations),
      orderBy: orderKeys(aggregation, relations),
      relations,
    })
  }
  return { model, entities, aggregations }
}

/** The API of an entity or aggregation type by name. */
export function entityApi(api: ApiModel, name: string): EntityApi {
  const e = api.entities.get(name) ?? api.aggregations.get(name)
  if (!e) throw new Error(`no entity ${name}`)
  return e
}
