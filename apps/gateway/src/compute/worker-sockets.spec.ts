import { Logger } from '@nestjs/common'
import type { LocalAccount } from 'viem'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { WORKER_SOCKET_DEFAULTS } from '../config/config'
import { type ComputeNetwork, startComputeNetwork } from './testing/compute-harness'
import { connectRawWorker, helloFor, type RawWorker, refusedUpgrade, SHIPPED_MODELS } from './testing/raw-worker'
import { WorkerGatewayService } from './worker-gateway.service'

const PROTOCOL_ERROR = 1002
const TOO_BIG = 1009
const PER_ADDRESS = 3
const TOTAL = 5
const HANDSHAKE_MS = 3_000
const MAX_BAD_FRAMES = 5

let cn: ComputeNetwork
const account = (i: number) => cn.net.accounts[i] as LocalAccount
const opened: RawWorker[] = []
const pending = () => cn.gateway.app.get(WorkerGatewayService).pendingConnections

async function waitFor(what: string, done: () => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

async function connect(localAddress?: string) {
  const raw = await connectRawWorker(cn.workersUrl, { localAddress })
  opened.push(raw)
  return raw
}

async function admitted(signer: LocalAccount) {
  const raw = await connect()
  raw.send(await helloFor({ signer, challenge: raw.challenge }))
  const welcome = await raw.next('welcome')
  const worker = cn.pool().get(welcome.workerId)
  if (!worker) throw new Error('welcomed but not in the pool')
  return { raw, worker }
}

/** Resolves once the gateway has read every frame `raw` sent before: a pong is handled in order with the rest. */
async function drained(raw: RawWorker, workerId: string) {
  raw.send({
    type: 'pong',
    id: 'sync',
    sentAt: 0,
    load: { queuedRequests: 0, queuedRows: 0, inFlight: 0, concurrency: 1, training: 0 },
  })
  await waitFor('the gateway reads the marker pong', () => (cn.pool().get(workerId)?.pingRttMs ?? 0) > 1e12)
}

/** The largest number of pool entries any of `providers` had at once, from now on. */
function watchPool(provider: string) {
  let most = 0
  const off = cn.pool().onChange(() => {
    most = Math.max(
      most,
      cn
        .pool()
        .all()
        .filter((w) => w.provider === provider).length,
    )
  })
  return { most: () => most, off }
}

beforeAll(async () => {
  cn = await startComputeNetwork({
    providers: 2,
    env: {
      COMPUTE_WORKER_PENDING_PER_ADDRESS: String(PER_ADDRESS),
      COMPUTE_WORKER_PENDING_MAX: String(TOTAL),
      COMPUTE_WORKER_HANDSHAKE_TIMEOUT_MS: String(HANDSHAKE_MS),
      COMPUTE_WORKER_MAX_BAD_FRAMES: String(MAX_BAD_FRAMES),
      // Nobody is dropped for silence while a test holds a connection quiet.
      COMPUTE_HEARTBEAT_MS: '60000',
    },
  })
}, 120_000)

afterEach(async () => {
  vi.restoreAllMocks()
  for (const raw of opened.splice(0)) raw.close()
  await waitFor('every test connection is gone', () => cn.pool().all().length === 0 && pending() === 0)
})

afterAll(async () => {
  await cn?.close()
})

describe('one connection is one worker', () => {
  it('refuses a second hello on an admitted connection and takes the worker out of the pool at once', async () => {
    const { raw, worker } = await admitted(account(1))
    const watch = watchPool(account(1).address)
    raw.send(await helloFor({ signer: account(1), challenge: raw.challenge }))
    expect((await raw.next('rejected')).reason).toBe(
      'protocol error: a second hello on one connection; one connection is one worker',
    )
    expect((await raw.closed).code).toBe(PROTOCOL_ERROR)
    expect(worker.isOpen).toBe(false)
    expect(watch.most()).toBe(0)
    watch.off()
  })

  it('refuses a second hello sent while the first is being checked, and admits neither', async () => {
    const watch = watchPool(account(1).address)
    const raw = await connect()
    const hello = await helloFor({ signer: account(1), challenge: raw.challenge })
    raw.send(hello)
    raw.send(hello)
    expect((await raw.closed).code).toBe(PROTOCOL_ERROR)
    // A later worker's admission passes through the same checks: by its welcome the first hello's check is done.
    await admitted(account(2))
    expect(watch.most()).toBe(0)
    watch.off()
  })
})

describe('worker connections before admission', () => {
  it('closes a connection whose first frame is larger than a hello may be', async () => {
    const raw = await connect()
    raw.ws.send('x'.repeat(WORKER_SOCKET_DEFAULTS.helloMaxBytes + 1))
    expect((await raw.closed).code).toBe(TOO_BIG)
  })

  it('takes frames as large as tasks need once the worker is admitted', async () => {
    const { raw, worker } = await admitted(account(1))
    const description = 'd'.repeat(2 * WORKER_SOCKET_DEFAULTS.helloMaxBytes)
    raw.send({ type: 'models', models: SHIPPED_MODELS.map((m) => ({ ...m, description })) })
    await waitFor('the large models frame is read', () => worker.modelEntries[0]?.description === description)
    expect(worker.isOpen).toBe(true)
  })

  it('refuses, with 429, more connections not yet admitted from one address than the limit', async () => {
    for (let i = 0; i < PER_ADDRESS; i++) await connect()
    const refused = await refusedUpgrade(cn.workersUrl)
    expect(refused).toEqual({
      status: 429,
      body: {
        error: {
          code: 'RATE_LIMITED',
          reason: 'WORKER_HANDSHAKES_PENDING',
          message: `${PER_ADDRESS} worker connections from 127.0.0.1 are not admitted yet (at most ${PER_ADDRESS}); retry shortly`,
        },
      },
    })
    await connect('127.0.0.2')
  })

  it('frees the slot of a connection once it closes or is admitted', async () => {
    const first = await connect()
    for (let i = 1; i < PER_ADDRESS; i++) await connect()
    first.close()
    await waitFor('the gateway sees the connection close', () => pending() === PER_ADDRESS - 1)
    await admitted(account(1))
    expect(pending()).toBe(PER_ADDRESS - 1)
    await connect()
  })

  it('refuses, with 503, connections past the limit on all connections not yet admitted', async () => {
    for (let i = 0; i < PER_ADDRESS; i++) await connect('127.0.0.2')
    for (let i = PER_ADDRESS; i < TOTAL; i++) await connect('127.0.0.3')
    const refused = await refusedUpgrade(cn.workersUrl, { localAddress: '127.0.0.4' })
    expect(refused.status).toBe(503)
    expect(refused.body).toMatchObject({ error: { code: 'UNAVAILABLE', reason: 'WORKER_HANDSHAKES_PENDING' } })
  })

  it('closes a connection that is not admitted within the handshake timeout', async () => {
    const raw = await connect()
    expect(await raw.closed).toEqual({ code: 4008, reason: `not admitted within ${HANDSHAKE_MS} ms` })
  })
})

describe('an admitted worker sending frames the gateway cannot use', () => {
  it('is logged a few times per minute, not once per frame', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn')
    const { raw, worker } = await admitted(account(1))
    for (let i = 0; i < 20; i++) {
      raw.send({ type: 'error', requestId: `nothing-${i}`, code: 'INTERNAL', message: 'late', retryable: true })
    }
    await drained(raw, worker.id)
    const lines = warn.mock.calls
      .map((c) => String(c[0]))
      .filter((l) => l.includes(`${worker.provider} (${worker.id})`))
    expect(lines).toHaveLength(WORKER_SOCKET_DEFAULTS.badFrameLogsPerWindow)
    expect(worker.isOpen).toBe(true)
  })

  it('is dropped once it has sent more malformed frames than the limit', async () => {
    const { raw, worker } = await admitted(account(1))
    for (let i = 0; i <= MAX_BAD_FRAMES; i++) raw.ws.send('{"type":"garbage"}')
    expect((await raw.closed).code).toBe(PROTOCOL_ERROR)
    expect(cn.pool().get(worker.id)).toBeUndefined()
  })
})
