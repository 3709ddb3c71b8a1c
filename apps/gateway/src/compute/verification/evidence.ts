import { canonicalJson } from '@computegraph/gpu-worker/canonical-bytes'
import type { Tolerance } from '@computegraph/gpu-worker/model-manifest'
import type { Tensor } from '@computegraph/gpu-worker/tensor'
import { type Hex, keccak256 } from 'viem'
import { type AttestationEvidence, evidenceToJson } from './receipt-bundle'

/**
 * JSON with object keys sorted (by UTF-8 bytes) at every level and no whitespace: one text per value. The one
 * definition shared with the worker's training-request bytes, so evidence hashes the same everywhere.
 */
export { canonicalJson }

/** The exact bytes an attestation's evidenceHash covers: the canonical JSON of the normalised evidence. */
export function evidenceBytes(evidence: AttestationEvidence): Uint8Array {
  return new TextEncoder().encode(canonicalJson(evidenceToJson(evidence)))
}

/** evidenceHash = keccak256(evidenceBytes(evidence)); the router signs it into the Attestation. */
export function hashEvidence(evidence: AttestationEvidence): Hex {
  return keccak256(evidenceBytes(evidence))
}

/** SIGNATURE_ONLY attestations claim no evidence: their evidenceHash is 32 zero bytes. */
export const NO_EVIDENCE_HASH: Hex = `0x${'0'.repeat(64)}`

export type ToleranceComparison = { within: true; maxAbsoluteDifference: number } | { within: false; reason: string }

/**
 * Whether two decoded outputs match within a model's tolerance: same shape, and every element within
 * `absolute + relative × |expected|` (numpy's allclose). NaN matches nothing.
 */
export function compareOutputs({
  actual,
  expected,
  tolerance,
}: {
  actual: Tensor
  expected: Tensor
  tolerance: Tolerance
}): ToleranceComparison {
  if (actual.dtype !== expected.dtype) {
    return { within: false, reason: `dtypes differ: ${actual.dtype} vs ${expected.dtype}` }
  }
  if (actual.shape.length !== expected.shape.length || actual.shape.some((d, i) => d !== expected.shape[i])) {
    return { within: false, reason: `shapes differ: [${actual.shape.join(', ')}] vs [${expected.shape.join(', ')}]` }
  }
  let max = 0
  for (let i = 0; i < actual.data.length; i++) {
    const a = actual.data[i] as number
    const e = expected.data[i] as number
    const diff = Math.abs(a - e)
    if (!(diff <= tolerance.absolute + tolerance.relative * Math.abs(e))) {
      return {
        within: false,
        reason: `element ${i} differs beyond the tolerance (absolute ${tolerance.absolute}, relative ${tolerance.relative}): ${a} vs ${e}`,
      }
    }
    max = Math.max(max, diff)
  }
  return { within: true, maxAbsoluteDifference: max }
}
