import type { Tensor } from '@computegraph/gpu-worker/tensor'
import { keccak256, toBytes } from 'viem'
import { describe, expect, it } from 'vitest'
import { compareOutputs, faultyByReferee, spotCheckEvidence } from './spot-check'

const tensor = (...data: number[]): Tensor => ({
  dtype: 'float32',
  shape: [data.length, 1],
  data: Float32Array.from(data),
})
const tolerance = { absolute: 1e-5, relative: 1e-4 }

describe('compareOutputs', () => {
  it('reports a bitwise match for identical outputs', () => {
    expect(compareOutputs({ a: tensor(0.25, 0.5), b: tensor(0.25, 0.5), tolerance })).toEqual({
      match: true,
      bitwise: true,
    })
  })

  it('accepts differences within the absolute tolerance, as not bitwise', () => {
    expect(compareOutputs({ a: tensor(0.5, 1e-6), b: tensor(0.5, 0), tolerance })).toEqual({
      match: true,
      bitwise: false,
    })
  })

  it('accepts differences within the relative tolerance of the second output', () => {
    expect(compareOutputs({ a: tensor(100), b: tensor(100.0078125), tolerance }).match).toBe(true)
    expect(compareOutputs({ a: tensor(100), b: tensor(100.03125), tolerance }).match).toBe(false)
  })

  it('names the first element beyond tolerance and both values', () => {
    expect(compareOutputs({ a: tensor(0.5, 0.25, 0.75), b: tensor(0.5, 0.5, 0.5), tolerance })).toEqual({
      match: false,
      at: 1,
      a: 0.25,
      b: 0.5,
    })
  })

  it('treats a difference in sign of zero as a tolerable, non-bitwise difference', () => {
    expect(compareOutputs({ a: tensor(-0), b: tensor(0), tolerance })).toEqual({ match: true, bitwise: false })
  })

  it('never matches NaN against a number', () => {
    expect(compareOutputs({ a: tensor(Number.NaN), b: tensor(0.5), tolerance }).match).toBe(false)
  })

  it('refuses outputs of different shapes without comparing values', () => {
    const a: Tensor = { dtype: 'float32', shape: [2, 1], data: Float32Array.of(1, 2) }
    const b: Tensor = { dtype: 'float32', shape: [1, 2], data: Float32Array.of(1, 2) }
    expect(compareOutputs({ a, b, tolerance })).toEqual({ match: false, at: -1, a: Number.NaN, b: Number.NaN })
    expect(compareOutputs({ a: tensor(1, 2), b: tensor(1), tolerance }).match).toBe(false)
  })
})

describe('faultyByReferee', () => {
  const right = tensor(0.3, 0.7)
  const wrong = tensor(0.4, 0.7)

  it('blames the first execution when only it disagrees with the referee', () => {
    expect(faultyByReferee({ first: wrong, second: right, referee: right, tolerance })).toEqual(['first'])
  })

  it('blames the second execution when only it disagrees with the referee', () => {
    expect(faultyByReferee({ first: right, second: wrong, referee: right, tolerance })).toEqual(['second'])
  })

  it('blames both when neither agrees with the referee, and nobody when both do', () => {
    expect(faultyByReferee({ first: wrong, second: tensor(0.5, 0.7), referee: right, tolerance })).toEqual([
      'first',
      'second',
    ])
    expect(faultyByReferee({ first: right, second: tensor(0.3, 0.7000001), referee: right, tolerance })).toEqual([])
  })
})

describe('spotCheckEvidence', () => {
  const receipt = { requestHash: `0x${'1'.repeat(64)}`, worker: '0x0000000000000000000000000000000000000001' }
  const first = { receipt, signature: '0xaa' as const, output: tensor(0.3) }
  const second = {
    receipt: { ...receipt, worker: '0x0000000000000000000000000000000000000002' },
    signature: '0xbb' as const,
    output: tensor(0.4),
  }

  it('hashes the canonical JSON of the evidence, the same whatever the key order', () => {
    const a = spotCheckEvidence({ first, second })
    const reordered = spotCheckEvidence({
      first: { ...first, receipt: { worker: receipt.worker, requestHash: receipt.requestHash } },
      second,
    })
    expect(a.evidenceHash).toBe(reordered.evidenceHash)
    expect(a.evidenceHash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(a.evidence).toMatchObject({ kind: 'computegraph.spot-check.v1' })
  })

  it('binds the hash to both outputs and to the referee’s run', () => {
    const base = spotCheckEvidence({ first, second }).evidenceHash
    expect(spotCheckEvidence({ first: { ...first, output: tensor(0.30001) }, second }).evidenceHash).not.toBe(base)
    expect(spotCheckEvidence({ first, second: { ...second, signature: '0xbc' } }).evidenceHash).not.toBe(base)
    const refereed = spotCheckEvidence({
      first,
      second,
      referee: { runtime: 'onnxruntime-node@1/cpu', output: tensor(0.3) },
    })
    expect(refereed.evidenceHash).not.toBe(base)
    expect(refereed.evidence.referee?.output.shape).toEqual([1, 1])
  })

  it('is stable across runs: a fixed evidence body hashes to a fixed value', () => {
    const { evidence, evidenceHash } = spotCheckEvidence({ first, second })
    expect(JSON.parse(JSON.stringify(evidence))).toEqual(evidence)
    expect(evidenceHash).toBe(
      keccak256(
        toBytes(
          '{"first":{"output":{"dataB64":"mpmZPg==","dtype":"float32","shape":[1,1]},"receipt":{"requestHash":"0x1111111111111111111111111111111111111111111111111111111111111111","worker":"0x0000000000000000000000000000000000000001"},"signature":"0xaa"},"kind":"computegraph.spot-check.v1","second":{"output":{"dataB64":"zczMPg==","dtype":"float32","shape":[1,1]},"receipt":{"requestHash":"0x1111111111111111111111111111111111111111111111111111111111111111","worker":"0x0000000000000000000000000000000000000002"},"signature":"0xbb"}}',
        ),
      ),
    )
  })
})
