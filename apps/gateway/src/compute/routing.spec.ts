import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  receiptDomain,
  receiptFromJson,
  receiptToJson,
  signReceipt,
  verifyReceiptSignature,
} from '@computegraph/contracts/receipts'
import { hashInferenceOutput, hashInferenceRequest } from '@computegraph/gpu-worker/canonical-bytes'
import { InferenceEngine } from '@computegraph/gpu-worker/inference-engine'
import { loadModelDirectory, MANIFEST_FILE } from '@computegraph/gpu-worker/model-manifest'
import { type InferMessage, type ResultMessage, tensorFromWire } from '@computegraph/gpu-worker/protocol'
import { ReceiptSigner } from '@computegraph/gpu-worker/receipt-signer'
import type { LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SHIPPED_MODELS_DIR } from './model-catalog'
import { type ComputeNetwork, startComputeNetwork, type WorkerProcess } from './testing/compute-harness'
import { connectRawWorker, helloFor, type RawWorker, SHIPPED_MODELS } from './testing/raw-worker'

const LOGISTIC = SHIPPED_MODELS.find((m) => m.name === 'price-direction-logistic')
const MLP = SHIPPED_MODELS.find((m) => m.name === 'volatility-mlp')
const row = (i: number) => [0.01 * i, 0.03, -0.05, 0.8, 1.1, 0.7, 0.02, 40 + i]

let cn: ComputeNetwork
let engine: InferenceEngine
const account = (i: number) => cn.net.accounts[i] as LocalAccount

async function waitFor(what: string, done: () => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** POST /v1/infer with the response headers, for Retry-After. */
async function infer(body: unknown) {
  const res = await fetch(`${cn.baseUrl}/v1/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> }
}

async function expected(model: string, rows: number[][]) {
  const id = SHIPPED_MODELS.find((m) => m.name === model)?.id as string
  return (
    await engine.infer({
      modelId: id,
      input: { dtype: 'float32', shape: [rows.length, 8], data: Float32Array.from(rows.flat()) },
    })
  ).output.data
}

/** What an honest worker answers: the engine's output and a receipt over it, signed by `signer`. */
async function compute({ message, signer }: { message: InferMessage; signer: ReceiptSigner }): Promise<ResultMessage> {
  const { output, batch } = await engine.infer({ modelId: message.modelId, input: message.input })
  const { json, signature } = await signer.sign({
    domain: receiptDomain({ chainId: cn.net.deployment.chainId, jobMarket: cn.net.addresses.jobMarket }),
    fields: {
      requestHash: hashInferenceRequest(message),
      outputHash: hashInferenceOutput({ output }),
      modelId: message.modelId,
      runtimeId: engine.runtime.runtimeId,
      requester: message.requester,
      jobId: BigInt(message.jobId),
      units: BigInt(message.input.shape[0] ?? 0),
      price: BigInt(message.price),
    },
  })
  const timings = { queuedMs: 0, runMs: 0, totalMs: 0 }
  return { type: 'result', requestId: message.requestId, output, receipt: json, signature, timings, batch }
}

async function receiptOf(body: Record<string, unknown>) {
  const bundle = body.receipt as { receipt: unknown; signature: `0x${string}`; output: unknown }
  const receipt = receiptFromJson(bundle.receipt)
  const domain = receiptDomain({ chainId: cn.net.deployment.chainId, jobMarket: cn.net.addresses.jobMarket })
  return { receipt, check: await verifyReceiptSignature({ domain, receipt, signature: bundle.signature }) }
}

beforeAll(async () => {
  cn = await startComputeNetwork({
    providers: 5,
    env: {
      // Nobody is dropped for silence while a test holds a worker stopped; every attempt may wait long.
      COMPUTE_HEARTBEAT_MS: '60000',
      COMPUTE_ATTEMPT_TIMEOUT_MS: '60000',
      COMPUTE_REQUEST_TIMEOUT_MS: '60000',
      COMPUTE_MAX_QUEUE_PER_WORKER: '0',
    },
  })
  engine = await InferenceEngine.create({
    device: 'cpu',
    models: await loadModelDirectory({ dir: SHIPPED_MODELS_DIR }),
  })
}, 120_000)

afterAll(async () => {
  await engine?.close()
  await cn?.close()
})

describe('a worker killed while holding requests', () => {
  it('completes every request on another worker, with that worker’s valid receipt', async () => {
    // Worker 1 merges requests into one batch and waits 10 s for it to fill: it holds everything it is sent.
    const doomed = cn.startWorker({
      provider: 1,
      extraArgs: ['--concurrency', '8', '--max-batch', '64', '--max-wait-ms', '10000'],
    })
    await cn.waitForWorkers(1)
    const rows = Array.from({ length: 8 }, (_, i) => [row(i)])
    const pending = rows.map((input) => infer({ model: 'volatility-mlp', input }))
    await waitFor('worker 1 holds all 8 requests', () => cn.pool().all()[0]?.outstanding === 8)
    // Frozen, it cannot answer, however long the second worker takes to start.
    doomed.proc.kill('SIGSTOP')
    const survivor = cn.startWorker({ provider: 2, extraArgs: ['--concurrency', '8'] })
    await cn.waitForWorkers(2)
    doomed.kill('SIGKILL')
    const responses = await Promise.all(pending)
    for (const [i, res] of responses.entries()) {
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(res.body).toMatchObject({
        status: 'completed',
        attempts: 2,
        worker: { provider: account(2).address.toLowerCase() },
      })
      expect(Float32Array.from((res.body.output as { data: number[] }).data)).toEqual(
        await expected('volatility-mlp', rows[i] as number[][]),
      )
      const { receipt, check } = await receiptOf(res.body)
      expect(receipt.worker).toBe(account(2).address)
      expect(check).toEqual({ valid: true, signer: account(2).address })
    }
    expect(
      cn
        .pool()
        .all()
        .map((w) => w.provider),
    ).toEqual([account(2).address])
    survivor.kill()
    await survivor.exited
    await waitFor('the pool is empty', () => cn.pool().all().length === 0)
  })
})

describe('a worker whose result carries a wrong receipt', () => {
  type Tamper = (result: ResultMessage, liar: LocalAccount) => Promise<ResultMessage> | ResultMessage
  const tampers: [string, Tamper][] = [
    [
      'an output other than the one its receipt commits to',
      (r) => ({ ...r, output: { ...r.output, data: r.output.data.map((v) => v + 0.01) } }),
    ],
    [
      'a price changed after signing',
      (r) => ({ ...r, receipt: { ...r.receipt, price: `${BigInt(r.receipt.price) + 1n}` } }),
    ],
    [
      'a signature by another key than the worker’s',
      async (r, liar) => {
        const domain = receiptDomain({ chainId: cn.net.deployment.chainId, jobMarket: cn.net.addresses.jobMarket })
        const stranger = account(9)
        expect(stranger.address).not.toBe(liar.address)
        return {
          ...r,
          signature: await signReceipt({ account: stranger, domain, receipt: receiptFromJson(r.receipt) }),
        }
      },
    ],
  ]
  let raws: RawWorker[] = []
  let tamper: Tamper = (r) => r
  let lied: LocalAccount[] = []

  /** Two raw workers that compute for real: whichever gets a request first answers it with a tampered receipt. */
  beforeAll(async () => {
    const signers = [account(3), account(4)]
    raws = []
    for (const signer of signers) {
      const raw = await connectRawWorker(cn.workersUrl)
      raw.send(await helloFor({ signer, challenge: raw.challenge, runtimeId: engine.runtime.runtimeId }))
      await raw.next('welcome')
      const receipts = new ReceiptSigner({ account: signer, ttlSeconds: 3600 })
      raw.onMessage((m) => {
        if (m.type !== 'infer') return
        void (async () => {
          const honest = await compute({ message: m as InferMessage, signer: receipts })
          const liar = lied.length === 0
          if (liar) lied.push(signer)
          raw.send(liar ? await tamper(honest, signer) : honest)
        })()
      })
      raws.push(raw)
    }
    await cn.waitForWorkers(2)
  })

  afterAll(async () => {
    for (const raw of raws) raw.close()
    await waitFor('the pool is empty', () => cn.pool().all().length === 0)
  })

  it.each(tampers)('is refused for %s, and the request completes on the other worker', async (_, how) => {
    tamper = how
    lied = []
    const failedBefore = cn
      .pool()
      .all()
      .reduce((n, w) => n + w.failed, 0)
    const res = await infer({ model: 'price-direction-logistic', input: [row(1), row(2)] })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const liar = lied[0] as LocalAccount
    const honest = [account(3), account(4)].find((a) => a.address !== liar.address) as LocalAccount
    expect(res.body).toMatchObject({ attempts: 2, worker: { provider: honest.address.toLowerCase() } })
    const { receipt, check } = await receiptOf(res.body)
    expect(check).toEqual({ valid: true, signer: honest.address })
    expect(receiptToJson(receipt).worker).toBe(honest.address)
    expect(Float32Array.from((res.body.output as { data: number[] }).data)).toEqual(
      await expected('price-direction-logistic', [row(1), row(2)]),
    )
    expect(tensorFromWire((res.body.receipt as { output: unknown }).output).data).toEqual(
      await expected('price-direction-logistic', [row(1), row(2)]),
    )
    const liarWorker = cn
      .pool()
      .all()
      .find((w) => w.provider === liar.address)
    expect(liarWorker?.failed).toBe(1)
    expect(
      cn
        .pool()
        .all()
        .reduce((n, w) => n + w.failed, 0),
    ).toBe(failedBefore + 1)
    // The next test starts from fresh error counts, so nobody is suspended by the series.
    for (const w of cn.pool().all()) w.failed = 0
  })
})

describe('a saturated pool and a model nobody holds', () => {
  let dir: string
  let worker: WorkerProcess
  let held: Promise<Awaited<ReturnType<typeof infer>>>

  /** One worker of concurrency 1 holding only the logistic model, frozen while it holds one request. */
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cg-models-'))
    await copyFile(path.join(SHIPPED_MODELS_DIR, LOGISTIC?.file as string), path.join(dir, LOGISTIC?.file as string))
    await writeFile(path.join(dir, MANIFEST_FILE), JSON.stringify({ version: 1, models: [LOGISTIC] }))
    worker = cn.startWorker({
      provider: 5,
      extraArgs: ['--models', dir, '--concurrency', '1', '--max-batch', '64', '--max-wait-ms', '2000'],
    })
    await cn.waitForWorkers(1)
    held = infer({ model: 'price-direction-logistic', input: [row(7)] })
    await waitFor('the worker holds a request', () => cn.pool().all()[0]?.outstanding === 1)
    worker.proc.kill('SIGSTOP')
  })

  afterAll(async () => {
    worker.proc.kill('SIGCONT')
    worker.kill()
    await worker.exited
    await rm(dir, { recursive: true, force: true })
  })

  it('answers 503 WORKERS_BUSY with Retry-After to every request beyond the pool’s capacity', async () => {
    const responses = await Promise.all(
      [1, 2, 3, 4].map((i) => infer({ model: 'price-direction-logistic', input: [row(i)] })),
    )
    for (const res of responses) {
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      expect(res.body).toEqual({
        error: {
          code: 'UNAVAILABLE',
          reason: 'WORKERS_BUSY',
          message: 'all 1 worker(s) holding the model are busy; retry shortly',
        },
      })
    }
  })

  it('says the pool is busy over GraphQL with the same reason', async () => {
    const { body } = await cn.gateway.query(
      `mutation { infer(input: { model: "price-direction-logistic", input: [[${row(1).join(', ')}]] }) { status } }`,
    )
    expect(body.errors?.[0]).toMatchObject({
      message: 'all 1 worker(s) holding the model are busy; retry shortly',
      extensions: { code: 'UNAVAILABLE', reason: 'WORKERS_BUSY' },
    })
  })

  it('answers 503 NO_WORKER_FOR_MODEL, not busy, for a known model no connected worker holds', async () => {
    const res = await infer({ model: 'volatility-mlp', input: [row(1)] })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBeNull()
    expect(res.body).toEqual({
      error: {
        code: 'UNAVAILABLE',
        reason: 'NO_WORKER_FOR_MODEL',
        message: `no connected worker holds model ${MLP?.id}`,
      },
    })
    const { body } = await cn.gateway.query(
      `mutation { infer(input: { model: "volatility-mlp", input: [[${row(1).join(', ')}]] }) { status } }`,
    )
    expect(body.errors?.[0]?.extensions).toEqual({ code: 'UNAVAILABLE', reason: 'NO_WORKER_FOR_MODEL' })
  })

  it('still completes the request that holds the worker once the worker runs again', async () => {
    worker.proc.kill('SIGCONT')
    const res = await held
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(Float32Array.from((res.body.output as { data: number[] }).data)).toEqual(
      await expected('price-direction-logistic', [row(7)]),
    )
  })
})
