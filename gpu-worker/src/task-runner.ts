import { hashBytes, type ReceiptDomain } from '@computegraph/contracts/receipts'
import { hashInferenceOutput, hashInferenceRequest, hashTrainingRequest } from './canonical-bytes'
import { NonRetryableError, RetryableError } from './errors'
import type { InferenceEngine } from './inference-engine'
import type { InferMessage, ProgressMessage, ResultMessage, TrainedMessage, TrainMessage } from './protocol'
import type { ReceiptSigner } from './receipt-signer'
import type { Tensor } from './tensor'
import { TRAINING_RUNTIME_ID } from './training/training-runtime'

/**
 * TEST ONLY (--fault-rate): a wrong answer far outside any model's tolerance, yet plausible (finite, same shape),
 * so the gateway's re-execution spot checks have something to catch.
 */
export function perturbOutput(output: Tensor): Tensor {
  return { ...output, data: output.data.map((v) => v + Math.abs(v) * 0.05 + 0.01) }
}

function assertPrice({ price, units, pricePerUnit }: { price: bigint; units: bigint; pricePerUnit: bigint }): void {
  if (price < units * pricePerUnit) {
    throw new RetryableError(
      `offered price ${price} is below this worker's ${pricePerUnit} per unit x ${units} units = ${units * pricePerUnit}`,
      { code: 'PRICE_TOO_LOW' },
    )
  }
}

/**
 * Runs one inference request and signs its receipt: requestHash and outputHash over the canonical bytes
 * (canonical-bytes.ts), units = rows. With `faulty` the output is perturbed after inference, before hashing.
 */
export async function runInference({
  engine,
  signer,
  domain,
  message,
  pricePerUnit = 0n,
  faulty = false,
  receivedAt = Date.now(),
}: {
  engine: InferenceEngine
  signer: ReceiptSigner
  domain: ReceiptDomain
  message: InferMessage
  pricePerUnit?: bigint
  faulty?: boolean
  receivedAt?: number
}): Promise<ResultMessage> {
  const started = performance.now()
  if (Object.keys(message.parameters).length > 0) {
    throw new NonRetryableError(
      `model ${message.modelId} takes no parameters, got ${Object.keys(message.parameters).join(', ')}`,
    )
  }
  const rows = BigInt(message.input.shape[0] ?? 0)
  assertPrice({ price: BigInt(message.price), units: rows, pricePerUnit })
  const outcome = await engine.infer({
    modelId: message.modelId,
    input: message.input,
    deadline: receivedAt + message.deadlineMs,
  })
  const output = faulty ? perturbOutput(outcome.output) : outcome.output
  const { json, signature } = await signer.sign({
    domain,
    fields: {
      requestHash: hashInferenceRequest({
        modelId: message.modelId,
        input: message.input,
        parameters: message.parameters,
      }),
      outputHash: hashInferenceOutput({ output }),
      modelId: message.modelId,
      runtimeId: engine.runtime.runtimeId,
      requester: message.requester,
      jobId: BigInt(message.jobId),
      units: rows,
      price: BigInt(message.price),
    },
  })
  return {
    type: 'result',
    requestId: message.requestId,
    output,
    receipt: json,
    signature,
    timings: { ...outcome.timings, totalMs: performance.now() - started },
    batch: outcome.batch,
  }
}

/**
 * Trains a model, starts serving it on `engine` and signs the receipt: requestHash over the canonical training
 * request, outputHash over the ONNX bytes (so it equals the new model id), modelId the new model, units epochs x rows.
 */
export async function runTraining({
  engine,
  signer,
  domain,
  message,
  pricePerUnit = 0n,
  onProgress,
  signal,
}: {
  engine: InferenceEngine
  signer: ReceiptSigner
  domain: ReceiptDomain
  message: TrainMessage
  pricePerUnit?: bigint
  onProgress?: (progress: ProgressMessage) => void
  signal?: AbortSignal
}): Promise<TrainedMessage> {
  const started = performance.now()
  const { task } = message
  const rows = task.dataset.kind === 'inline' ? (task.dataset.features.shape[0] as number) : task.dataset.rows
  assertPrice({ price: BigInt(message.price), units: BigInt(task.epochs) * BigInt(rows), pricePerUnit })
  // tfjs loads only when a worker first trains.
  const { trainModel } = await import('./training/trainer')
  const trained = await trainModel({
    task,
    signal,
    onProgress: (p) => onProgress?.({ type: 'progress', requestId: message.requestId, ...p }),
  })
  await engine.addModel({ entry: trained.entry, bytes: trained.bytes })
  const { json, signature } = await signer.sign({
    domain,
    fields: {
      requestHash: hashTrainingRequest({ task }),
      outputHash: hashBytes(trained.bytes),
      modelId: trained.id,
      runtimeId: TRAINING_RUNTIME_ID,
      requester: message.requester,
      jobId: BigInt(message.jobId),
      units: trained.units,
      price: BigInt(message.price),
    },
  })
  return {
    type: 'trained',
    requestId: message.requestId,
    model: { entry: trained.entry, bytes: trained.bytes },
    history: trained.history.map(({ epoch, loss }) => ({ epoch, loss })),
    receipt: json,
    signature,
    timings: { totalMs: performance.now() - started },
  }
}
