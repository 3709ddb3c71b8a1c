import type { Tensor } from '@computegraph/gpu-worker/tensor'
import { describe, expect, it } from 'vitest'
import { compareOutputs, faultyByReferee, spotCheckEvidence } from './spot-check'
import { hashEvidence } from './verification/evidence'

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
  const receipt = (worker: `0x${string}`, nonce: bigint) => ({
    requestHash: `0x${'1'.repeat(64)}` as const,
    outputHash: `0x${'2'.repeat(64)}` as const,
    modelId: `0x${'3'.repeat(64)}` as const,
    runtimeId: `0x${'4'.repeat(64)}` as const,
    requester: '0x0000000000000000000000000000000000000009' as const,
    worker,
    jobId: 0n,
    units: 1n,
    price: 2n,
    issuedAt: 1_700_000_000n,
    expiresAt: 1_700_086_400n,
    nonce,
  })
  const first = {
    receipt: receipt('0x0000000000000000000000000000000000000001', 1n),
    signature: '0xaa' as const,
    output: tensor(0.3),
  }
  const second = {
    receipt: receipt('0x0000000000000000000000000000000000000002', 7n),
    signature: '0xbb' as const,
    output: tensor(0.4),
  }

  it('backs a match with the second worker’s signed execution, hashed as the verifier hashes it', () => {
    const { evidence, evidenceHash } = spotCheckEvidence({ first, second, tolerance, match: true })
    expect(evidence).toEqual({ mode: 'REEXECUTED_MATCH', reexecution: second, tolerance })
    expect(evidenceHash).toBe(hashEvidence(evidence))
  })

  it('backs a disagreement with both executions and their outputs', () => {
    const { evidence } = spotCheckEvidence({ first, second, tolerance, match: false })
    expect(evidence).toEqual({ mode: 'DISPUTED', original: first, reexecution: second, tolerance })
  })

  it('binds the hash to each output, each signature and the tolerance', () => {
    const base = spotCheckEvidence({ first, second, tolerance, match: false }).evidenceHash
    const variants = [
      spotCheckEvidence({ first: { ...first, output: tensor(0.30001) }, second, tolerance, match: false }),
      spotCheckEvidence({ first, second: { ...second, signature: '0xbc' }, tolerance, match: false }),
      spotCheckEvidence({ first, second, tolerance: { ...tolerance, absolute: 1e-3 }, match: false }),
    ]
    for (const v of variants) expect(v.evidenceHash).not.toBe(base)
  })
})
