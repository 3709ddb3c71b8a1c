import { fileURLToPath } from 'node:url'
import { hashBytes, receiptDomain, receiptFromJson, verifyReceiptSignature } from '@computegraph/contracts/receipts'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  decodeInferenceOutput,
  encodeInferenceOutput,
  encodeInferenceRequest,
  encodeTrainingRequest,
} from './canonical-bytes'
import { RetryableError } from './errors'
import { InferenceEngine } from './inference-engine'
import { type LoadedModel, loadModelDirectory } from './model-manifest'
import type { InferMessage, TrainMessage } from './protocol'
import { ReceiptSigner } from './receipt-signer'
import { runInference, runTraining } from './task-runner'
import { generateDataset } from './training/market-data'
import { TRAINING_RUNTIME_ID } from './training/training-runtime'
import { normalizeTrainingTask } from './training/training-task'

const worker = privateKeyToAccount('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba')
const domain = receiptDomain({ chainId: 31337, jobMarket: '0x5FbDB2315678afecb367f032d93F642f64180aa3' })
const requester = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const NOW = Date.UTC(2026, 5, 1)

let engine: InferenceEngine
let direction: LoadedModel
const signer = new ReceiptSigner({ account: worker, ttlSeconds: 3600, nonceStart: 2n ** 100n, now: () => NOW })

beforeAll(async () => {
  const models = await loadModelDirectory({ dir: fileURLToPath(new URL('../models', import.meta.url)) })
  direction = models.find((m) => m.entry.name === 'price-direction-logistic') as LoadedModel
  engine = await InferenceEngine.create({ models, device: 'cpu' })
})
afterAll(async () => engine.close())

const inferMessage = (rows = 3, overrides: Partial<InferMessage> = {}): InferMessage => ({
  type: 'infer',
  requestId: 'r1',
  modelId: direction.entry.id,
  input: {
    dtype: 'float32',
    shape: [rows, 8],
    data: generateDataset({ name: 'market-direction', rows, seed: 5 }).features,
  },
  parameters: {},
  requester,
  jobId: '42',
  price: '3000',
  deadlineMs: 10_000,
  ...overrides,
})

describe('runInference', () => {
  it('signs a receipt that verifies and whose hashes recompute from the canonical request and output bytes', async () => {
    const message = inferMessage()
    const result = await runInference({ engine, signer, domain, message })
    const receipt = receiptFromJson(result.receipt)
    await expect(verifyReceiptSignature({ domain, receipt, signature: result.signature })).resolves.toEqual({
      valid: true,
      signer: worker.address,
    })
    expect(receipt.requestHash).toBe(
      hashBytes(encodeInferenceRequest({ modelId: message.modelId, input: message.input, parameters: {} })),
    )
    expect(receipt.outputHash).toBe(hashBytes(encodeInferenceOutput({ output: result.output })))
    expect(receipt).toMatchObject({
      modelId: direction.entry.id,
      runtimeId: engine.runtime.runtimeId,
      requester,
      worker: worker.address,
      jobId: 42n,
      units: 3n,
      price: 3000n,
      issuedAt: BigInt(NOW / 1000),
      expiresAt: BigInt(NOW / 1000 + 3600),
    })
  })

  it('gives every receipt a fresh nonce', async () => {
    const results = await Promise.all(
      [1, 2, 3].map((n) => runInference({ engine, signer, domain, message: inferMessage(n) })),
    )
    const nonces = results.map((r) => BigInt(r.receipt.nonce))
    expect(new Set(nonces).size).toBe(3)
    expect(nonces.every((n) => n >= 2n ** 100n)).toBe(true)
  })

  it('detects tampering: a receipt edited after signing no longer verifies', async () => {
    const result = await runInference({ engine, signer, domain, message: inferMessage() })
    const receipt = { ...receiptFromJson(result.receipt), units: 300n }
    const check = await verifyReceiptSignature({ domain, receipt, signature: result.signature })
    expect(check.valid).toBe(false)
  })

  it('with a fault signs a perturbed output beyond the model tolerance, which re-execution exposes', async () => {
    const message = inferMessage(4)
    const honest = await runInference({ engine, signer, domain, message })
    const faulty = await runInference({ engine, signer, domain, message, faulty: true })
    const receipt = receiptFromJson(faulty.receipt)
    expect((await verifyReceiptSignature({ domain, receipt, signature: faulty.signature })).valid).toBe(true)
    expect(receipt.requestHash).toBe(receiptFromJson(honest.receipt).requestHash)
    expect(receipt.outputHash).not.toBe(receiptFromJson(honest.receipt).outputHash)
    const claimed = decodeInferenceOutput(encodeInferenceOutput({ output: faulty.output })).output
    const { absolute, relative } = direction.entry.tolerance
    const worst = Math.max(
      ...claimed.data.map((v, i) => Math.abs(v - (honest.output.data[i] as number)) - relative * Math.abs(v)),
    )
    expect(worst).toBeGreaterThan(absolute)
  })

  it('refuses a price below the asking price per row, as retryable elsewhere', async () => {
    const error = await runInference({
      engine,
      signer,
      domain,
      message: inferMessage(3, { price: '29' }),
      pricePerUnit: 10n,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RetryableError)
    expect((error as RetryableError).code).toBe('PRICE_TOO_LOW')
    expect((error as Error).message).toBe("offered price 29 is below this worker's 10 per unit x 3 units = 30")
  })

  it('refuses parameters the model does not take', async () => {
    await expect(
      runInference({ engine, signer, domain, message: inferMessage(1, { parameters: { temperature: '0.7' } }) }),
    ).rejects.toThrow(`model ${direction.entry.id} takes no parameters, got temperature`)
  })
})

describe('runTraining', () => {
  it('signs a receipt over the training request and the ONNX bytes, and serves the model at once', async () => {
    const message: TrainMessage = {
      type: 'train',
      requestId: 't1',
      task: normalizeTrainingTask({
        kind: 'logistic',
        name: 'receipt-logit',
        dataset: { kind: 'generated', name: 'market-direction', rows: 300, seed: 1 },
        epochs: 3,
        seed: 1,
      }),
      requester,
      jobId: '0',
      price: '0',
      deadlineMs: 60_000,
    }
    const progress: number[] = []
    const trained = await runTraining({ engine, signer, domain, message, onProgress: (p) => progress.push(p.epoch) })
    expect(progress).toEqual([1, 2, 3])
    const receipt = receiptFromJson(trained.receipt)
    expect((await verifyReceiptSignature({ domain, receipt, signature: trained.signature })).valid).toBe(true)
    expect(receipt.requestHash).toBe(hashBytes(encodeTrainingRequest({ task: message.task })))
    expect(receipt.outputHash).toBe(hashBytes(trained.model.bytes))
    expect(receipt.modelId).toBe(trained.model.entry.id)
    expect(receipt.outputHash).toBe(receipt.modelId)
    expect(receipt.runtimeId).toBe(TRAINING_RUNTIME_ID)
    expect(receipt.units).toBe(900n)
    expect(engine.hasModel(trained.model.entry.id)).toBe(true)
    const served = await engine.infer({
      modelId: trained.model.entry.id,
      input: inferMessage(2).input,
    })
    expect(served.output.shape).toEqual([2, 1])
  })
})
