import { type ComputeReceipt, type ReceiptDomain, receiptFromJson } from '@computegraph/contracts/receipts'
import { hashInferenceOutput, hashInferenceRequest } from '@computegraph/gpu-worker/canonical-bytes'
import type { InferMessage, ResultMessage } from '@computegraph/gpu-worker/protocol'
import { type Address, type Hex, isAddressEqual } from 'viem'
import { InvalidResultError } from './router'
import { receiptDigest, recoverDigestSigner } from './verification/receipt-crypto'

/**
 * Accepts a worker's result only if its receipt commits to exactly this request and this output, names what was
 * asked (model, requester, job, price) and the runtime the worker advertised, has not expired, and carries the
 * provider's signature in the gateway's domain. Anything else is the worker's fault, and the router tries another.
 */
export async function checkInferenceResult({
  domain,
  task,
  provider,
  runtimeId,
  result,
  now = Date.now(),
}: {
  domain: ReceiptDomain
  task: InferMessage
  provider: Address
  /** The runtime id the worker advertised in its hello; unchecked when absent. */
  runtimeId?: Hex
  result: ResultMessage
  now?: number
}): Promise<ComputeReceipt> {
  const fail = (what: string) => {
    throw new InvalidResultError(`worker ${provider} returned an unacceptable result: ${what}`)
  }
  let receipt: ComputeReceipt
  try {
    receipt = receiptFromJson(result.receipt)
  } catch (error) {
    return fail((error as Error).message)
  }
  const rows = task.input.shape[0]
  if (result.output.shape[0] !== rows) fail(`output has ${result.output.shape[0]} rows for ${rows} input rows`)
  const requestHash = hashInferenceRequest({ modelId: task.modelId, input: task.input, parameters: task.parameters })
  if (receipt.requestHash !== requestHash)
    fail(`receipt.requestHash ${receipt.requestHash}, request hashes to ${requestHash}`)
  const outputHash = hashInferenceOutput({ output: result.output })
  if (receipt.outputHash !== outputHash)
    fail(`receipt.outputHash ${receipt.outputHash}, output hashes to ${outputHash}`)
  if (receipt.modelId !== task.modelId.toLowerCase()) fail(`receipt.modelId ${receipt.modelId}, asked ${task.modelId}`)
  if (!isAddressEqual(receipt.requester, task.requester)) fail(`receipt.requester ${receipt.requester}`)
  if (!isAddressEqual(receipt.worker, provider)) fail(`receipt.worker ${receipt.worker}`)
  if (receipt.jobId !== BigInt(task.jobId)) fail(`receipt.jobId ${receipt.jobId}, asked ${task.jobId}`)
  if (receipt.price !== BigInt(task.price)) fail(`receipt.price ${receipt.price}, agreed ${task.price}`)
  if (receipt.units !== BigInt(rows ?? 0)) fail(`receipt.units ${receipt.units} for ${rows} rows`)
  if (runtimeId !== undefined && receipt.runtimeId !== runtimeId.toLowerCase()) {
    fail(`receipt.runtimeId ${receipt.runtimeId}, the worker advertised ${runtimeId}`)
  }
  // An expired receipt proves nothing on-chain: JobMarket refuses it, and so would any verifier.
  if (receipt.expiresAt <= BigInt(Math.floor(now / 1000))) fail(`receipt expired at ${receipt.expiresAt}`)
  if (receipt.issuedAt > receipt.expiresAt) fail(`receipt.issuedAt ${receipt.issuedAt} is after its expiresAt`)
  // The fast path of verification (native secp256k1, hand-built digest), with JobMarket's rules on v and s.
  const recovered = await recoverDigestSigner({
    digest: receiptDigest({ domain, receipt }),
    signature: result.signature,
  })
  if (!recovered.ok) fail(`receipt signature: malformed signature: ${recovered.reason}`)
  else if (!isAddressEqual(recovered.signer, provider))
    fail(`receipt signature: signed by ${recovered.signer}, not by the worker ${provider}`)
  return receipt
}
