import { fileURLToPath } from 'node:url'
import { receiptDomain, receiptFromJson, verifyReceiptSignature } from '@computegraph/contracts/receipts'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { encodeInferenceOutput } from './canonical-bytes'
import { GatewayClient } from './gateway-client'
import { InferenceEngine } from './inference-engine'
import { silentLogger } from './logger'
import { type LoadedModel, loadModelDirectory } from './model-manifest'
import type {
  ErrorMessage,
  HelloMessage,
  InferMessage,
  ModelsMessage,
  PongMessage,
  ProgressMessage,
  ResultMessage,
  TrainedMessage,
  WorkerMessage,
} from './protocol'
import { tensorsBitwiseEqual } from './tensor'
import { startTestGateway, type TestGateway } from './testing/test-gateway'
import { generateDataset } from './training/market-data'
import { normalizeTrainingTask } from './training/training-task'

const provider = privateKeyToAccount('0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97')
const requester = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as const

let models: LoadedModel[]
let volatility: LoadedModel
beforeAll(async () => {
  models = await loadModelDirectory({ dir: fileURLToPath(new URL('../models', import.meta.url)) })
  volatility = models.find((m) => m.entry.name === 'volatility-mlp') as LoadedModel
})

const features = (rows: number) => ({
  dtype: 'float32' as const,
  shape: [rows, 8],
  data: generateDataset({ name: 'market-volatility', rows, seed: 9 }).features,
})
const infer = (requestId: string, overrides: Partial<InferMessage> = {}): InferMessage => ({
  type: 'infer' as const,
  requestId,
  modelId: volatility.entry.id,
  input: features(2),
  parameters: {},
  requester,
  jobId: '0',
  price: '0',
  deadlineMs: 10_000,
  ...overrides,
})
const is =
  <T extends WorkerMessage['type']>(type: T, requestId?: string) =>
  (m: WorkerMessage): m is Extract<WorkerMessage, { type: T }> =>
    m.type === type && (requestId === undefined || ('requestId' in m && m.requestId === requestId))

interface Harness {
  gateway: TestGateway
  engine: InferenceEngine
  client: GatewayClient
}
const running: Harness[] = []

async function startWorker(
  options: Partial<ConstructorParameters<typeof GatewayClient>[0]> = {},
  gatewayOptions: Parameters<typeof startTestGateway>[0] = {},
  maxWaitMs = 5,
) {
  const gateway = await startTestGateway(gatewayOptions)
  const engine = await InferenceEngine.create({ models, device: 'cpu', maxBatchSize: 8, maxWaitMs })
  const client = new GatewayClient({
    gatewayUrl: gateway.url,
    account: provider,
    engine,
    log: silentLogger,
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    ...options,
  })
  const harness = { gateway, engine, client }
  running.push(harness)
  client.start()
  return harness
}

afterEach(async () => {
  for (const { client, engine, gateway } of running.splice(0)) {
    await client.stop({ graceMs: 1000 })
    await engine.close()
    await gateway.close()
  }
})
afterAll(() => undefined)

describe('GatewayClient', () => {
  it('answers the challenge with a valid hello advertising its device, runtime and models', async () => {
    const { gateway, engine, client } = await startWorker()
    const welcomed = new Promise((resolve) => client.once('welcome', resolve))
    const connection = await gateway.connection(0)
    expect(await connection.check).toEqual({ valid: true, provider: provider.address })
    const hello: HelloMessage = await connection.hello
    expect(hello.models.map((m) => m.id).sort()).toEqual(models.map((m) => m.entry.id).sort())
    expect(hello.device).toEqual(engine.device)
    expect(hello.runtime.runtimeId).toBe(engine.runtime.runtimeId)
    expect(hello).toMatchObject({ version: 1, concurrency: 1, maxBatchSize: 8, maxWaitMs: 5, pricePerUnit: '0' })
    await expect(welcomed).resolves.toBe('worker-0')
    expect(client.connected).toBe(true)
  })

  it('serves inference with a receipt for the domain the gateway announced', async () => {
    const { gateway, engine } = await startWorker()
    const connection = await gateway.connection(0)
    await connection.check
    connection.send(infer('a1'))
    const result: ResultMessage = await connection.waitFor(is('result', 'a1'))
    const direct = await engine.infer({ modelId: volatility.entry.id, input: features(2) })
    expect(tensorsBitwiseEqual(result.output, direct.output)).toBe(true)
    const domain = receiptDomain({ chainId: gateway.chainId, jobMarket: gateway.jobMarket })
    const receipt = receiptFromJson(result.receipt)
    expect((await verifyReceiptSignature({ domain, receipt, signature: result.signature })).valid).toBe(true)
    expect(receipt.units).toBe(2n)
    expect(result.timings.totalMs).toBeGreaterThan(0)
  })

  it('answers bad requests with errors that say what was wrong and whether to retry', async () => {
    const { gateway } = await startWorker()
    const connection = await gateway.connection(0)
    await connection.check
    connection.send(infer('unknown', { modelId: `0x${'cd'.repeat(32)}` }))
    connection.send(
      infer('nan', { input: { dtype: 'float32', shape: [1, 8], data: new Float32Array(8).fill(Number.NaN) } }),
    )
    connection.ws.send(JSON.stringify({ type: 'infer', requestId: 'malformed', modelId: 'nope' }))
    connection.ws.send('not json')
    const unknown: ErrorMessage = await connection.waitFor(is('error', 'unknown'))
    expect(unknown).toMatchObject({ code: 'UNKNOWN_MODEL', retryable: false })
    const nan: ErrorMessage = await connection.waitFor(is('error', 'nan'))
    expect(nan).toMatchObject({ code: 'BAD_INPUT', retryable: false })
    expect(nan.message).toContain('non-finite value NaN at [0, 0]')
    const malformed: ErrorMessage = await connection.waitFor(is('error', 'malformed'))
    expect(malformed).toMatchObject({ code: 'BAD_MESSAGE', retryable: false })
    expect(malformed.message).toContain('infer.modelId must be a 0x-prefixed 32-byte hex string')
    const garbage = await connection.waitFor((m): m is ErrorMessage => m.type === 'error' && m.requestId === null)
    expect(garbage.message).toContain('message is not JSON')
    // Still serving after all that.
    connection.send(infer('after'))
    await connection.waitFor(is('result', 'after'))
  })

  it('trains with progress, returns the model with a receipt, then serves it and announces it', async () => {
    const { gateway } = await startWorker()
    const connection = await gateway.connection(0)
    await connection.check
    connection.send({
      type: 'train',
      requestId: 't1',
      task: normalizeTrainingTask({
        kind: 'mlp',
        name: 'ws-trained',
        dataset: { kind: 'generated', name: 'market-volatility', rows: 200, seed: 4 },
        epochs: 3,
        hiddenUnits: [4],
        seed: 8,
      }),
      requester,
      jobId: '7',
      price: '0',
      deadlineMs: 60_000,
    })
    const trained: TrainedMessage = await connection.waitFor(is('trained', 't1'))
    const progress = connection.received.filter(is('progress', 't1')) as ProgressMessage[]
    expect(progress.map((p) => p.epoch)).toEqual([1, 2, 3])
    expect(trained.history.map((h) => h.loss)).toEqual(progress.map((p) => p.loss))
    const receipt = receiptFromJson(trained.receipt)
    expect(receipt.modelId).toBe(trained.model.entry.id)
    expect(receipt.jobId).toBe(7n)
    const announced: ModelsMessage = await connection.waitFor(is('models'))
    expect(announced.models.map((m) => m.id)).toContain(trained.model.entry.id)
    connection.send(infer('use-new', { modelId: trained.model.entry.id }))
    const result: ResultMessage = await connection.waitFor(is('result', 'use-new'))
    expect(result.output.shape).toEqual([2, 1])
  })

  it('stops a training task the gateway cancels', async () => {
    const { gateway } = await startWorker()
    const connection = await gateway.connection(0)
    await connection.check
    connection.send({
      type: 'train',
      requestId: 'long',
      task: normalizeTrainingTask({
        kind: 'mlp',
        dataset: { kind: 'generated', name: 'market-volatility', rows: 2000, seed: 1 },
        epochs: 500,
      }),
      requester,
      jobId: '0',
      price: '0',
      deadlineMs: 600_000,
    })
    await connection.waitFor(is('progress', 'long'))
    connection.send({ type: 'cancel', requestId: 'long' })
    const error: ErrorMessage = await connection.waitFor(is('error', 'long'))
    expect(error).toMatchObject({ code: 'CANCELLED', retryable: false })
    expect(connection.received.some(is('trained', 'long'))).toBe(false)
  })

  it('answers ping with its load', async () => {
    const { gateway } = await startWorker()
    const connection = await gateway.connection(0)
    await connection.check
    connection.send({ type: 'ping', id: 'p1', sentAt: 123 })
    const pong: PongMessage = await connection.waitFor((m): m is PongMessage => m.type === 'pong')
    expect(pong).toEqual({
      type: 'pong',
      id: 'p1',
      sentAt: 123,
      load: { queuedRequests: 0, queuedRows: 0, inFlight: 0, concurrency: 1, training: 0 },
    })
  })

  it('with --fault-rate 1 signs perturbed outputs that differ from the honest ones', async () => {
    const { gateway, engine } = await startWorker({ faultRate: 1 })
    const connection = await gateway.connection(0)
    await connection.check
    connection.send(infer('f1'))
    const result: ResultMessage = await connection.waitFor(is('result', 'f1'))
    const honest = await engine.infer({ modelId: volatility.entry.id, input: features(2) })
    expect(tensorsBitwiseEqual(result.output, honest.output)).toBe(false)
    const receipt = receiptFromJson(result.receipt)
    const domain = receiptDomain({ chainId: gateway.chainId, jobMarket: gateway.jobMarket })
    expect((await verifyReceiptSignature({ domain, receipt, signature: result.signature })).valid).toBe(true)
    const { hashBytes } = await import('@computegraph/contracts/receipts')
    expect(receipt.outputHash).toBe(hashBytes(encodeInferenceOutput({ output: result.output })))
  })

  it('reconnects after the gateway rejects it, and after the connection drops', async () => {
    let admitted = 0
    const { gateway, client } = await startWorker({}, { admit: () => admitted++ > 0 })
    const reasons: string[] = []
    client.on('rejected', (r: string) => reasons.push(r))
    const first = await gateway.connection(0)
    await first.closed
    expect(reasons).toEqual(['not admitted'])
    const second = await gateway.connection(1)
    expect((await second.check).valid).toBe(true)
    expect(second.challenge.nonce).not.toBe(first.challenge.nonce)
    second.ws.terminate()
    const third = await gateway.connection(2)
    expect((await third.check).valid).toBe(true)
    third.send(infer('after-reconnect'))
    await third.waitFor(is('result', 'after-reconnect'))
  })

  it('refuses a gateway announcing another chain than it was set to', async () => {
    const { gateway, client } = await startWorker({ expect: { chainId: 1 } })
    const connection = await gateway.connection(0)
    expect(await connection.closed).toBe(1008)
    expect(connection.received.some((m) => m.type === 'hello')).toBe(false)
    await client.stop({ graceMs: 0 })
  })

  it('on stop finishes in-flight inference, then closes with 1001', async () => {
    // A long batching wait keeps the request in flight while stop() begins.
    const { gateway, client, engine } = await startWorker({}, {}, 300)
    const connection = await gateway.connection(0)
    await connection.check
    connection.send(infer('last'))
    while (engine.load().queuedRequests === 0) await new Promise((resolve) => setTimeout(resolve, 2))
    await client.stop({ graceMs: 5000 })
    expect(await connection.closed).toBe(1001)
    const outcome = connection.received.find((m) => 'requestId' in m && m.requestId === 'last')
    expect(outcome?.type).toBe('result')
  })
})
