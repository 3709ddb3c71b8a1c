import { readFileSync } from 'node:fs'
import { getTableColumns } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { aggregationTables, entityTables } from '../db/entities.generated'
import { readSchemaModel, snakeCase } from '../db/entity-model'
import { loadSchemaModel, SCHEMA_PATH } from '../db/schema-file'
import { buildApiModel } from './api-model'
import { readDescriptions } from './api-schema'
import { pluralize, queryFieldNames } from './entity-names'
import {
  type GraphQLInputObjectType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isListType,
  isNonNullType,
} from './graphql-js'
import { createApiSchema } from './resolvers'

const model = loadSchemaModel()
const schema = createApiSchema({
  api: buildApiModel(model),
  descriptions: readDescriptions(readFileSync(SCHEMA_PATH, 'utf8')),
})
const filterFields = (s: GraphQLSchema, type: string) =>
  (s.getType(`${type}_filter`) as GraphQLInputObjectType).getFields()
const suffixesOf = (s: GraphQLSchema, type: string, field: string) =>
  Object.keys(filterFields(s, type))
    .filter((k) => k === field || k.startsWith(`${field}_`))
    .map((k) => k.slice(field.length))
    .sort()

const NUMERIC = ['', '_gt', '_gte', '_in', '_lt', '_lte', '_not', '_not_in']
const STRING = [
  ...NUMERIC,
  '_contains',
  '_contains_nocase',
  '_ends_with',
  '_ends_with_nocase',
  '_not_contains',
  '_not_contains_nocase',
  '_not_ends_with',
  '_not_ends_with_nocase',
  '_not_starts_with',
  '_not_starts_with_nocase',
  '_starts_with',
  '_starts_with_nocase',
].sort()

describe('query field names', () => {
  it('pluralises type names the way graph-node (Rust inflector) does', () => {
    expect(pluralize('Job')).toBe('Jobs')
    expect(pluralize('Epoch')).toBe('Epoches')
    expect(pluralize('Network')).toBe('Networks')
    expect(pluralize('Box')).toBe('Boxes')
    expect(pluralize('Category')).toBe('Categories')
    expect(pluralize('Status')).toBe('Statuses')
    expect(pluralize('Person')).toBe('Persons') // the crate's rules are case-sensitive
    expect(pluralize('Analysis')).toBe('Analyses')
    expect(pluralize('sheep')).toBe('sheep')
  })

  it('names the root fields of every entity, appending _collection when plural equals singular', () => {
    const fields = Object.keys((schema.getQueryType() as GraphQLObjectType).getFields())
    expect(fields).toEqual([
      'provider',
      'providers',
      'stakeEvent',
      'stakeEvents',
      'model',
      'models',
      'client',
      'clients',
      'job',
      'jobs',
      'dispute',
      'disputes',
      'reward',
      'rewards',
      'epoch',
      'epoches',
      'network',
      'networks',
      // Timeseries are immutable entities in graph-node's API, queryable like any other.
      'networkDataPoint',
      'networkDataPoints',
      'providerDataPoint',
      'providerDataPoints',
      // Aggregations get the plural field only.
      'networkStats',
      'providerStats',
      '_meta',
    ])
    expect(queryFieldNames('Series')).toEqual({ singular: 'series', plural: 'series_collection' })
  })

  it('gives collections graph-node’s arguments and defaults, and single lookups id, block and subgraphError', () => {
    const q = (schema.getQueryType() as GraphQLObjectType).getFields()
    const jobs = Object.fromEntries((q.jobs?.args ?? []).map((a) => [a.name, [String(a.type), a.defaultValue]]))
    expect(jobs).toEqual({
      skip: ['Int', 0],
      first: ['Int', 100],
      orderBy: ['Job_orderBy', undefined],
      orderDirection: ['OrderDirection', undefined],
      where: ['Job_filter', undefined],
      block: ['Block_height', undefined],
      subgraphError: ['_SubgraphErrorPolicy_!', 'deny'],
    })
    expect(q.job?.args.map((a) => `${a.name}: ${a.type}`)).toEqual([
      'id: ID!',
      'block: Block_height',
      'subgraphError: _SubgraphErrorPolicy_!',
    ])
    expect(String(q.jobs?.type)).toBe('[Job!]!')
    expect(q._meta?.args.map((a) => `${a.name}: ${a.type}`)).toEqual(['block: Block_height'])
  })

  it('gives aggregations a required interval, current defaulting to exclude, and the collection arguments', () => {
    const q = (schema.getQueryType() as GraphQLObjectType).getFields()
    const args = Object.fromEntries(
      (q.providerStats?.args ?? []).map((a) => [a.name, [String(a.type), a.defaultValue]]),
    )
    expect(args).toEqual({
      skip: ['Int', 0],
      first: ['Int', 100],
      interval: ['Aggregation_interval!', undefined],
      orderBy: ['ProviderStat_orderBy', undefined],
      orderDirection: ['OrderDirection', undefined],
      current: ['Aggregation_current', 'exclude'],
      where: ['ProviderStat_filter', undefined],
      block: ['Block_height', undefined],
      subgraphError: ['_SubgraphErrorPolicy_!', 'deny'],
    })
    expect(String(q.providerStats?.type)).toBe('[ProviderStat!]!')
    const values = (name: string) =>
      (schema.getType(name) as unknown as { getValues(): { name: string }[] }).getValues().map((v) => v.name)
    expect(values('Aggregation_interval')).toEqual(['hour', 'day'])
    expect(values('Aggregation_current')).toEqual(['exclude', 'include'])
    const stat = (schema.getType('ProviderStat') as GraphQLObjectType).getFields()
    expect(String(stat.timestamp?.type)).toBe('Timestamp!')
    expect(String(stat.id?.type)).toBe('Int8!')
    expect(String(stat.provider?.type)).toBe('Provider!')
  })

  it('gives derived list fields collection arguments but no block', () => {
    const jobs = (schema.getType('Provider') as GraphQLObjectType).getFields().jobs
    expect(jobs?.args.map((a) => a.name)).toEqual(['skip', 'first', 'orderBy', 'orderDirection', 'where'])
    expect(String(jobs?.type)).toBe('[Job!]!')
    expect((schema.getType('Job') as GraphQLObjectType).getFields().dispute?.args).toEqual([])
  })
})

describe('filter suffixes, per graph-node’s field_filter_ops', () => {
  it('gives ID and BigInt fields the numeric set', () => {
    expect(suffixesOf(schema, 'Job', 'id')).toEqual(NUMERIC)
    expect(suffixesOf(schema, 'Job', 'payment')).toEqual(NUMERIC)
  })

  it('adds _contains and _not_contains for Bytes', () => {
    expect(suffixesOf(schema, 'Job', 'inputHash')).toEqual([...NUMERIC, '_contains', '_not_contains'].sort())
    expect(suffixesOf(schema, 'Provider', 'id')).toEqual([...NUMERIC, '_contains', '_not_contains'].sort())
  })

  it('gives String the full set with _nocase, starts_with and ends_with', () => {
    expect(suffixesOf(schema, 'Provider', 'metadataURI')).toEqual(STRING)
  })

  it('gives Boolean and enum fields equality and membership only', () => {
    expect(suffixesOf(schema, 'Epoch', 'finalized')).toEqual(['', '_in', '_not', '_not_in'])
    expect(suffixesOf(schema, 'Job', 'status')).toEqual(['', '_in', '_not', '_not_in'])
    expect(String(filterFields(schema, 'Job').status_in?.type)).toBe('[JobStatus!]')
  })

  it('filters single references by the related id as a String, plus a nested filter', () => {
    expect(suffixesOf(schema, 'Job', 'provider')).toEqual([...STRING, '_'].sort())
    expect(String(filterFields(schema, 'Job').provider?.type)).toBe('String')
    expect(String(filterFields(schema, 'Job').provider_?.type)).toBe('Provider_filter')
  })

  it('gives aggregations graph-node’s aggregation filters: ranges on id and timestamp, equality on dimensions', () => {
    expect(Object.keys(filterFields(schema, 'ProviderStat')).sort()).toEqual(
      [
        'id',
        'id_gt',
        'id_gte',
        'id_in',
        'id_lt',
        'id_lte',
        'timestamp',
        'timestamp_gt',
        'timestamp_gte',
        'timestamp_in',
        'timestamp_lt',
        'timestamp_lte',
        'provider',
        'provider_',
        '_change_block',
        'and',
        'or',
      ].sort(),
    )
    expect(String(filterFields(schema, 'ProviderStat').timestamp_in?.type)).toBe('[Timestamp!]')
    // Aggregates are sortable, not filterable.
    expect(Object.keys(filterFields(schema, 'NetworkStat'))).not.toContain('fees')
  })

  it('gives derived fields only the nested filter', () => {
    expect(suffixesOf(schema, 'Provider', 'jobs')).toEqual(['_'])
    expect(suffixesOf(schema, 'Job', 'dispute')).toEqual(['_'])
  })

  it('adds and, or and _change_block to every filter', () => {
    const f = filterFields(schema, 'Reward')
    expect(String(f.and?.type)).toBe('[Reward_filter]')
    expect(String(f.or?.type)).toBe('[Reward_filter]')
    expect(String(f._change_block?.type)).toBe('BlockChangedFilter')
  })
})

describe('orderBy values', () => {
  it('lists every field and parent__child for the scalar fields of single-valued relations', () => {
    const values = (schema.getType('Job_orderBy') as unknown as { getValues(): { name: string }[] })
      .getValues()
      .map((v) => v.name)
    expect(values).toContain('payment')
    expect(values).toContain('provider')
    expect(values).toContain('provider__stake')
    expect(values).toContain('provider__id')
    expect(values).toContain('dispute__status')
    expect(values).not.toContain('dispute__job')
    expect(values).not.toContain('provider__jobs')
  })

  it('sorts aggregations by their aggregates and dimensions too, for leaderboards', () => {
    const values = (schema.getType('ProviderStat_orderBy') as unknown as { getValues(): { name: string }[] })
      .getValues()
      .map((v) => v.name)
    expect(values).toEqual(
      expect.arrayContaining(['timestamp', 'rewards', 'jobsCompleted', 'stake', 'provider__stake']),
    )
  })
})

const SYSTEM_COLUMNS = ['vid', 'block_from', 'block_to']
const SQL_TYPES: Record<string, string> = {
  ID: 'text',
  Bytes: 'text',
  String: 'text',
  BigInt: 'numeric(78, 0)',
  Int8: 'bigint',
  Timestamp: 'bigint',
  Int: 'integer',
  Boolean: 'boolean',
}

/** Differences between an API schema and the drizzle tables the indexer writes. */
function drift(sdlModel: ReturnType<typeof loadSchemaModel>): string[] {
  const api = buildApiModel(sdlModel)
  const s = createApiSchema({ api })
  const problems: string[] = []
  const tables = entityTables as Record<string, Parameters<typeof getTableColumns>[0]>
  // Each interval of an aggregation has its own table with the aggregation type's columns.
  const intervalTables = Object.entries(aggregationTables).flatMap(([name, byInterval]) =>
    Object.values(byInterval).map((table) => [name, table] as [string, Parameters<typeof getTableColumns>[0]]),
  )
  for (const [name, table] of [...Object.entries(tables), ...intervalTables]) {
    const type = s.getType(name) as GraphQLObjectType | undefined
    if (!type) {
      problems.push(`table of ${name} has no GraphQL type`)
      continue
    }
    const derived = new Set(api.entities.get(name)?.entity.derived.map((d) => d.name))
    const columns = new Map(
      Object.entries(getTableColumns(table))
        .filter(([, c]) => !SYSTEM_COLUMNS.includes(c.name))
        .map(([key, c]) => [c.name, { key, type: c.getSQLType(), notNull: c.notNull }]),
    )
    for (const field of Object.values(type.getFields())) {
      if (derived.has(field.name)) continue
      const column = columns.get(snakeCase(field.name))
      const named = getNamedType(field.type)
      const expected = s.getType(`${named.name}_filter`) || isEnumType(named) ? 'text' : SQL_TYPES[named.name]
      if (!column) problems.push(`${name}.${field.name} has no column`)
      else if (column.type !== expected)
        problems.push(`${name}.${field.name}: column ${column.type}, GraphQL ${named.name}`)
      else if (isNonNullType(field.type) !== column.notNull) problems.push(`${name}.${field.name}: nullability differs`)
      columns.delete(snakeCase(field.name))
    }
    for (const column of columns.keys()) problems.push(`column ${name}.${column} is not in the API`)
  }
  for (const a of api.aggregations.values()) {
    for (const interval of a.entity.intervals) {
      const byInterval = (aggregationTables as Record<string, Record<string, unknown>>)[a.entity.name]
      if (!byInterval?.[interval]) problems.push(`aggregation ${a.entity.name} has no ${interval} table`)
    }
  }
  for (const e of api.entities.values()) {
    if (!(e.entity.name in tables)) problems.push(`entity ${e.entity.name} has no table`)
    for (const d of e.entity.derived) {
      const field = (s.getType(e.entity.name) as GraphQLObjectType).getFields()[d.name]
      if (!field || isListType(isNonNullType(field.type) ? field.type.ofType : field.type) !== d.list) {
        problems.push(`derived ${e.entity.name}.${d.name} is not exposed as declared`)
      }
    }
  }
  return problems
}

describe('the API schema against the stored tables', () => {
  it('exposes every column of every generated table with a matching type, and nothing that is not stored', () => {
    expect(drift(model)).toEqual([])
  })

  it('reports drift both ways when the schema file and the tables disagree', () => {
    const sdl = readFileSync(SCHEMA_PATH, 'utf8')
      .replace(/\n\s*metadataURI: String!/, '')
      .replace('jobCount: BigInt!\n  registeredAt', 'jobCount: BigInt!\n  popularity: BigInt!\n  registeredAt')
    expect(drift(readSchemaModel(sdl))).toEqual([
      'column Provider.metadata_uri is not in the API',
      'Model.popularity has no column',
    ])
  })

  it('carries the schema file’s descriptions into the API', () => {
    const job = schema.getType('Job') as GraphQLObjectType
    expect(job.getFields().id?.description).toBe('The on-chain job id, decimal')
    expect(schema.getType('Provider')?.description).toMatch(/compute provider/)
  })
})

describe('schema extensions', () => {
  it('adds other modules’ queries and mutations beside the entity API, with their resolvers', async () => {
    const { graphql } = await import('./graphql-js')
    const s = createApiSchema({
      api: buildApiModel(model),
      extensions: [
        {
          typeDefs: 'type Echo { text: String! }\nextend type Query { echo(text: String!): Echo! }',
          resolvers: { Query: { echo: { resolve: (_: never, args: { text: string }) => ({ text: args.text }) } } },
        },
        {
          typeDefs: 'extend type Mutation { shout(text: String!): String! }',
          resolvers: {
            Mutation: { shout: { resolve: (_: never, args: { text: string }) => args.text.toUpperCase() } },
          },
        },
      ],
    })
    expect(s.getQueryType()?.getFields().jobs).toBeDefined()
    const query = await graphql({ schema: s, source: '{ echo(text: "hi") { text } }' })
    expect(query).toEqual({ data: { echo: { text: 'hi' } } })
    const mutation = await graphql({ schema: s, source: 'mutation { shout(text: "hi") }' })
    expect(mutation).toEqual({ data: { shout: 'HI' } })
  })

  it('refuses hooks for a field no SDL declares, naming it', () => {
    expect(() =>
      createApiSchema({
        api: buildApiModel(model),
        extensions: [{ typeDefs: 'extend type Query { a: Int }', resolvers: { Query: { b: { resolve: () => 1 } } } }],
      }),
    ).toThrow('field hooks for Query.b, which the schema lacks')
  })
})
