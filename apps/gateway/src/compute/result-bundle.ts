import {
  type Attestation,
  type ComputeReceipt,
  hashReceipt,
  signAttestation,
  type VerificationMode,
} from '@computegraph/contracts/receipts'
import type { Tensor } from '@computegraph/gpu-worker/tensor'
import type { Hex } from 'viem'
import type { IndexerStatus } from '../indexer/indexer.service'
import type { ComputeIdentity } from './compute-identity'
import { hashEvidence, NO_EVIDENCE_HASH } from './verification/evidence'
import {
  type AttestationEvidence,
  type BundleAttestation,
  RECEIPT_BUNDLE_VERSION,
  type ReceiptBundle,
  type ReceiptBundleJson,
  receiptBundleToJson,
} from './verification/receipt-bundle'

export type ResultBundle = ReceiptBundleJson

/**
 * Signs an attestation of `verification` over `receipt`, backed by `evidence` (none for signature-only checks).
 * `blockNumber` is the indexed head the gateway holds now (0 when it has none): verifiers check the worker's stake
 * there, since the worker's wall-clock issuedAt cannot be placed among block timestamps.
 */
export async function attest({
  identity,
  receipt,
  verification,
  evidence,
  blockNumber,
}: {
  identity: ComputeIdentity
  receipt: ComputeReceipt
  verification: VerificationMode
  evidence?: AttestationEvidence
  blockNumber: bigint
}): Promise<BundleAttestation> {
  const attestation: Attestation = {
    receiptDigest: hashReceipt({ domain: identity.domain, receipt }),
    verification,
    evidenceHash: evidence ? hashEvidence(evidence) : NO_EVIDENCE_HASH,
    attestedAt: BigInt(Math.floor(Date.now() / 1000)),
    blockNumber,
  }
  const signature = await signAttestation({ account: identity.account, domain: identity.domain, attestation })
  return { attestation, signature, gateway: identity.account.address, ...(evidence ? { evidence } : {}) }
}

/** The block an attestation names: the in-process indexer's committed head, 0 when this process indexes nothing. */
export function attestationBlock(indexer: { status(): IndexerStatus }): bigint {
  return indexer.status().block?.blockNumber ?? 0n
}

/**
 * What a client gets with every result and can verify offline (verification/receipt-bundle.ts): the receipt and
 * signature, its EIP-712 domain, the request and output bodies whose hashes it commits to, and the gateway's
 * attestation of what it checked.
 */
export function resultBundle({
  identity,
  receipt,
  signature,
  request,
  output,
  attestation,
}: {
  identity: ComputeIdentity
  receipt: ComputeReceipt
  signature: Hex
  request: { modelId: Hex; input: Tensor; parameters: Record<string, string> }
  output: Tensor
  attestation: BundleAttestation
}): { bundle: ReceiptBundle; json: ResultBundle } {
  const bundle: ReceiptBundle = {
    version: RECEIPT_BUNDLE_VERSION,
    domain: identity.domain,
    receipt,
    signature,
    request,
    output,
    attestation,
  }
  return { bundle, json: receiptBundleToJson(bundle) }
}
