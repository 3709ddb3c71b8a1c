import type { ComputeReceipt } from '@computegraph/contracts/receipts'
import { Verification } from '@computegraph/contracts/receipts'
import type { InferenceEngine } from '@computegraph/gpu-worker/inference-engine'
import type { ModelEntry, Tolerance } from '@computegraph/gpu-worker/model-manifest'
import type { InferMessage, ResultMessage } from '@computegraph/gpu-worker/protocol'
import type { Tensor } from '@computegraph/gpu-worker/tensor'
import type { Hex } from 'viem'
import { hashEvidence } from './verification/evidence'
import type { AttestationEvidence, SignedExecution } from './verification/receipt-bundle'
import type { LiveWorker } from './worker-pool'

/** Decides, after a result went out, whether to re-execute it elsewhere; never delays the caller. */
export interface SpotChecker {
  consider(args: {
    requestId: string
    worker: LiveWorker
    task: InferMessage
    result: ResultMessage
    outcome: unknown
  }): void
}

export const SPOT_CHECKER = Symbol('SPOT_CHECKER')

export type Comparison = { match: true; bitwise: boolean } | { match: false; at: number; a: number; b: number }

/**
 * Compares two outputs of one request: bitwise first (the same CPU kernels give identical bytes), then element by
 * element within the model's tolerance, |a − b| ≤ absolute + relative·|b|, as numpy's isclose does.
 */
export function compareOutputs({ a, b, tolerance }: { a: Tensor; b: Tensor; tolerance: Tolerance }): Comparison {
  if (
    a.shape.length !== b.shape.length ||
    a.shape.some((d, i) => d !== b.shape[i]) ||
    a.data.length !== b.data.length
  ) {
    return { match: false, at: -1, a: Number.NaN, b: Number.NaN }
  }
  let bitwise = true
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i] as number
    const y = b.data[i] as number
    if (Object.is(x, y)) continue
    bitwise = false
    if (!(Math.abs(x - y) <= tolerance.absolute + tolerance.relative * Math.abs(y)))
      return { match: false, at: i, a: x, b: y }
  }
  return { match: true, bitwise }
}

/**
 * The evidence a spot check leaves, in the receipt bundle's format (verification/receipt-bundle.ts): for a match the
 * second worker's signed execution; for a disagreement both, with their outputs. Its hash goes into the attestation.
 */
export function spotCheckEvidence({
  first,
  second,
  tolerance,
  match,
}: {
  first: SignedExecution
  second: SignedExecution
  tolerance: Tolerance
  match: boolean
}): { evidence: AttestationEvidence; evidenceHash: Hex } {
  const evidence: AttestationEvidence = match
    ? { mode: 'REEXECUTED_MATCH', reexecution: second, tolerance }
    : { mode: 'DISPUTED', original: first, reexecution: second, tolerance }
  return { evidence, evidenceHash: hashEvidence(evidence) }
}

/** Which of the two executions disagree with the referee's own run (on the gateway's CPU). */
export function faultyByReferee({
  first,
  second,
  referee,
  tolerance,
}: {
  first: Tensor
  second: Tensor
  referee: Tensor
  tolerance: Tolerance
}): ('first' | 'second')[] {
  const out: ('first' | 'second')[] = []
  if (!compareOutputs({ a: first, b: referee, tolerance }).match) out.push('first')
  if (!compareOutputs({ a: second, b: referee, tolerance }).match) out.push('second')
  return out
}

/** Runs a model on the gateway's own CPU to settle a disagreement; lazily loads onnxruntime and the model. */
export class Referee {
  private engine?: Promise<InferenceEngine>

  constructor(private readonly modelBytes: (id: Hex) => Uint8Array | undefined) {}

  async run({
    model,
    input,
  }: {
    model: ModelEntry
    input: Tensor
  }): Promise<{ output: Tensor; runtime: string } | null> {
    const bytes = this.modelBytes(model.id)
    if (!bytes) return null
    this.engine ??= import('@computegraph/gpu-worker/inference-engine').then(({ InferenceEngine }) =>
      InferenceEngine.create({ device: 'cpu', maxBatchSize: 1, maxWaitMs: 0, concurrency: 1 }),
    )
    const engine = await this.engine
    if (!engine.hasModel(model.id)) await engine.addModel({ entry: model, bytes })
    const { output } = await engine.infer({ modelId: model.id, input })
    return { output, runtime: `${engine.runtime.name}@${engine.runtime.version}/${engine.runtime.executionProvider}` }
  }

  async close(): Promise<void> {
    if (this.engine) await (await this.engine).close()
  }
}

export type SpotCheckVerdict =
  | { kind: 'match'; verification: typeof Verification.REEXECUTED_MATCH; bitwise: boolean }
  | { kind: 'mismatch'; verification: typeof Verification.DISPUTED; faulty: LiveWorker[]; unresolved: boolean }

export type { ComputeReceipt }
