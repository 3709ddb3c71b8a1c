import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-node'
import { keccak256, stringToBytes } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NonRetryableError, RetryableError } from './errors'
import { chooseRuntime, InferenceEngine } from './inference-engine'
import { type LoadedModel, loadModelDirectory } from './model-manifest'
import { buildDenseModel, type DenseModelSpec, evaluateDense } from './onnx/onnx-builder'
import { decodeModel } from './onnx/onnx-proto'
import { type Tensor, tensorsBitwiseEqual } from './tensor'
import { buildMarketFeatures, generateMarket } from './training/market-data'

const SHIPPED = fileURLToPath(new URL('../models', import.meta.url))

let models: LoadedModel[]
let direction: LoadedModel
let volatility: LoadedModel
let rows: Float32Array
const ROWS = 96

beforeAll(async () => {
  models = await loadModelDirectory({ dir: SHIPPED })
  direction = models.find((m) => m.entry.name === 'price-direction-logistic') as LoadedModel
  volatility = models.find((m) => m.entry.name === 'volatility-mlp') as LoadedModel
  // Realistic inputs: features of a market the models never saw.
  rows = buildMarketFeatures({ market: generateMarket({ seed: 999, steps: ROWS + 30 }) }).features.slice(0, ROWS * 8)
})

const tensor = (data: Float32Array, n = data.length / 8): Tensor => ({ dtype: 'float32', shape: [n, 8], data })
const row = (i: number) => tensor(rows.slice(i * 8, (i + 1) * 8), 1)

/** The dense layers back out of the ONNX initializers, for an independent TypeScript evaluation. */
function specFromOnnx(bytes: Uint8Array): DenseModelSpec {
  const graph = decodeModel(bytes).graph
  const floats = (name: string) => {
    const raw = graph.initializer.find((t) => t.name === name)?.rawData as Uint8Array
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))
  }
  const layers: DenseModelSpec['layers'] = []
  for (let i = 0; graph.initializer.some((t) => t.name === `dense${i}_weight`); i++) {
    const dims = graph.initializer.find((t) => t.name === `dense${i}_weight`)?.dims as number[]
    const act = graph.node.find((n) => n.input[0] === `dense${i}_linear`)?.opType
    layers.push({
      inputs: dims[0] as number,
      units: dims[1] as number,
      weights: floats(`dense${i}_weight`),
      bias: floats(`dense${i}_bias`),
      activation: act === 'Relu' ? 'relu' : act === 'Tanh' ? 'tanh' : act === 'Sigmoid' ? 'sigmoid' : 'none',
    })
  }
  return {
    name: graph.name,
    inputName: 'features',
    outputName: graph.output[0]?.name as string,
    normalization: { mean: floats('norm_mean'), std: floats('norm_std') },
    layers,
  }
}

describe('InferenceEngine', () => {
  let engine: InferenceEngine
  beforeAll(async () => {
    engine = await InferenceEngine.create({ models, device: 'auto', maxBatchSize: 16, maxWaitMs: 20 })
  })
  afterAll(async () => engine.close())

  it('runs on the CPU when the CUDA provider is absent, and says why and on what', async () => {
    expect(engine.runtime.executionProvider).toBe('cpu')
    expect(engine.runtime.fallbackReason).toMatch(/CUDA/)
    expect(engine.runtime.runtimeId).toBe(keccak256(stringToBytes('onnxruntime-node@1.30.0/cpu')))
    expect(engine.device.kind).toBe('cpu')
    expect(engine.device.name.length).toBeGreaterThan(0)
    expect(engine.device.memoryBytes).toBeGreaterThan(0)
  })

  it('gives outputs bitwise equal to onnxruntime run directly on the same model', async () => {
    for (const model of [direction, volatility]) {
      const session = await ort.InferenceSession.create(model.bytes, { executionProviders: ['cpu'] })
      const direct = await session.run({ features: new ort.Tensor('float32', rows, [ROWS, 8]) })
      await session.release()
      const { output } = await engine.infer({ modelId: model.entry.id, input: tensor(rows) })
      expect(output.shape).toEqual([ROWS, 1])
      expect(
        tensorsBitwiseEqual(output, {
          dtype: 'float32',
          shape: [ROWS, 1],
          data: direct[model.entry.output.name]?.data as Float32Array,
        }),
      ).toBe(true)
    }
  })

  it('agrees with a float64 TypeScript evaluation of the weights within 1e-5', async () => {
    for (const model of [direction, volatility]) {
      const { output } = await engine.infer({ modelId: model.entry.id, input: tensor(rows) })
      const reference = evaluateDense({ spec: specFromOnnx(model.bytes), input: rows, rows: ROWS })
      for (const [i, v] of output.data.entries()) expect(Math.abs(v - (reference[i] as number))).toBeLessThan(1e-5)
    }
  })

  it('refuses an unknown model id as non-retryable', async () => {
    const error = await engine.infer({ modelId: `0x${'ab'.repeat(32)}`, input: row(0) }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NonRetryableError)
    expect((error as NonRetryableError).code).toBe('UNKNOWN_MODEL')
    expect((error as Error).message).toContain(`unknown model 0x${'ab'.repeat(32)}`)
  })

  it('refuses a wrongly shaped input, naming the expected and the given shape', async () => {
    const input: Tensor = { dtype: 'float32', shape: [2, 7], data: new Float32Array(14) }
    await expect(engine.infer({ modelId: direction.entry.id, input })).rejects.toThrow(
      'input of model price-direction-logistic: expected shape [batch, 8] (features), got [2, 7]',
    )
    const flat: Tensor = { dtype: 'float32', shape: [8], data: new Float32Array(8) }
    await expect(engine.infer({ modelId: direction.entry.id, input: flat })).rejects.toThrow('got [8]')
    const mismatch: Tensor = { dtype: 'float32', shape: [2, 8], data: new Float32Array(8) }
    await expect(engine.infer({ modelId: direction.entry.id, input: mismatch })).rejects.toThrow(
      'data holds 8 elements but shape [2, 8] needs 16',
    )
  })

  it('refuses NaN and Infinity, naming the position', async () => {
    const data = rows.slice(0, 24)
    data[13] = Number.NaN
    await expect(engine.infer({ modelId: volatility.entry.id, input: tensor(data) })).rejects.toThrow(
      'input of model volatility-mlp holds a non-finite value NaN at [1, 5]',
    )
    data[13] = Number.POSITIVE_INFINITY
    await expect(engine.infer({ modelId: volatility.entry.id, input: tensor(data) })).rejects.toBeInstanceOf(
      NonRetryableError,
    )
  })

  it('refuses to serve bytes under another model id', async () => {
    await expect(engine.addModel({ entry: direction.entry, bytes: volatility.bytes })).rejects.toThrow(
      `hashes to ${volatility.entry.id} but is declared as model ${direction.entry.id}`,
    )
  })
})

describe('dynamic batching', () => {
  it('merges concurrent requests into batches of at most maxBatchSize rows, bitwise equal to one-by-one', async () => {
    const unbatched = await InferenceEngine.create({ models, device: 'cpu', maxBatchSize: 1, maxWaitMs: 0 })
    const batched = await InferenceEngine.create({ models, device: 'cpu', maxBatchSize: 16, maxWaitMs: 50 })
    try {
      const alone: Tensor[] = []
      for (let i = 0; i < 64; i++)
        alone.push((await unbatched.infer({ modelId: volatility.entry.id, input: row(i) })).output)
      expect(unbatched.executions(volatility.entry.id)).toBe(64)

      const together = await Promise.all(
        Array.from({ length: 64 }, (_, i) => batched.infer({ modelId: volatility.entry.id, input: row(i) })),
      )
      // 64 one-row requests, 16 rows a batch, one execution at a time.
      expect(batched.executions(volatility.entry.id)).toBe(4)
      expect(together.every((o) => o.batch.rows === 16 && o.batch.requests === 16)).toBe(true)
      for (const [i, o] of together.entries()) {
        expect(tensorsBitwiseEqual(o.output, alone[i] as Tensor), `row ${i}`).toBe(true)
      }
    } finally {
      await Promise.all([unbatched.close(), batched.close()])
    }
  })

  it('runs a partial batch once maxWaitMs has passed, and keeps multi-row requests whole', async () => {
    const engine = await InferenceEngine.create({ models, device: 'cpu', maxBatchSize: 64, maxWaitMs: 30 })
    try {
      const started = performance.now()
      const [a, b] = await Promise.all([
        engine.infer({ modelId: direction.entry.id, input: tensor(rows.slice(0, 3 * 8)) }),
        engine.infer({ modelId: direction.entry.id, input: tensor(rows.slice(3 * 8, 8 * 8)) }),
      ])
      expect(performance.now() - started).toBeGreaterThanOrEqual(25)
      expect(engine.executions()).toBe(1)
      expect(a?.output.shape).toEqual([3, 1])
      expect(b?.output.shape).toEqual([5, 1])
      expect(a?.batch).toEqual({ rows: 8, requests: 2 })
      const whole = await engine.infer({ modelId: direction.entry.id, input: tensor(rows.slice(0, 8 * 8)) })
      expect(Array.from(whole.output.data)).toEqual([
        ...Array.from(a?.output.data ?? []),
        ...Array.from(b?.output.data ?? []),
      ])
    } finally {
      await engine.close()
    }
  })

  it('batches per model and bounds executions in flight by concurrency', async () => {
    const engine = await InferenceEngine.create({
      models,
      device: 'cpu',
      maxBatchSize: 8,
      maxWaitMs: 5,
      concurrency: 1,
    })
    try {
      let peak = 0
      const watch = setInterval(() => {
        peak = Math.max(peak, engine.load().inFlight)
      }, 0)
      await Promise.all(
        Array.from({ length: 32 }, (_, i) =>
          engine.infer({ modelId: (i % 2 ? direction : volatility).entry.id, input: row(i) }),
        ),
      )
      clearInterval(watch)
      expect(peak).toBeLessThanOrEqual(1)
      expect(engine.executions(direction.entry.id)).toBe(2)
      expect(engine.executions(volatility.entry.id)).toBe(2)
    } finally {
      await engine.close()
    }
  })

  it('refuses new requests as busy once the queue is full, and as shutting down once closing', async () => {
    const engine = await InferenceEngine.create({
      models,
      device: 'cpu',
      maxBatchSize: 4,
      maxWaitMs: 1000,
      maxQueueRows: 2,
    })
    const first = engine.infer({ modelId: direction.entry.id, input: tensor(rows.slice(0, 16)) })
    const busy = await engine.infer({ modelId: direction.entry.id, input: row(3) }).catch((e: unknown) => e)
    expect(busy).toBeInstanceOf(RetryableError)
    expect((busy as RetryableError).code).toBe('BUSY')
    const closing = engine.close()
    const late = await engine.infer({ modelId: direction.entry.id, input: row(3) }).catch((e: unknown) => e)
    expect((late as RetryableError).code).toBe('SHUTTING_DOWN')
    // Closing runs what was queued rather than dropping it.
    expect((await first).output.shape).toEqual([2, 1])
    await closing
  })

  it('fails a request whose deadline passes while it waits in the queue', async () => {
    const engine = await InferenceEngine.create({ models, device: 'cpu', maxBatchSize: 64, maxWaitMs: 40 })
    try {
      const error = await engine
        .infer({ modelId: direction.entry.id, input: row(0), deadline: Date.now() + 5 })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(RetryableError)
      expect((error as RetryableError).code).toBe('DEADLINE_EXCEEDED')
      expect(engine.executions()).toBe(0)
    } finally {
      await engine.close()
    }
  })
})

describe('chooseRuntime', () => {
  it('fails clearly when CUDA is demanded but cannot start', async () => {
    await expect(chooseRuntime({ preference: 'cuda' })).rejects.toThrow(/^CUDA unavailable: /)
  })

  it('uses the CPU when told to', async () => {
    const { runtime, device } = await chooseRuntime({ preference: 'cpu' })
    expect(runtime.executionProvider).toBe('cpu')
    expect(runtime.fallbackReason).toBeUndefined()
    expect(device.kind).toBe('cpu')
  })
})

describe('a model built in the test', () => {
  it('is served as soon as it is added', async () => {
    const spec: DenseModelSpec = {
      name: 'doubler',
      inputName: 'x',
      outputName: 'y',
      layers: [{ inputs: 2, units: 1, weights: Float32Array.of(2, 2), bias: Float32Array.of(0), activation: 'none' }],
    }
    const built = buildDenseModel(spec)
    const engine = await InferenceEngine.create({ device: 'cpu' })
    try {
      await engine.addModel({
        bytes: built.bytes,
        entry: {
          id: built.id,
          name: 'doubler',
          kind: 'linear',
          description: '',
          sizeBytes: built.bytes.length,
          input: { name: 'x', shape: ['batch', 2], dtype: 'float32' },
          output: { name: 'y', shape: ['batch', 1], dtype: 'float32' },
          tolerance: { absolute: 0, relative: 0 },
        },
      })
      const { output } = await engine.infer({
        modelId: built.id,
        input: { dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) },
      })
      expect(Array.from(output.data)).toEqual([6, 14])
    } finally {
      await engine.close()
    }
  })
})
