import { hashBytes } from '@computegraph/contracts/receipts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NonRetryableError } from '../errors'
import { InferenceEngine } from '../inference-engine'
import { createPrng } from './prng'
import { type TrainingProgress, trainModel } from './trainer'
import { normalizeTrainingTask, type TrainingTaskInput } from './training-task'

let engine: InferenceEngine
beforeAll(async () => {
  engine = await InferenceEngine.create({ device: 'cpu' })
})
afterAll(async () => engine.close())

const volatilityTask: TrainingTaskInput = {
  kind: 'mlp',
  name: 'vol-test',
  dataset: { kind: 'generated', name: 'market-volatility', rows: 600, seed: 3 },
  epochs: 6,
  learningRate: 0.01,
  batchSize: 32,
  seed: 17,
  hiddenUnits: [8],
  activation: 'tanh',
}

/** y = 2 x0 - 3 x1 + 1 plus a little noise. */
function linearData(rows: number) {
  const prng = createPrng(1)
  const features = new Float32Array(rows * 2)
  const labels = new Float32Array(rows)
  for (let r = 0; r < rows; r++) {
    const x0 = prng.normal() * 2 + 5
    const x1 = prng.normal() * 0.5 - 1
    features[r * 2] = x0
    features[r * 2 + 1] = x1
    labels[r] = 2 * x0 - 3 * x1 + 1 + prng.normal() * 0.01
  }
  return { features, labels }
}

describe('trainModel', () => {
  it('is deterministic from the seed: two runs give the same ONNX bytes and id', async () => {
    const task = normalizeTrainingTask(volatilityTask)
    const first = await trainModel({ task })
    const second = await trainModel({ task })
    expect(Buffer.from(first.bytes).equals(Buffer.from(second.bytes))).toBe(true)
    expect(first.id).toBe(second.id)
    expect(first.id).toBe(hashBytes(first.bytes))
    expect(first.history).toEqual(second.history)
    const reseeded = await trainModel({ task: normalizeTrainingTask({ ...volatilityTask, seed: 18 }) })
    expect(reseeded.id).not.toBe(first.id)
  })

  it('reports every epoch with its loss, and the loss falls', async () => {
    const seen: TrainingProgress[] = []
    const trained = await trainModel({ task: normalizeTrainingTask(volatilityTask), onProgress: (p) => seen.push(p) })
    expect(seen.map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5, 6])
    expect(seen.every((p) => p.epochs === 6 && Number.isFinite(p.loss))).toBe(true)
    expect((seen[5] as TrainingProgress).loss).toBeLessThan((seen[0] as TrainingProgress).loss)
    expect(trained.history).toEqual(seen)
    expect(trained.units).toBe(6n * 600n)
  })

  it('exports an MLP whose ONNX predictions, served by the engine, match tfjs within 1e-5', async () => {
    const trained = await trainModel({ task: normalizeTrainingTask(volatilityTask), keepTfModel: true })
    try {
      await engine.addModel({ entry: trained.entry, bytes: trained.bytes })
      const probe = createPrng(77)
      const rows = 50
      // Raw, unstandardised features around the data's scale: the graph standardises them itself.
      const features = Float32Array.from({ length: rows * 8 }, () => probe.normal() * 2 + 1)
      const { output } = await engine.infer({
        modelId: trained.id,
        input: { dtype: 'float32', shape: [rows, 8], data: features },
      })
      const expected = trained.tfModel?.predict(features, rows) as Float32Array
      expect(output.data.length).toBe(rows)
      for (const [i, v] of output.data.entries()) {
        expect(Math.abs(v - (expected[i] as number))).toBeLessThan(1e-5 * (1 + Math.abs(v)))
      }
    } finally {
      trained.tfModel?.dispose()
    }
  })

  it('trains a logistic model on inline data into probabilities that match tfjs and separate the classes', async () => {
    const prng = createPrng(4)
    const rows = 400
    const features = new Float32Array(rows * 3)
    const labels = new Float32Array(rows)
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < 3; c++) features[r * 3 + c] = prng.normal()
      labels[r] = (features[r * 3] as number) - (features[r * 3 + 2] as number) > 0 ? 1 : 0
    }
    const task = normalizeTrainingTask({
      kind: 'logistic',
      name: 'inline-logit',
      dataset: {
        kind: 'inline',
        features: { dtype: 'float32', shape: [rows, 3], data: features },
        labels: { dtype: 'float32', shape: [rows, 1], data: labels },
      },
      epochs: 15,
      learningRate: 0.05,
      seed: 2,
    })
    const trained = await trainModel({ task, keepTfModel: true })
    try {
      expect(trained.entry.output).toEqual({ name: 'probability', shape: ['batch', 1], dtype: 'float32' })
      await engine.addModel({ entry: trained.entry, bytes: trained.bytes })
      const { output } = await engine.infer({
        modelId: trained.id,
        input: { dtype: 'float32', shape: [rows, 3], data: features },
      })
      const expected = trained.tfModel?.predict(features, rows) as Float32Array
      let correct = 0
      output.data.forEach((p, i) => {
        expect(Math.abs(p - (expected[i] as number))).toBeLessThan(1e-5)
        if ((p > 0.5 ? 1 : 0) === labels[i]) correct++
      })
      expect(correct / rows).toBeGreaterThan(0.9)
    } finally {
      trained.tfModel?.dispose()
    }
  })

  it('fits a linear regression whose served predictions are close to the true function', async () => {
    const { features, labels } = linearData(500)
    const task = normalizeTrainingTask({
      kind: 'linear',
      name: 'inline-linear',
      dataset: {
        kind: 'inline',
        features: { dtype: 'float32', shape: [500, 2], data: features },
        labels: { dtype: 'float32', shape: [500], data: labels },
      },
      epochs: 40,
      learningRate: 0.1,
      seed: 5,
    })
    const trained = await trainModel({ task })
    await engine.addModel({ entry: trained.entry, bytes: trained.bytes })
    const { output } = await engine.infer({
      modelId: trained.id,
      input: { dtype: 'float32', shape: [2, 2], data: Float32Array.of(5, -1, 7, 0) },
    })
    expect(output.data[0]).toBeCloseTo(2 * 5 + 3 + 1, 1)
    expect(output.data[1]).toBeCloseTo(2 * 7 + 1, 1)
  })

  it('stops between epochs when its signal aborts, with the abort reason', async () => {
    const controller = new AbortController()
    const reason = new NonRetryableError('cancelled by the test', { code: 'CANCELLED' })
    const seen: number[] = []
    const run = trainModel({
      task: normalizeTrainingTask(volatilityTask),
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.epoch)
        if (p.epoch === 2) controller.abort(reason)
      },
    })
    await expect(run).rejects.toBe(reason)
    expect(seen).toEqual([1, 2])
  })
})

describe('normalizeTrainingTask', () => {
  const inline = (labels: number[]) => ({
    kind: 'inline' as const,
    features: { dtype: 'float32' as const, shape: [labels.length, 1], data: Float32Array.from(labels) },
    labels: { dtype: 'float32' as const, shape: [labels.length], data: Float32Array.from(labels) },
  })

  it('refuses labels that are not 0/1 for a logistic model', () => {
    expect(() => normalizeTrainingTask({ kind: 'logistic', dataset: inline([0, 1, 0.5]) })).toThrow(
      'invalid training task: dataset.labels of a logistic model must all be 0 or 1',
    )
  })

  it('refuses labels whose shape does not match the rows', () => {
    const dataset = {
      ...inline([1, 2, 3]),
      labels: { dtype: 'float32' as const, shape: [2], data: Float32Array.of(1, 2) },
    }
    expect(() => normalizeTrainingTask({ kind: 'linear', dataset })).toThrow(
      'dataset.labels must be [3] or [3, 1], got [2]',
    )
  })

  it('refuses jobs above the work limit and hidden layers on a linear model', () => {
    expect(() =>
      normalizeTrainingTask({
        kind: 'mlp',
        dataset: { kind: 'generated', name: 'market-volatility', rows: 200_000 },
        epochs: 1000,
      }),
    ).toThrow('epochs x rows = 200000000 exceeds the limit of 20000000')
    expect(() => normalizeTrainingTask({ kind: 'linear', dataset: inline([1, 2]), hiddenUnits: [4] })).toThrow(
      'hiddenUnits applies to mlp only, not to linear',
    )
  })

  it('refuses NaN in inline data', () => {
    expect(() => normalizeTrainingTask({ kind: 'linear', dataset: inline([1, Number.NaN, 3]) })).toThrow(
      'dataset.features holds a non-finite value NaN at [1, 0]',
    )
  })
})
