import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Logger } from '@nestjs/common'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ConfigError, GRAPHQL_DEFAULTS, loadConfig } from '../config/config'
import { createScratchDatabase, openDatabase } from '../db/database'
import { TEST_POSTGRES_URL } from '../db/testing'
import { storeError } from './entity.repository'
import { UnavailableError } from './graphql.errors'
import { startTestGateway, type TestGateway } from './testing/gateway'

const LIMITS = {
  GRAPHQL_MAX_DEPTH: '4',
  GRAPHQL_MAX_ALIASES: '3',
  GRAPHQL_MAX_DIRECTIVES: '3',
  GRAPHQL_MAX_TOKENS: '200',
  GRAPHQL_MAX_COST: '6000',
  GRAPHQL_MAX_FIRST: '1000',
  GRAPHQL_MAX_SKIP: '50',
  GRAPHQL_MAX_BODY_BYTES: '4096',
  GRAPHQL_RATE_LIMIT_PER_SECOND: '1',
  GRAPHQL_RATE_LIMIT_BURST: '5',
  GRAPHQL_TRUST_PROXY_HOPS: '1',
  GRAPHQL_API_KEYS: 'partner-key',
  GRAPHQL_INTROSPECTION: '0',
  GRAPHQL_SUGGESTIONS: '0',
}

let gw: TestGateway
let ip = 0
/** A client of its own (behind the one trusted proxy), so that only the rate-limit tests meet the rate limit. */
const fresh = () => ({ 'x-forwarded-for': `198.51.100.${++ip}` })
const ask = (query: string, variables?: Record<string, unknown>) => gw.query(query, variables, fresh())
const STACK = /\n\s+at |stacktrace|node_modules|\.ts:\d+/

beforeAll(async () => {
  gw = await startTestGateway({ kind: 'pglite', env: LIMITS })
}, 60_000)
afterAll(async () => {
  await gw?.close()
})

describe('production limits on /graphql', () => {
  it('refuses queries nested deeper than the depth limit', async () => {
    const res = await ask('{ jobs { provider { jobs { client { id } } } } }')
    expect(res.status).toBe(400)
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        message: 'Query is nested 5 levels deep; the limit is 4 (GRAPHQL_MAX_DEPTH)',
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ])
    expect((await ask('{ jobs(first: 2) { provider { jobs(first: 2) { id } } } }')).status).toBe(200)
  })

  it('refuses more aliases or directives than allowed', async () => {
    const aliases = await ask('{ a: jobs { id } b: jobs { id } c: jobs { id } d: jobs { id } }')
    expect(aliases.body.errors?.[0]).toMatchObject({
      message: 'Query uses 4 aliases; the limit is 3 (GRAPHQL_MAX_ALIASES)',
      extensions: { code: 'BAD_USER_INPUT' },
    })
    const directives = await ask(
      '{ jobs { id @skip(if: false) status @skip(if: false) payment @skip(if: false) fee @skip(if: false) } }',
    )
    expect(directives.body.errors?.[0]?.message).toBe(
      'Query uses 4 directives; the limit is 3 (GRAPHQL_MAX_DIRECTIVES)',
    )
  })

  it('stops parsing past the token limit', async () => {
    const res = await ask(
      `{ jobs(where: { id_in: [${Array.from({ length: 200 }, (_, i) => `"${i}"`).join(', ')}] }) { id } }`,
    )
    expect(res.status).toBe(400)
    expect(res.body.errors?.[0]).toMatchObject({
      message: 'Query has more than 200 tokens, the limit (GRAPHQL_MAX_TOKENS)',
      extensions: { code: 'BAD_USER_INPUT' },
    })
  })

  it('refuses a query whose estimated rows exceed the cost limit, counting variables', async () => {
    const literal = await ask('{ providers(first: 100) { jobs(first: 100) { id } } }')
    expect(literal.status).toBe(400)
    expect(literal.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^Query would read about 10100 rows; the limit is 6000 \(GRAPHQL_MAX_COST\)/),
      extensions: { code: 'BAD_USER_INPUT' },
    })
    const q = 'query($n: Int) { providers(first: 10) { jobs(first: $n) { id } } }'
    expect((await ask(q, { n: 600 })).body.errors?.[0]?.message).toMatch(/about 6010 rows/)
    expect((await ask(q, { n: 500 })).body).toEqual({ data: { providers: [] } })
  })

  it('answers 413 with a clear message to a body over the limit, declared or streamed', async () => {
    const big = JSON.stringify({ query: `{ jobs { id } }${' '.repeat(5000)}` })
    const declared = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...fresh() },
      body: big,
    })
    expect(declared.status).toBe(413)
    expect(await declared.json()).toEqual({
      errors: [
        {
          message: `Request body is ${Buffer.byteLength(big)} bytes, over the 4096-byte limit (GRAPHQL_MAX_BODY_BYTES)`,
          extensions: { code: 'BAD_USER_INPUT' },
        },
      ],
    })
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        gw.url,
        { method: 'POST', headers: { 'content-type': 'application/json', ...fresh() } },
        (res) => {
          let body = ''
          res.on('data', (c) => {
            body += c
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        },
      )
      req.on('error', reject)
      // No Content-Length: chunked, so only counting the bytes catches it.
      for (let i = 0; i < 10; i++) req.write(big.slice(i * 600, (i + 1) * 600))
      req.end()
    })
    expect(streamed.status).toBe(413)
    expect(JSON.parse(streamed.body).errors[0].message).toMatch(/over the 4096-byte limit/)
  })

  it('answers 429 with RATE_LIMITED and Retry-After once a client has used its burst, per client', async () => {
    const client = { 'x-forwarded-for': '203.0.113.7' }
    const statuses: number[] = []
    for (let i = 0; i < 7; i++) statuses.push((await gw.query('{ _meta { deployment } }', undefined, client)).status)
    expect(statuses.slice(0, 5).every((s) => s !== 429)).toBe(true)
    expect(statuses.slice(5)).toEqual([429, 429])
    const limited = await gw.query('{ jobs { id } }', undefined, client)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('1')
    expect(limited.body.errors?.[0]).toEqual({
      message: 'Rate limit exceeded: 1 requests per second per client, bursts of 5; retry in 1 s',
      extensions: { code: 'RATE_LIMITED' },
    })
    // A forged address to the left of the proxy's own entry changes nothing; another client is not limited.
    expect((await gw.query('{ jobs { id } }', undefined, { 'x-forwarded-for': '10.0.0.1, 203.0.113.7' })).status).toBe(
      429,
    )
    expect((await gw.query('{ jobs { id } }', undefined, fresh())).status).toBe(200)
    // A configured API key has a bucket of its own; an unknown key counts against the IP.
    const partner = { ...client, 'x-api-key': 'partner-key' }
    expect((await gw.query('{ jobs { id } }', undefined, partner)).status).toBe(200)
    expect((await gw.query('{ jobs { id } }', undefined, { ...client, 'x-api-key': 'made-up' })).status).toBe(429)
  })

  it('names the argument and value for first and skip out of range', async () => {
    const first = await ask('{ jobs(first: 5000) { id } }')
    expect(first.body).toEqual({
      data: null,
      errors: [
        {
          message: 'first must be between 0 and 1000, got 5000',
          locations: [{ line: 1, column: 3 }],
          path: ['jobs'],
          extensions: { code: 'BAD_USER_INPUT' },
        },
      ],
    })
    const skip = await ask('{ jobs(skip: 60) { id } }')
    expect(skip.body.errors?.[0]?.message).toMatch(/^skip must be between 0 and 50, got 60; page past it with where/)
  })

  it('keeps its schema to itself when introspection and suggestions are off', async () => {
    const introspection = await ask('{ __schema { queryType { name } } }')
    expect(introspection.status).toBe(400)
    expect(introspection.body.errors?.[0]?.message).toMatch(/introspection is not allowed/)
    const typo = await ask('{ jobz { id } }')
    expect(typo.body.errors?.[0]).toMatchObject({
      message: 'Cannot query field "jobz" on type "Query".',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    })
  })
})

describe('bad queries', () => {
  it('answer with graphql’s message and code, and never a stack trace', async () => {
    const cases: [string, number, string, RegExp][] = [
      ['{ jobs { id ', 400, 'GRAPHQL_PARSE_FAILED', /^Syntax Error: Expected Name, found <EOF>\.$/],
      ['{ jobs { nope } }', 400, 'GRAPHQL_VALIDATION_FAILED', /^Cannot query field "nope" on type "Job"\.$/],
      [
        '{ jobs(first: "ten") { id } }',
        400,
        'GRAPHQL_VALIDATION_FAILED',
        /^Int cannot represent non-integer value: "ten"$/,
      ],
      [
        '{ jobs(where: { payment_gt: "1e18" }) { id } }',
        400,
        'GRAPHQL_VALIDATION_FAILED',
        /BigInt must be a decimal integer string, got "1e18"/,
      ],
      [
        '{ providers(where: { id: "0xabc" }) { id } }',
        400,
        'GRAPHQL_VALIDATION_FAILED',
        /Bytes must be a hex string of whole bytes/,
      ],
      [
        '{ jobs(orderBy: nope) { id } }',
        400,
        'GRAPHQL_VALIDATION_FAILED',
        /Value "nope" does not exist in "Job_orderBy" enum/,
      ],
      [
        '{ providers(orderBy: jobs) { id } }',
        200,
        'BAD_USER_INPUT',
        /^Ordering by `jobs` is not supported for type `Provider`$/,
      ],
      [
        '{ jobs(where: { status: DONE }) { id } }',
        400,
        'GRAPHQL_VALIDATION_FAILED',
        /Value "DONE" does not exist in "JobStatus" enum/,
      ],
      [
        '{ jobs(where: { provider_: { jobs_: { id: "1" } } }) { id } }',
        200,
        'BAD_USER_INPUT',
        /child filters cannot be nested/,
      ],
      [
        '{ jobs(where: { id: "1", or: [{ id: "2" }] }) { id } }',
        200,
        'BAD_USER_INPUT',
        /mixes column filters \(id\) with 'or'/,
      ],
      [
        '{ provider(id: "not hex") { id } }',
        200,
        'BAD_USER_INPUT',
        /^id must be a hex string of whole bytes for Provider, got "not hex"$/,
      ],
      [
        '{ jobs(block: { number: 1, hash: "0x00" }) { id } }',
        200,
        'BAD_USER_INPUT',
        /^block must name one of number, hash or number_gte/,
      ],
      ['{ _meta { block { number } } }', 200, 'UNAVAILABLE', /^_meta: no block has been indexed yet$/],
    ]
    for (const [query, status, code, message] of cases) {
      const res = await ask(query)
      expect.soft(res.status, query).toBe(status)
      expect.soft(res.body.errors?.[0]?.extensions?.code, query).toBe(code)
      expect.soft(res.body.errors?.[0]?.message, query).toMatch(message)
      expect.soft(JSON.stringify(res.body), query).not.toMatch(STACK)
    }
  })

  it('answers null for an id that does not exist', async () => {
    expect((await ask('{ job(id: "424242") { id } provider(id: "0x00") { id } }')).body).toEqual({
      data: { job: null, provider: null },
    })
  })

  it('hides an unexpected failure behind "Internal server error" with a request id, and logs it', async () => {
    await gw.database.query(sql`alter table model rename to model_gone`)
    const logged = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined)
    try {
      const res = await gw.query('{ models { id } }', undefined, { ...fresh(), 'x-request-id': 'req-123' })
      expect(res.body).toEqual({
        data: null,
        errors: [
          {
            message: 'Internal server error',
            locations: [{ line: 1, column: 3 }],
            path: ['models'],
            extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-123' },
          },
        ],
      })
      expect(res.headers.get('x-request-id')).toBe('req-123')
      expect(logged).toHaveBeenCalledWith(
        expect.stringMatching(/^request req-123: .*caused by: relation "model" does not exist$/s),
      )
    } finally {
      logged.mockRestore()
      await gw.database.query(sql`alter table model_gone rename to model`)
    }
  })

  it('answers GET requests for simple queries that carry the apollo-require-preflight header', async () => {
    const res = await fetch(`${gw.url}?query=${encodeURIComponent('{ jobs(first: 1) { id } }')}`, {
      headers: { ...fresh(), 'apollo-require-preflight': 'true' },
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ data: { jobs: [] } })
  })
})

describe('cross-site requests', () => {
  const CSRF = /blocked as a potential Cross-Site Request Forgery/

  it('refuses a form post from another site before it runs', async () => {
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: { ...fresh(), 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ query: '{ _meta { deployment } }' }).toString(),
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] }
    expect(body.errors[0]?.message).toMatch(CSRF)
    expect(body.errors[0]?.extensions.code).toBe('BAD_REQUEST')
  })

  it('refuses a text/plain post, which a page can send without a preflight', async () => {
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: { ...fresh(), 'content-type': 'text/plain' },
      body: JSON.stringify({ query: '{ _meta { deployment } }' }),
    })
    expect(res.status).toBe(400)
    expect(JSON.stringify(await res.json())).toMatch(CSRF)
  })

  it('refuses a GET without the apollo-require-preflight header', async () => {
    const res = await fetch(`${gw.url}?query=${encodeURIComponent('{ _meta { deployment } }')}`, { headers: fresh() })
    expect(res.status).toBe(400)
    expect(JSON.stringify(await res.json())).toMatch(CSRF)
  })
})

describe('limit configuration', () => {
  it('turns every limit on by default, from the documented defaults', () => {
    const { graphql } = loadConfig({})
    expect(graphql).toMatchObject({
      maxFirst: GRAPHQL_DEFAULTS.maxFirst,
      maxSkip: 5_000,
      maxDepth: 10,
      maxAliases: 30,
      maxDirectives: 50,
      maxTokens: 5_000,
      maxCost: 100_000,
      maxBodyBytes: 262_144,
      rateLimit: { perSecond: 50, burst: 100, apiKeyHeader: 'x-api-key', apiKeys: [], trustProxyHops: 0 },
      statementTimeoutMs: 30_000,
      introspection: true,
      suggestions: true,
    })
    expect(loadConfig({ NODE_ENV: 'production' }).graphql).toMatchObject({ suggestions: false, graphiql: false })
  })

  it('turns introspection off in production unless GRAPHQL_INTROSPECTION turns it on', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).graphql.introspection).toBe(false)
    expect(loadConfig({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: '1' }).graphql.introspection).toBe(true)
  })

  it('serves the GraphiQL explorer outside production unless GRAPHQL_GRAPHIQL turns it off or on', () => {
    expect(loadConfig({}).graphql.graphiql).toBe(true)
    expect(loadConfig({ GRAPHQL_GRAPHIQL: '0' }).graphql.graphiql).toBe(false)
    expect(loadConfig({ NODE_ENV: 'production', GRAPHQL_GRAPHIQL: '1' }).graphql.graphiql).toBe(true)
  })

  it('fails fast on a bad value, naming the variable', () => {
    expect(() => loadConfig({ GRAPHQL_MAX_DEPTH: 'deep' })).toThrow(
      new ConfigError('Invalid GRAPHQL_MAX_DEPTH="deep": expected a non-negative integer'),
    )
    expect(() => loadConfig({ GRAPHQL_INTROSPECTION: 'yes' })).toThrow(
      'Invalid GRAPHQL_INTROSPECTION="yes": expected 1, 0, true or false',
    )
  })

  it('reports a statement cut by the database’s timeout as UNAVAILABLE, keeping the cause', async () => {
    const scratch = await createScratchDatabase(TEST_POSTGRES_URL)
    const dataDir = await mkdtemp(path.join(tmpdir(), 'cg-timeout-'))
    // Migrate first without a timeout; the second open only checks the migrations, which stays far below 300 ms.
    await (await openDatabase({ databaseUrl: scratch.url, dataDir })).close()
    const database = await openDatabase({ databaseUrl: scratch.url, dataDir, statementTimeoutMs: 300 })
    try {
      const error = await database.query(sql`select pg_sleep(3)`).catch((e: unknown) => e)
      const mapped = storeError(error)
      expect(mapped).toBeInstanceOf(UnavailableError)
      expect((mapped as UnavailableError).message).toMatch(/statement timeout/)
      expect((mapped as UnavailableError).cause).toBe(error)
      expect(storeError(new Error('syntax error'))).not.toBeInstanceOf(UnavailableError)
    } finally {
      await database.close()
      await scratch.drop()
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
