import { hashBytes } from '@computegraph/contracts/receipts'
import { describe, expect, it } from 'vitest'
import {
  canonicalJson,
  decodeInferenceOutput,
  decodeInferenceRequest,
  decodeTrainingRequest,
  encodeInferenceOutput,
  encodeInferenceRequest,
  encodeTrainingRequest,
  hashInferenceRequest,
  hashTrainingRequest,
} from './canonical-bytes'
import type { Tensor } from './tensor'
import { normalizeTrainingTask } from './training/training-task'

const modelId = `0x${'11'.repeat(32)}` as const
const input: Tensor = { dtype: 'float32', shape: [1, 2], data: Float32Array.of(1, -2) }

describe('inference request bytes', () => {
  it('follow the documented layout exactly', () => {
    const hex = Buffer.from(encodeInferenceRequest({ modelId, input, parameters: { b: '2', a: 'x' } })).toString('hex')
    expect(hex).toBe(
      [
        '4347495201', // "CGIR", version 1
        '11'.repeat(32), // model id
        '01', // float32
        '02', // rank 2
        '01000000', // dim 1
        '02000000', // dim 2
        '0000803f', // 1.0f
        '000000c0', // -2.0f
        '0200', // two parameters, sorted
        '0100',
        '61',
        '01000000',
        '78', // a = x
        '0100',
        '62',
        '01000000',
        '32', // b = 2
      ].join(''),
    )
  })

  it('round-trip, and the hash does not depend on parameter order', () => {
    const body = { modelId, input, parameters: { zeta: '1', alpha: 'é' } }
    const decoded = decodeInferenceRequest(encodeInferenceRequest(body))
    expect(decoded.modelId).toBe(modelId)
    expect(decoded.input.shape).toEqual([1, 2])
    expect(Array.from(decoded.input.data)).toEqual([1, -2])
    expect(decoded.parameters).toEqual({ alpha: 'é', zeta: '1' })
    expect(hashInferenceRequest(body)).toBe(hashInferenceRequest({ ...body, parameters: { alpha: 'é', zeta: '1' } }))
    expect(hashInferenceRequest(body)).toBe(hashBytes(encodeInferenceRequest(body)))
  })

  it('distinguish -0 from 0 and NaN payloads, since they are different bytes', () => {
    const zero = hashInferenceRequest({ modelId, input: { ...input, data: Float32Array.of(0, 1) } })
    const negativeZero = hashInferenceRequest({ modelId, input: { ...input, data: Float32Array.of(-0, 1) } })
    expect(zero).not.toBe(negativeZero)
  })

  it('are refused when truncated, padded or out of order', () => {
    const bytes = encodeInferenceRequest({ modelId, input, parameters: { a: '1', b: '2' } })
    expect(() => decodeInferenceRequest(bytes.slice(0, -1))).toThrow('inference request bytes is truncated')
    expect(() => decodeInferenceRequest(Uint8Array.from([...bytes, 0]))).toThrow('has 1 trailing bytes')
    const swapped = Uint8Array.from(bytes)
    // Swap the two one-letter keys "a" and "b"; the parameters start after 4+1+32 + 10 (tensor header) + 8 + 2.
    const a = swapped.indexOf(0x61, 57)
    const b = swapped.indexOf(0x62, 57)
    expect([a, b]).toEqual([59, 67])
    swapped[a] = 0x62
    swapped[b] = 0x61
    expect(() => decodeInferenceRequest(swapped)).toThrow('parameters must be sorted and unique')
    expect(() => decodeInferenceRequest(encodeInferenceOutput({ output: input }))).toThrow('must start with "CGIR"')
  })

  it('refuse a model id that is not 32 bytes', () => {
    expect(() => encodeInferenceRequest({ modelId: '0x1234', input })).toThrow(
      'model id must be a 0x-prefixed 32-byte hex string, got "0x1234"',
    )
  })
})

describe('inference output bytes', () => {
  it('round-trip bit for bit', () => {
    const output: Tensor = { dtype: 'float32', shape: [3, 1], data: Float32Array.of(0.1, Math.PI, -1e-30) }
    const bytes = encodeInferenceOutput({ output })
    expect(Buffer.from(bytes.slice(0, 5)).toString()).toBe('CGIO\u0001')
    const back = decodeInferenceOutput(bytes).output
    expect(back.shape).toEqual([3, 1])
    expect(Buffer.from(back.data.buffer).equals(Buffer.from(output.data.buffer))).toBe(true)
  })
})

describe('training request bytes', () => {
  it('cover the filled-in task and inline data, and round-trip', () => {
    const task = normalizeTrainingTask({
      kind: 'linear',
      dataset: {
        kind: 'inline',
        features: { dtype: 'float32', shape: [3, 1], data: Float32Array.of(1, 2, 3) },
        labels: { dtype: 'float32', shape: [3], data: Float32Array.of(2, 4, 6) },
      },
      epochs: 5,
      seed: 9,
    })
    const bytes = encodeTrainingRequest({ task })
    const decoded = decodeTrainingRequest(bytes)
    expect(decoded.spec).toEqual({
      activation: 'relu',
      batchSize: 32,
      dataset: { kind: 'inline' },
      epochs: 5,
      hiddenUnits: [],
      kind: 'linear',
      learningRate: 0.01,
      name: 'trained-linear',
      optimizer: 'adam',
      seed: 9,
    })
    expect(Array.from(decoded.labels?.data ?? [])).toEqual([2, 4, 6])
    const other = { ...task, seed: 10 }
    expect(hashTrainingRequest({ task })).not.toBe(hashTrainingRequest({ task: other }))
  })
})

describe('canonicalJson', () => {
  it('sorts keys at every level and refuses non-finite numbers', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"e":2,"f":1}]},"b":1}',
    )
    expect(() => canonicalJson({ a: Number.NaN })).toThrow('canonical JSON cannot hold NaN')
  })
})
