import { fileURLToPath } from 'node:url'
import {
  type ComputeReceipt,
  hashReceipt,
  type ReceiptDomain,
  receiptFromJson,
  signAttestation,
  signReceipt,
  Verification,
  type VerificationMode,
} from '@computegraph/contracts/receipts'
import {
  generateDataset,
  InferenceEngine,
  type LoadedModel,
  loadModelDirectory,
  perturbOutput,
  ReceiptSigner,
  runInference,
} from '@computegraph/gpu-worker'
import type { Account, Address } from 'viem'
import { hashEvidence, NO_EVIDENCE_HASH } from '../evidence'
import type { AttestationEvidence, BundleRequest, ReceiptBundle } from '../receipt-bundle'

const MODELS_DIR = fileURLToPath(new URL('../../../../../../gpu-worker/models', import.meta.url))

/** The shipped models on a CPU engine: what a real worker runs. */
export async function startEngine(): Promise<{ engine: InferenceEngine; model: LoadedModel }> {
  const models = await loadModelDirectory({ dir: MODELS_DIR })
  const model = models.find((m) => m.entry.name === 'price-direction-logistic') as LoadedModel
  return { engine: await InferenceEngine.create({ models, device: 'cpu' }), model }
}

/**
 * A worker signing with `account`: the real inference path (gpu-worker's runInference: canonical bytes, onnxruntime,
 * ReceiptSigner) with its clock set by the test, so issuedAt can sit exactly where the chain's history needs it.
 */
export class TestWorker {
  /** Unix seconds the next receipt is issued at. */
  clock: bigint
  readonly signer: ReceiptSigner

  constructor(
    readonly account: Account,
    private readonly engine: InferenceEngine,
    private readonly model: LoadedModel,
    { clock, ttlSeconds = 3600, nonceStart }: { clock: bigint; ttlSeconds?: number; nonceStart?: bigint },
  ) {
    this.clock = clock
    this.signer = new ReceiptSigner({ account, ttlSeconds, nonceStart, now: () => Number(this.clock) * 1000 })
  }

  get address(): Address {
    return this.account.address
  }

  /** The request body `infer` sends for these rows and seed. */
  request({ rows = 3, seed = 5 }: { rows?: number; seed?: number } = {}): BundleRequest {
    const data = generateDataset({ name: 'market-direction', rows, seed }).features
    return { modelId: this.model.entry.id, input: { dtype: 'float32', shape: [rows, 8], data }, parameters: {} }
  }

  /** Runs one request and returns the bundle the gateway would hand out (no attestation). */
  async infer({
    domain,
    requester,
    rows = 3,
    seed = 5,
    jobId = 0n,
    price = 3000n,
    faulty = false,
  }: {
    domain: ReceiptDomain
    requester: Address
    rows?: number
    seed?: number
    jobId?: bigint
    price?: bigint
    faulty?: boolean
  }): Promise<ReceiptBundle> {
    const { input } = this.request({ rows, seed })
    const result = await runInference({
      engine: this.engine,
      signer: this.signer,
      domain,
      faulty,
      message: {
        type: 'infer',
        requestId: `r-${seed}`,
        modelId: this.model.entry.id,
        input,
        parameters: {},
        requester,
        jobId: jobId.toString(),
        price: price.toString(),
        deadlineMs: 10_000,
      },
    })
    return {
      version: 1,
      domain,
      receipt: receiptFromJson(result.receipt),
      signature: result.signature,
      request: { modelId: this.model.entry.id, input },
      output: result.output,
    }
  }
}

/** Re-signs a (changed) receipt with `account`: a worker signing something it did not compute, for tamper tests. */
export async function resign(bundle: ReceiptBundle, account: Account, receipt: ComputeReceipt = bundle.receipt) {
  return { ...bundle, receipt, signature: await signReceipt({ account, domain: bundle.domain, receipt }) }
}

/**
 * Adds the gateway's attestation over `bundle`'s receipt, with the evidence hashed as the router hashes it, naming
 * `blockNumber` (the gateway's indexed head; 0: none) as the block the worker's stake is checked at.
 */
export async function attest({
  bundle,
  gateway,
  verification,
  evidence,
  attestedAt = bundle.receipt.issuedAt + 1n,
  blockNumber = 0n,
}: {
  bundle: ReceiptBundle
  gateway: Account
  verification: VerificationMode
  evidence?: AttestationEvidence
  attestedAt?: bigint
  blockNumber?: bigint
}): Promise<ReceiptBundle> {
  const attestation = {
    receiptDigest: hashReceipt({ domain: bundle.domain, receipt: bundle.receipt }),
    verification,
    evidenceHash: evidence ? hashEvidence(evidence) : NO_EVIDENCE_HASH,
    attestedAt,
    blockNumber,
  }
  const signature = await signAttestation({ account: gateway, domain: bundle.domain, attestation })
  return { ...bundle, attestation: { attestation, signature, gateway: gateway.address, evidence } }
}

export { perturbOutput, Verification }
