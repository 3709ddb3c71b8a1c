import { INTERVALS } from '../db/entity-model'
import { type AggregationApi, type ApiModel, DEFAULT_FIRST, type EntityApi, valueType } from './api-model'
import { type DocumentNode, Kind, parse } from './graphql-js'

/** Descriptions from the subgraph schema, keyed `Type`, `Type.field` or `Enum.VALUE`. */
export type Descriptions = Map<string, string>

// graph-node's meta.graphql: the types every subgraph's API shares.
const META_SDL = `
"Arbitrary-size integer, as a decimal string"
scalar BigInt
"Arbitrary-precision decimal, as a string"
scalar BigDecimal
"Byte array, as a 0x-prefixed lower-case hex string"
scalar Bytes
"8 bytes signed integer, as a decimal string"
scalar Int8
"Microseconds since the Unix epoch, as a decimal string"
scalar Timestamp

"The type for the top-level _meta field"
type _Meta_ {
  """
  Information about a specific subgraph block. The hash of the block
  will be null if the _meta field has a block constraint that asks for
  a block number that the gateway has not stored. It is filled for the latest block.
  """
  block: _Block_!
  "The deployment ID"
  deployment: String!
  "If \`true\`, the subgraph encountered indexing errors at some past block"
  hasIndexingErrors: Boolean!
}

type _Block_ {
  "The hash of the block"
  hash: Bytes
  "The block number"
  number: Int!
  "Integer representation of the timestamp stored in blocks for the chain"
  timestamp: Int
  "The hash of the parent block"
  parentHash: Bytes
}

input BlockChangedFilter {
  number_gte: Int!
}

"The block at which the query should be executed."
input Block_height {
  "Value containing a block hash"
  hash: Bytes
  "Value containing a block number"
  number: Int
  """
  Value containing the minimum block number.
  In the case of \`number_gte\`, the query will be executed on the latest block only if
  the subgraph has progressed to or past the minimum block number.
  Defaults to the latest block when omitted.
  """
  number_gte: Int
}

enum _SubgraphErrorPolicy_ {
  "Data will be returned even if the subgraph has indexing errors"
  allow
  "If the subgraph has indexing errors, data will be omitted. The default."
  deny
}

"Defines the order direction, either ascending or descending"
enum OrderDirection {
  asc
  desc
}
`

const BLOCK_ARG = 'block: Block_height, subgraphError: _SubgraphErrorPolicy_! = deny'

/** Reads the descriptions of the entity types, fields and enums of a subgraph schema. */
export function readDescriptions(sdl: string | DocumentNode): Descriptions {
  const doc = typeof sdl === 'string' ? parse(sdl) : sdl
  const out: Descriptions = new Map()
  for (const def of doc.definitions) {
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION) {
      if (def.description) out.set(def.name.value, def.description.value)
      for (const f of def.fields ?? []) {
        if (f.description) out.set(`${def.name.value}.${f.name.value}`, f.description.value)
      }
    } else if (def.kind === Kind.ENUM_TYPE_DEFINITION) {
      if (def.description) out.set(def.name.value, def.description.value)
      for (const v of def.values ?? []) {
        if (v.description) out.set(`${def.name.value}.${v.name.value}`, v.description.value)
      }
    }
  }
  return out
}

// A JSON string literal is a valid GraphQL string literal, escapes included.
const describe = (descriptions: Descriptions, key: string, indent = '') => {
  const d = descriptions.get(key)
  return d ? `${indent}${JSON.stringify(d)}\n` : ''
}

const collectionArgs = (e: EntityApi) =>
  `skip: Int = 0, first: Int = ${DEFAULT_FIRST}, orderBy: ${e.entity.name}_orderBy, ` +
  `orderDirection: OrderDirection, where: ${e.entity.name}_filter`

function objectType(api: ApiModel, e: EntityApi, descriptions: Descriptions): string {
  const name = e.entity.name
  const lines: string[] = []
  for (const f of e.entity.fields) {
    const relation = e.relations.get(f.name)
    const type = relation ? relation.target.name : valueType(f)
    lines.push(`${describe(descriptions, `${name}.${f.name}`, '  ')}  ${f.name}: ${type}${f.nullable ? '' : '!'}`)
  }
  for (const d of e.entity.derived) {
    const target = api.entities.get(d.entity) as EntityApi
    const doc = describe(descriptions, `${name}.${d.name}`, '  ')
    lines.push(
      d.list ? `${doc}  ${d.name}(${collectionArgs(target)}): [${d.entity}!]!` : `${doc}  ${d.name}: ${d.entity}`,
    )
  }
  return `${describe(descriptions, name)}type ${name} {\n${lines.join('\n')}\n}`
}

function filterType(e: EntityApi): string {
  const lines: string[] = []
  for (const [key, k] of e.filter) {
    if (k.kind === 'value') lines.push(`  ${key}: ${k.op === 'in' || k.op === 'not_in' ? `[${k.type}!]` : k.type}`)
    else if (k.kind === 'child') lines.push(`  ${key}: ${k.relation.target.name}_filter`)
    else if (k.kind === 'change_block')
      lines.push('  "Filter for the block changed event."\n  _change_block: BlockChangedFilter')
    else lines.push(`  ${key}: [${e.entity.name}_filter]`)
  }
  return `input ${e.entity.name}_filter {\n${lines.join('\n')}\n}`
}

const orderByType = (e: EntityApi) =>
  `enum ${e.entity.name}_orderBy {\n${[...e.orderBy.keys()].map((k) => `  ${k}`).join('\n')}\n}`

// graph-node's aggregation enums (graph/src/schema/api.rs); `current` defaults to exclude there too.
const AGGREGATION_SDL = `
"The period each bucket of an aggregation covers"
enum Aggregation_interval {
${Object.keys(INTERVALS)
  .map((i) => `  ${i}`)
  .join('\n')}
}

"Whether an aggregation query adds the current, partially filled bucket"
enum Aggregation_current {
  "Only buckets whose period has ended and that were rolled up. The default."
  exclude
  "Also the bucket in progress, computed from the data points written since the last rollup"
  include
}
`

const aggregationArgs = (a: AggregationApi) =>
  `skip: Int = 0, first: Int = ${DEFAULT_FIRST}, interval: Aggregation_interval!, orderBy: ${a.entity.name}_orderBy, ` +
  `orderDirection: OrderDirection, current: Aggregation_current = exclude, where: ${a.entity.name}_filter`

function queryType(api: ApiModel): string {
  const lines: string[] = []
  for (const e of api.entities.values()) {
    const name = e.entity.name
    lines.push(`  ${e.singular}(id: ID!, ${BLOCK_ARG}): ${name}`)
    lines.push(`  ${e.plural}(${collectionArgs(e)}, ${BLOCK_ARG}): [${name}!]!`)
  }
  for (const a of api.aggregations.values()) {
    const name = a.entity.name
    lines.push(`  "Collection of aggregated \`${name}\` values"`)
    lines.push(`  ${a.plural}(${aggregationArgs(a)}, ${BLOCK_ARG}): [${name}!]!`)
  }
  lines.push('  "Access to subgraph metadata"\n  _meta(block: Block_height): _Meta_')
  return `type Query {\n${lines.join('\n')}\n}`
}

/**
 * Renders the API schema in The Graph's dialect: entity and aggregation types, `T_filter`, `T_orderBy` and the root
 * queries. The
 * live-update `Subscription` root is a schema extension of its own (subscriptions/subscription-resolvers.ts).
 */
export function renderApiSchema({ api, descriptions = new Map() }: { api: ApiModel; descriptions?: Descriptions }) {
  const parts = [META_SDL.trim()]
  for (const [name, values] of Object.entries(api.model.enums)) {
    const body = values.map((v) => `${describe(descriptions, `${name}.${v}`, '  ')}  ${v}`).join('\n')
    parts.push(`${describe(descriptions, name)}enum ${name} {\n${body}\n}`)
  }
  for (const e of api.entities.values()) {
    parts.push(objectType(api, e, descriptions), orderByType(e), filterType(e))
  }
  if (api.aggregations.size > 0) parts.push(AGGREGATION_SDL.trim())
  for (const a of api.aggregations.values()) {
    parts.push(objectType(api, a, descriptions), orderByType(a), filterType(a))
  }
  parts.push(queryType(api))
  return `${parts.join('\n\n')}\n`
}
