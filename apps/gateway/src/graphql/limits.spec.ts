import { describe, expect, it } from 'vitest'
import { loadSchemaModel } from '../db/schema-file'
import { buildApiModel } from './api-model'
import { formatGraphqlError, isInternalError } from './error-formatter'
import { BadUserInputError, LimitExceededError, RateLimitedError, UnavailableError } from './graphql.errors'
import { GraphQLError, parse, validate } from './graphql-js'
import { estimateCost, limitRules, operationStats } from './limits'
import { TokenBuckets } from './rate-limit'
import { createApiSchema } from './resolvers'

const schema = createApiSchema({ api: buildApiModel(loadSchemaModel()) })
const rules = limitRules({ maxDepth: 4, maxAliases: 2, maxDirectives: 2 })
const errors = (query: string) => validate(schema, parse(query), rules).map((e) => e.message)
const cost = (query: string, variables?: Record<string, unknown>) =>
  estimateCost({ schema, document: parse(query), variables })

describe('depth, alias and directive rules', () => {
  it('counts nesting through fragments and inline fragments, ignoring introspection', () => {
    const document = parse(`
      query { jobs { ...J } }
      fragment J on Job { provider { ... on Provider { jobs { id } } } }`)
    const op = document.definitions[0] as Parameters<typeof operationStats>[0]['operation']
    expect(operationStats({ operation: op, document }).depth).toBe(4)
    expect(errors('{ jobs { provider { jobs { client { id } } } } }')).toEqual([
      'Query is nested 5 levels deep; the limit is 4 (GRAPHQL_MAX_DEPTH)',
    ])
    expect(errors('{ __schema { types { fields { type { ofType { ofType { name } } } } } } }')).toEqual([])
  })

  it('counts aliases and directives as often as their fragments are spread', () => {
    expect(errors('{ a: jobs { id } b: jobs { id } }')).toEqual([])
    expect(errors('{ ...F ...F } fragment F on Query { a: jobs { id } }')).toEqual([])
    expect(errors('{ ...F ...F ...F } fragment F on Query { a: jobs { id } }')).toEqual([
      'Query uses 3 aliases; the limit is 2 (GRAPHQL_MAX_ALIASES)',
    ])
    expect(errors('{ jobs { id @skip(if: false) payment @include(if: true) status @skip(if: false) } }')).toEqual([
      'Query uses 3 directives; the limit is 2 (GRAPHQL_MAX_DIRECTIVES)',
    ])
  })

  it('measures a fragment bomb in linear time', () => {
    const levels = 40
    const fragments = Array.from(
      { length: levels },
      (_, i) => `fragment F${i} on Query { ${i + 1 < levels ? `...F${i + 1} ...F${i + 1}` : 'a: jobs { id }'} }`,
    ).join('\n')
    const started = performance.now()
    expect(errors(`{ ...F0 }\n${fragments}`)).toEqual([
      `Query uses ${2 ** (levels - 1)} aliases; the limit is 2 (GRAPHQL_MAX_ALIASES)`,
    ])
    expect(performance.now() - started).toBeLessThan(1_000)
  })
})

describe('estimateCost', () => {
  it('multiplies each list’s first (plus skip) by the rows of the lists around it', () => {
    expect(cost('{ jobs { id } }')).toBe(100)
    expect(cost('{ jobs(first: 10, skip: 5) { id provider { id } } }')).toBe(15 + 10)
    expect(cost('{ providers(first: 1000) { jobs(first: 100) { id client { id } } } }')).toBe(1000 + 1000 * (100 + 100))
    expect(cost('{ job(id: "1") { client { jobs(first: 7) { id } } } _meta { block { number } } }')).toBe(1 + 1 + 7 + 2)
  })

  it('reads first from variables, then their defaults, then graph-node’s default', () => {
    const q = 'query($n: Int, $m: Int = 3) { providers(first: $n) { jobs(first: $m) { id } } }'
    expect(cost(q, { n: 50 })).toBe(50 + 50 * 3)
    expect(cost(q, { n: 50, m: 1000 })).toBe(50 + 50 * 1000)
    expect(cost(q)).toBe(100 + 100 * 3)
  })

  it('costs statistics like lists, their dimension like a reference, and the bucket in progress as another page', () => {
    expect(cost('{ providerStats(interval: day, first: 30) { rewards provider { id } } }')).toBe(30 + 30)
    expect(cost('{ networkStats(interval: hour, first: 24, current: include) { fees } }')).toBe(24 + 24)
    expect(
      cost('query($c: Aggregation_current) { networkStats(interval: hour, current: $c) { fees } }', { c: 'include' }),
    ).toBe(200)
    expect(cost('{ providerStats(interval: day, first: 1000) { provider { jobs(first: 1000) { id } } } }')).toBe(
      1000 + 1000 * (1 + 1000),
    )
  })

  it('costs fragments once however often they are spread', () => {
    expect(cost('{ ...F ...F } fragment F on Query { jobs(first: 10) { id } }')).toBe(20)
  })
})

describe('TokenBuckets', () => {
  it('allows a burst, then refills at the configured rate', () => {
    let now = 0
    const buckets = new TokenBuckets({ perSecond: 2, burst: 3, now: () => now })
    expect([1, 2, 3].map(() => buckets.take('a').ok)).toEqual([true, true, true])
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 })
    expect(buckets.take('b').ok).toBe(true)
    now = 500
    expect(buckets.take('a').ok).toBe(true)
    expect(buckets.take('a').ok).toBe(false)
  })

  it('forgets idle clients before active ones when full', () => {
    let now = 0
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1, now: () => now, maxClients: 2 })
    buckets.take('idle')
    now = 5_000
    buckets.take('active')
    buckets.take('new')
    expect(buckets.size).toBe(2)
    expect(buckets.take('active').ok).toBe(false)
  })
})

describe('formatGraphqlError', () => {
  const resolverError = (original: Error) =>
    new GraphQLError(original.message, { path: ['jobs'], originalError: original })

  it('maps the gateway’s errors to their codes with their message', () => {
    expect(formatGraphqlError({ message: 'x' }, resolverError(new BadUserInputError('first must be …')))).toEqual({
      message: 'first must be …',
      extensions: { code: 'BAD_USER_INPUT' },
    })
    expect(formatGraphqlError({ message: 'x' }, resolverError(new UnavailableError('not yet')))).toMatchObject({
      extensions: { code: 'UNAVAILABLE' },
    })
    expect(formatGraphqlError({ message: 'x' }, new RateLimitedError('slow down', 1)).extensions?.code).toBe(
      'RATE_LIMITED',
    )
  })

  it('hides anything unexpected behind "Internal server error", with no stack', () => {
    const error = resolverError(new TypeError('cannot read properties of undefined'))
    const formatted = formatGraphqlError(
      { message: error.message, path: ['jobs'], extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at x'] } },
      error,
    )
    expect(formatted).toEqual({
      message: 'Internal server error',
      path: ['jobs'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    })
    expect(isInternalError(error)).toBe(true)
  })

  it('keeps graphql’s own messages and codes for malformed queries, and reports limits as BAD_USER_INPUT', () => {
    const parseError = new GraphQLError('Syntax Error: Expected Name, found <EOF>.')
    expect(isInternalError(parseError)).toBe(false)
    expect(
      formatGraphqlError(
        { message: parseError.message, extensions: { code: 'GRAPHQL_PARSE_FAILED', exception: {} } },
        parseError,
      ),
    ).toEqual({ message: parseError.message, extensions: { code: 'GRAPHQL_PARSE_FAILED' } })
    const limit = new LimitExceededError('Query is nested 12 levels deep; the limit is 10 (GRAPHQL_MAX_DEPTH)')
    const wrapped = new GraphQLError(limit.message, {
      originalError: limit,
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    })
    expect(
      formatGraphqlError({ message: limit.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }, wrapped),
    ).toEqual({
      message: limit.message,
      extensions: { code: 'BAD_USER_INPUT' },
    })
    const tokens = 'Syntax Error: Document contains more that 50 tokens. Parsing aborted.'
    expect(formatGraphqlError({ message: tokens }, new GraphQLError(tokens))).toEqual({
      message: 'Query has more than 50 tokens, the limit (GRAPHQL_MAX_TOKENS)',
      extensions: { code: 'BAD_USER_INPUT' },
    })
  })
})
