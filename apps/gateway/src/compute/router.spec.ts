import type { ModelEntry } from '@computegraph/gpu-worker/model-manifest'
import type { HelloMessage, InferMessage, ResultMessage, WorkerMessage } from '@computegraph/gpu-worker/protocol'
import { type Hex, zeroAddress } from 'viem'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { WebSocket } from 'ws'
import { type ComputeConfig, WORKER_SOCKET_DEFAULTS } from '../config/config'
import {
  ComputeDeadlineError,
  InvalidComputeInputError,
  NoWorkerForModelError,
  PriceTooLowError,
  WorkerFailedError,
  WorkersBusyError,
} from './compute.errors'
import { InvalidResultError, Router } from './router'
import { LiveWorker, WorkerPool } from './worker-pool'

const MODEL = `0x${'a'.repeat(64)}` as Hex
const OTHER_MODEL = `0x${'b'.repeat(64)}` as Hex

const config: ComputeConfig = {
  enabled: true,
  workersPath: '/workers',
  requestTimeoutMs: 5_000,
  attemptTimeoutMs: 2_000,
  attemptFloorMs: 1_000,
  maxAttempts: 3,
  maxQueuePerWorker: 0,
  suspendAfterErrors: 2,
  suspendMs: 30_000,
  heartbeatMs: 1_000,
  spotCheckShare: 0,
  slashAmount: 0n,
  maxBodyBytes: 1_024 * 1_024,
  onchainJobs: false,
  queuedRequestTtlMs: 60_000,
  leaseMs: 15_000,
  workerSockets: WORKER_SOCKET_DEFAULTS,
}

/** What a stub worker does with a task: answer with a frame, stay silent, or drop its connection. */
type Behaviour = (task: InferMessage) => WorkerMessage | 'silent' | 'disconnect'

const ok: Behaviour = (task) => result(task.requestId)
const fails =
  (code: string, retryable: boolean): Behaviour =>
  (task) => ({ type: 'error', requestId: task.requestId, code: code as never, message: `${code} here`, retryable })

function result(requestId: string): ResultMessage {
  return {
    type: 'result',
    requestId,
    output: { dtype: 'float32', shape: [1, 1], data: Float32Array.of(0.5) },
    receipt: {} as ResultMessage['receipt'],
    signature: '0x',
    timings: { queuedMs: 0, runMs: 0, totalMs: 0 },
    batch: { rows: 1, requests: 1 },
  }
}

/** A real LiveWorker whose socket is a stub that answers each task as `behave` says, on the next tick. */
function stubWorker(
  id: string,
  {
    behave = ok,
    models = [MODEL],
    price = 0n,
    stake = 1_000n,
    concurrency = 1,
    provider = `0x${id.padStart(40, '0')}`,
    trains = false,
  }: {
    behave?: Behaviour
    models?: Hex[]
    price?: bigint
    stake?: bigint
    concurrency?: number
    provider?: string
    trains?: boolean
  } = {},
) {
  const tasks: InferMessage[] = []
  const hello = {
    provider,
    device: { kind: 'cpu', name: 'stub', memoryBytes: 1 },
    runtime: { name: 'onnxruntime-node', version: '0', executionProvider: 'cpu', runtimeId: MODEL },
    models: models.map((m) => ({ id: m }) as ModelEntry),
    concurrency,
    maxBatchSize: 1,
    pricePerUnit: price.toString(),
    software: 'stub',
    training: { kinds: trains ? ['mlp-regressor'] : [], runtimeId: MODEL },
  } as unknown as HelloMessage
  const socket = {
    send(text: string) {
      const message = JSON.parse(text) as InferMessage
      if (message.type !== 'infer') return
      tasks.push(message)
      const answer = behave(message)
      setImmediate(() => {
        if (answer === 'disconnect') worker.close({ reason: 'socket closed' })
        else if (answer !== 'silent') worker.deliver(answer)
      })
    },
    close() {},
  }
  const worker = new LiveWorker(id, socket as unknown as WebSocket, hello, stake)
  return Object.assign(worker, { tasks })
}

function setup(workers: LiveWorker[], over: Partial<ComputeConfig> = {}) {
  const pool = new WorkerPool()
  for (const w of workers) pool.add(w)
  return { pool, router: new Router(pool, { ...config, ...over }) }
}

let nextId = 0
function dispatch(router: Router, over: Partial<Parameters<Router['dispatch']>[0]> = {}) {
  const requestId = `r${nextId++}`
  return router.dispatch<ResultMessage>({
    modelId: MODEL,
    task: (): InferMessage => ({
      type: 'infer',
      requestId,
      modelId: MODEL,
      input: { dtype: 'float32', shape: [1, 8], data: new Float32Array(8) },
      parameters: {},
      requester: zeroAddress,
      jobId: '0',
      price: '0',
      deadlineMs: 1_000,
    }),
    deadline: Date.now() + 5_000,
    wait: false,
    check: () => {},
    ...over,
  })
}

afterEach(() => {
  vi.useRealTimers()
})

describe('Router', () => {
  it('returns the answer of the chosen worker after one attempt', async () => {
    const w1 = stubWorker('1')
    const { router } = setup([w1])
    const out = await dispatch(router)
    expect(out.worker).toBe(w1)
    expect(out.attempts).toBe(1)
    expect(w1.completed).toBe(1)
    expect(w1.outstanding).toBe(0)
  })

  it('retries a retryable worker error on another worker and counts the failure against the first', async () => {
    const bad = stubWorker('1', { behave: fails('INTERNAL', true), stake: 2_000n })
    const good = stubWorker('2')
    const { router } = setup([bad, good])
    const out = await dispatch(router)
    expect(out).toMatchObject({ worker: good, attempts: 2 })
    expect(bad.tasks).toHaveLength(1)
    expect(bad.failed).toBe(1)
  })

  it('retries on another worker when the first disconnects while holding the request', async () => {
    const leaving = stubWorker('1', { behave: () => 'disconnect', stake: 2_000n })
    const good = stubWorker('2')
    const { router } = setup([leaving, good])
    expect(await dispatch(router)).toMatchObject({ worker: good, attempts: 2 })
    expect(leaving.isOpen).toBe(false)
  })

  it('retries on another worker when the first does not answer within the attempt timeout', async () => {
    const silent = stubWorker('1', { behave: () => 'silent', stake: 2_000n })
    const good = stubWorker('2')
    const { router } = setup([silent, good], { attemptTimeoutMs: 30 })
    expect(await dispatch(router)).toMatchObject({ worker: good, attempts: 2 })
    expect(silent.outstanding).toBe(0)
    expect(silent.failed).toBe(1)
  })

  it('retries on a worker of another provider, not on a second worker of the provider that failed', async () => {
    const bad = stubWorker('1', { behave: fails('INTERNAL', true), stake: 3_000n })
    const sibling = stubWorker('2', { provider: bad.provider, stake: 2_000n })
    const other = stubWorker('3')
    const { router } = setup([bad, sibling, other])
    expect(await dispatch(router)).toMatchObject({ worker: other, attempts: 2 })
    expect(sibling.tasks).toHaveLength(0)
  })

  it('retries on a measured worker, not on another newcomer, after a new worker stays silent', async () => {
    // Rogues that reconnect under fresh ids: each would be tried first as a newcomer, and a retry must not be spent
    // on a second one while a worker known to answer has room.
    const rogue1 = stubWorker('1', { behave: () => 'silent' })
    const rogue2 = stubWorker('2', { behave: () => 'silent' })
    const good = stubWorker('3')
    good.latencyEmaMs = 50
    const { router } = setup([rogue1, rogue2, good], { attemptTimeoutMs: 30, maxAttempts: 2 })
    const out = await dispatch(router)
    expect(out).toMatchObject({ worker: good, attempts: 2 })
    expect(rogue1.tasks.length + rogue2.tasks.length).toBe(1)
  })

  it('gives up on a measured worker after ten times its usual latency, not after the fixed attempt budget', async () => {
    const stalled = stubWorker('1', { behave: () => 'silent' })
    stalled.latencyEmaMs = 2
    const { router } = setup([stalled], { attemptTimeoutMs: 10_000, attemptFloorMs: 20 })
    const error = await dispatch(router).catch((e: Error) => e)
    expect(error).toBeInstanceOf(WorkerFailedError)
    expect((error as Error).message).toMatch(/did not answer within 20 ms$/)
  })

  it('lets a training task run past the attempt budget, to its deadline', async () => {
    // Under load a training run took longer than COMPUTE_ATTEMPT_TIMEOUT_MS and was failed as "did not answer".
    const trainer = stubWorker('1', { behave: () => 'silent', trains: true })
    const { router } = setup([trainer], { attemptTimeoutMs: 20 })
    const done = router.dispatch<ResultMessage>({
      modelId: null,
      // The stub answers infer frames only; what the router does with the attempt is the same for a train frame.
      task: (): InferMessage => ({
        type: 'infer',
        requestId: 'training-1',
        modelId: MODEL,
        input: { dtype: 'float32', shape: [1, 8], data: new Float32Array(8) },
        parameters: {},
        requester: zeroAddress,
        jobId: '0',
        price: '0',
        deadlineMs: 5_000,
      }),
      deadline: Date.now() + 5_000,
      wait: true,
      check: async () => {},
    })
    await new Promise((r) => setTimeout(r, 200))
    // Ten attempt budgets later the task is still with its worker, which now answers.
    expect(trainer.outstanding).toBe(1)
    trainer.deliver(result('training-1'))
    expect(await done).toMatchObject({ worker: trainer, attempts: 1 })
  })

  it('refuses an answer the check rejects and takes the next worker’s', async () => {
    const liar = stubWorker('1', { stake: 2_000n })
    const good = stubWorker('2')
    const { router } = setup([liar, good])
    const out = await dispatch(router, {
      check: ({ worker }) => {
        if (worker === liar) throw new InvalidResultError('receipt.outputHash does not match the output')
      },
    })
    expect(out).toMatchObject({ worker: good, attempts: 2 })
    expect(liar.failed).toBe(1)
    expect(liar.completed).toBe(0)
  })

  it('gives BAD_INPUT from a worker back to the client without retrying or blaming the worker', async () => {
    const w1 = stubWorker('1', { behave: fails('BAD_INPUT', false), stake: 2_000n })
    const w2 = stubWorker('2')
    const { router } = setup([w1, w2])
    const error = await dispatch(router).catch((e: Error) => e)
    expect(error).toBeInstanceOf(InvalidComputeInputError)
    expect((error as Error).message).toBe('BAD_INPUT here')
    expect(w2.tasks).toHaveLength(0)
    expect(w1.failed).toBe(0)
  })

  it('stops at the attempt cap and names it', async () => {
    const workers = ['1', '2', '3'].map((id) => stubWorker(id, { behave: fails('INTERNAL', true) }))
    const { router } = setup(workers, { maxAttempts: 2 })
    const error = await dispatch(router).catch((e: Error) => e)
    expect(error).toBeInstanceOf(WorkerFailedError)
    expect((error as Error).message).toMatch(
      /failed on 2 worker\(s\) \(COMPUTE_MAX_ATTEMPTS=2\); last error: .*INTERNAL/,
    )
    expect(workers.reduce((n, w) => n + w.tasks.length, 0)).toBe(2)
  })

  it('fails with WORKER_FAILED once every worker holding the model has failed, below the cap', async () => {
    const workers = ['1', '2'].map((id) => stubWorker(id, { behave: fails('INTERNAL', true) }))
    const { router } = setup(workers, { maxAttempts: 5 })
    const error = await dispatch(router).catch((e: Error) => e)
    expect(error).toBeInstanceOf(WorkerFailedError)
    expect((error as Error).message).toMatch(/all 2 worker\(s\) that could take the request failed/)
  })

  it('stops at the deadline when the only worker stays silent', async () => {
    const silent = stubWorker('1', { behave: () => 'silent' })
    const { router } = setup([silent], { attemptTimeoutMs: 10_000 })
    const error = await dispatch(router, { deadline: Date.now() + 50, wait: true }).catch((e: Error) => e)
    expect(error).toBeInstanceOf(ComputeDeadlineError)
    expect((error as Error).message).toMatch(/after 1 attempt\(s\); last error: .*did not answer within/)
  })

  it('stops at the deadline while waiting for a worker that never comes', async () => {
    const { router } = setup([])
    const error = await dispatch(router, { deadline: Date.now() + 50, wait: true }).catch((e: Error) => e)
    expect(error).toBeInstanceOf(ComputeDeadlineError)
    expect((error as Error).message).toMatch(/after 0 attempt\(s\)/)
  })

  it('waits for a worker that joins while the request waits', async () => {
    const { pool, router } = setup([])
    const late = stubWorker('1')
    setTimeout(() => pool.add(late), 20)
    expect(await dispatch(router, { wait: true })).toMatchObject({ worker: late, attempts: 1 })
  })

  it('says no worker holds the model when wait is off', async () => {
    const { router } = setup([stubWorker('1', { models: [OTHER_MODEL] })])
    const error = await dispatch(router).catch((e: Error) => e)
    expect(error).toBeInstanceOf(NoWorkerForModelError)
    expect((error as Error).message).toBe(`no connected worker holds model ${MODEL}`)
  })

  it('says all workers are busy when wait is off and every holder is at capacity', async () => {
    const w1 = stubWorker('1', { behave: () => 'silent' })
    const { router } = setup([w1])
    const first = dispatch(router).catch(() => {})
    const error = await dispatch(router).catch((e: Error) => e)
    expect(error).toBeInstanceOf(WorkersBusyError)
    expect((error as Error).message).toBe('all 1 worker(s) holding the model are busy; retry shortly')
    w1.close()
    await first
  })

  it('says price too low with the lowest asking price', async () => {
    const { router } = setup([stubWorker('1', { price: 9n }), stubWorker('2', { price: 4n })])
    const error = await dispatch(router, { maxPricePerUnit: 3n }).catch((e: Error) => e)
    expect(error).toBeInstanceOf(PriceTooLowError)
    expect((error as Error).message).toMatch(/asks more than 3 per unit; the lowest asks 4/)
  })

  it('suspends a worker after repeated failures and lets it back after the cool-down', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(1_800_000_000_000)
    let healthy = false
    const w1 = stubWorker('1', { behave: (t) => (healthy ? ok(t) : fails('INTERNAL', true)(t)) })
    const { router } = setup([w1], { suspendAfterErrors: 2, suspendMs: 30_000 })
    for (let i = 0; i < 2; i++) await expect(dispatch(router)).rejects.toBeInstanceOf(WorkerFailedError)
    const busy = await dispatch(router).catch((e: Error) => e)
    expect(busy).toBeInstanceOf(WorkersBusyError)
    expect((busy as Error).message).toMatch(/\(1 suspended after errors\)/)
    expect(w1.tasks).toHaveLength(2)
    healthy = true
    vi.setSystemTime(1_800_000_000_000 + 30_000)
    expect(await dispatch(router)).toMatchObject({ worker: w1 })
  })

  it('does not suspend a worker for failures a success came between', async () => {
    let n = 0
    const w1 = stubWorker('1', { behave: (t) => (n++ % 2 === 0 ? fails('INTERNAL', true)(t) : ok(t)) })
    const { router } = setup([w1], { suspendAfterErrors: 2 })
    for (let i = 0; i < 3; i++) await dispatch(router).catch(() => {})
    expect(w1.failed).toBe(2)
    expect(w1.suspendedUntil).toBe(0)
  })

  it('does not count BUSY or SHUTTING_DOWN answers towards suspension', async () => {
    const w1 = stubWorker('1', { behave: fails('BUSY', true) })
    const w2 = stubWorker('2', { behave: fails('SHUTTING_DOWN', true) })
    const { router } = setup([w1, w2], { suspendAfterErrors: 1 })
    await expect(dispatch(router)).rejects.toBeInstanceOf(WorkerFailedError)
    expect([w1.failed, w2.failed, w1.suspendedUntil, w2.suspendedUntil]).toEqual([0, 0, 0, 0])
  })
})
