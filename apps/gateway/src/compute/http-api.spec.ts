import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createClient } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type ComputeNetwork, startComputeNetwork } from './testing/compute-harness'

// The hostile and careless requests a public /v1 and /graphql meet, sent over real HTTP and WebSocket connections to
// the real gateway with one staked worker.

const ROW = [0.01, 0.03, -0.05, 0.8, 1.1, 0.7, 0.02, 55]
const OTHER_ROW = [0.02, -0.01, 0.04, 1.2, 0.9, 1.3, -0.01, 42]
const LIMIT = 1024 * 1024 // COMPUTE_MAX_BODY_BYTES's default

const run = promisify(execFile)

/** A Node client that declares and streams 16 MiB of JSON body and prints the answer, or the error it met. */
const UPLOAD = `
import { request } from 'node:http'
const chunk = Buffer.alloc(64 * 1024, 0x20)
const headers = { 'content-type': 'application/json', 'content-length': String(256 * chunk.length) }
const req = request(process.argv[1], { method: 'POST', headers }, (res) => {
  let body = ''
  res.on('data', (c) => { body += c })
  res.on('end', () => {
    console.log(JSON.stringify({ status: res.statusCode, connection: res.headers.connection, body: JSON.parse(body) }))
    process.exit(0)
  })
})
req.on('error', (e) => { console.log(JSON.stringify({ error: e.code })); process.exit(0) })
for (let i = 0; i < 256; i++) req.write(chunk)
req.end()
`

let cn: ComputeNetwork

beforeAll(async () => {
  cn = await startComputeNetwork({ providers: 1 })
  cn.startWorker({ provider: 1 })
  await cn.waitForWorkers(1)
}, 120_000)

afterAll(async () => {
  await cn?.close()
})

interface RestError {
  error: { code: string; reason?: string; message: string }
}

const post = async (path: string, body: string, headers: Record<string, string>) => {
  const res = await fetch(`${cn.baseUrl}${path}`, { method: 'POST', headers, body })
  return { status: res.status, body: (await res.json()) as RestError }
}

describe('requests from other sites', () => {
  it('refuses a form post to /v1/infer with 415, before anything runs', async () => {
    const res = await post('/v1/infer', new URLSearchParams({ model: 'volatility-mlp' }).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      origin: 'https://evil.example',
    })
    expect(res.status).toBe(415)
    expect(res.body.error).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNSUPPORTED_MEDIA_TYPE' })
    expect(res.body.error.message).toMatch(
      /takes a JSON body with content-type: application\/json, got "application\/x-www-form-urlencoded"/,
    )
  })

  it('refuses a text/plain post to /v1/infer even when its body is JSON', async () => {
    const res = await post('/v1/infer', JSON.stringify({ model: 'volatility-mlp', input: [ROW] }), {
      'content-type': 'text/plain; charset=json',
    })
    expect(res.status).toBe(415)
  })

  it('refuses mutations over the GraphQL WebSocket, which no CORS check guards', async () => {
    const client = createClient({ url: `${cn.baseUrl.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket })
    try {
      const errors = await new Promise<unknown>((resolve) => {
        client.subscribe(
          {
            query:
              'mutation { infer(input: { model: "volatility-mlp", input: [[1, 2, 3, 4, 5, 6, 7, 8]] }) { status } }',
          },
          { next: (value) => resolve(value.errors), error: resolve, complete: () => resolve(undefined) },
        )
      })
      expect(JSON.stringify(errors)).toMatch(/Mutations are served over HTTP .* not over WebSocket/)
    } finally {
      await client.dispose()
    }
  })
})

describe('request ids', () => {
  const infer = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    fetch(`${cn.baseUrl}/v1/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> & RestError }))

  it('answers 409 naming what differs when a request id comes back with another input', async () => {
    const first = await infer({ model: 'volatility-mlp', input: [ROW], requestId: 'bot-409-a' })
    expect(first.status).toBe(200)
    const again = await infer({ model: 'volatility-mlp', input: [OTHER_ROW], requestId: 'bot-409-a' })
    expect(again.status).toBe(409)
    expect(again.body.error).toEqual({
      code: 'CONFLICT',
      reason: 'REQUEST_ID_REUSED',
      message:
        'requestId "bot-409-a" was used before for a different request: input differs; send a new requestId for a new request',
    })
  })

  it('answers 409 when a request id comes back naming another model', async () => {
    expect((await infer({ model: 'volatility-mlp', input: [ROW], requestId: 'bot-409-b' })).status).toBe(200)
    const again = await infer({ model: 'price-direction-logistic', input: [ROW], requestId: 'bot-409-b' })
    expect(again.status).toBe(409)
    expect(again.body.error.message).toMatch(/: model differs;/)
  })

  it('keeps the same request id of two callers apart: neither reads nor claims the other’s', async () => {
    const [alice, bob] = [cn.net.accounts[6]?.address, cn.net.accounts[7]?.address]
    const a = await infer({ model: 'volatility-mlp', input: [ROW], requester: alice, requestId: 'shared-1' })
    const b = await infer({ model: 'volatility-mlp', input: [OTHER_ROW], requester: bob, requestId: 'shared-1' })
    const keyed = await infer(
      { model: 'volatility-mlp', input: [OTHER_ROW], requester: alice, requestId: 'shared-1' },
      { 'x-api-key': 'alice-secret' },
    )
    expect([a.status, b.status, keyed.status]).toEqual([200, 200, 200])
    expect(b.body.output).not.toEqual(a.body.output)
    expect(keyed.body.output).toEqual(b.body.output)
    expect(new Set([a.body.requestId, b.body.requestId, keyed.body.requestId]).size).toBe(3)
  })

  it('names each request by 128 random bits, never by the id the caller chose', async () => {
    const res = await infer({ model: 'volatility-mlp', input: [ROW], requestId: 'job-1' })
    expect(res.status).toBe(200)
    expect(res.body.requestId).toMatch(/^[0-9a-f]{32}$/)
    const fetched = await cn.get(`/v1/requests/${res.body.requestId}`)
    expect(fetched.body.output).toEqual(res.body.output)
    expect((await cn.get('/v1/requests/job-1')).status).toBe(404)
  })

  it('returns the first outcome to a retry with the same id and request', async () => {
    const first = await infer({ model: 'volatility-mlp', input: [ROW], requestId: 'bot-retry' })
    const again = await infer({ model: 'volatility-mlp', input: [ROW], requestId: 'bot-retry' })
    expect(again.status).toBe(200)
    expect(again.body).toEqual(first.body)
  })

  it('answers CONFLICT to a train mutation that reuses an id with other settings', async () => {
    const train = (epochs: number) =>
      cn.gateway.query<{ train: { id: string } }>(
        `mutation { train(input: { kind: "logistic", name: "conflict-probe", epochs: ${epochs}, seed: 1, requestId: "train-409",
          dataset: { kind: "generated", name: "market-direction", rows: 100, seed: 1 } }) { id status } }`,
      )
    const first = await train(1)
    expect(first.body.errors).toBeUndefined()
    expect(first.body.data?.train.id).toMatch(/^[0-9a-f]{32}$/)
    const again = await train(2)
    expect(again.body.errors?.[0]?.extensions).toEqual({ code: 'CONFLICT', reason: 'REQUEST_ID_REUSED' })
    expect(again.body.errors?.[0]?.message).toMatch(/: task differs;/)
  })

  it('answers CONFLICT over GraphQL for a reused id with another input', async () => {
    const mutation =
      'mutation($rows: [[Float!]!]) { infer(input: { model: "volatility-mlp", input: $rows, requestId: "gql-409" }) { status } }'
    expect((await cn.gateway.query(mutation, { rows: [ROW] })).body.errors).toBeUndefined()
    const again = await cn.gateway.query(mutation, { rows: [OTHER_ROW] })
    expect(again.body.errors?.[0]?.extensions).toEqual({ code: 'CONFLICT', reason: 'REQUEST_ID_REUSED' })
  })
})

describe('/v1 errors', () => {
  const json = { 'content-type': 'application/json' }

  it('answers a deeply nested input with 400 and a short message', async () => {
    const nested = `${'['.repeat(100_000)}${']'.repeat(100_000)}`
    const res = await post('/v1/infer', `{"model": "volatility-mlp", "input": ${nested}}`, json)
    expect(res.status).toBe(400)
    expect(res.body.error.message).toBe('input[0][0] must be a finite number, got an array of 1')
  })

  it('refuses a parameter named __proto__ instead of dropping it and serving the request', async () => {
    const body = `{"model": "volatility-mlp", "input": [${JSON.stringify(ROW)}], "parameters": {"__proto__": "x"}}`
    const res = await post('/v1/infer', body, json)
    expect(res.status).toBe(400)
    expect(res.body.error.message).toMatch(/parameters\.__proto__: __proto__ is a reserved name/)
  })

  it('answers invalid JSON in /v1’s error shape', async () => {
    const res = await post('/v1/infer', '{"model": ', json)
    expect(res.status).toBe(400)
    expect(res.body.error).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'BAD_JSON' })
    expect(res.body.error.message).toMatch(/^Request body is not valid JSON/)
  })

  it('answers a malformed percent-escape in the path in /v1’s error shape', async () => {
    const res = await fetch(`${cn.baseUrl}/v1/requests/%E0%A4%A`)
    expect(res.status).toBe(400)
    const body = (await res.json()) as RestError
    expect(body.error).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'BAD_PATH' })
    expect(body.error.message).toMatch(/malformed percent-escape/)
  })

  it('lets a Node client that uploads past the limit read the 413, in /v1’s error shape', async () => {
    // The client runs in a process of its own, as a bot does: in this one it would share the gateway's event loop,
    // which hides the race between its writes and the gateway closing the socket. Three uploads, since a gateway
    // that closes early loses that race only most of the time.
    const answers: string[] = []
    for (let i = 0; i < 3; i++) {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', UPLOAD, `${cn.baseUrl}/v1/infer`])
      answers.push(stdout.trim())
    }
    const expected = JSON.stringify({
      status: 413,
      connection: 'close',
      body: {
        error: {
          code: 'BAD_USER_INPUT',
          reason: 'BODY_TOO_LARGE',
          message: `Request body is 16777216 bytes, over the ${LIMIT}-byte limit (COMPUTE_MAX_BODY_BYTES)`,
        },
      },
    })
    expect(answers).toEqual([expected, expected, expected])
  })
})

describe('addresses', () => {
  it('names providers in lower case over REST, as over GraphQL', async () => {
    const provider = cn.providers[0]?.address.toLowerCase()
    const workers = (await cn.get('/v1/workers')).body as unknown as { provider: string }[]
    expect(workers.map((w) => w.provider)).toEqual([provider])
    const res = await cn.post('/v1/infer', { model: 'volatility-mlp', input: [ROW] })
    expect((res.body.worker as { provider: string }).provider).toBe(provider)
  })
})
