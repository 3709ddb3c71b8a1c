import {
  type Attestation,
  type ComputeReceipt,
  hashReceipt,
  receiptToJson,
  signAttestation,
  type VerificationMode,
} from '@computegraph/contracts/receipts'
import type { ResultMessage } from '@computegraph/gpu-worker/protocol'
import { tensorToWire, type WireTensor } from '@computegraph/gpu-worker/protocol'
import type { Tensor } from '@computegraph/gpu-worker/tensor'
import type { Hex } from 'viem'
import type { ComputeIdentity } from './compute-identity'

const ZERO_HASH = `0x${'0'.repeat(64)}` as Hex

/** The gateway's signed statement of what it checked about a receipt, as it travels in a bundle. */
export interface SignedAttestation {
  attestation: { receiptDigest: Hex; verification: number; evidenceHash: Hex; attestedAt: string }
  signature: Hex
  gateway: Hex
  evidence?: unknown
}

/**
 * What a client gets with every result and can verify offline: the receipt and signature, its EIP-712 domain,
 * the request and output bodies whose hashes it commits to, and the gateway's attestation.
 */
export interface ResultBundle {
  version: 1
  domain: { name: string; version: string; chainId: number; verifyingContract: Hex }
  receipt: ReturnType<typeof receiptToJson>
  signature: Hex
  request: { modelId: Hex; input: WireTensor; parameters: Record<string, string> }
  output: WireTensor
  attestation: SignedAttestation
}

/** Signs an attestation of `verification` over `receipt`, with the hash of `evidence` (none: zero hash). */
export async function attest({
  identity,
  receipt,
  verification,
  evidenceHash = ZERO_HASH,
  evidence,
}: {
  identity: ComputeIdentity
  receipt: ComputeReceipt
  verification: VerificationMode
  evidenceHash?: Hex
  evidence?: unknown
}): Promise<SignedAttestation> {
  const attestation: Attestation = {
    receiptDigest: hashReceipt({ domain: identity.domain, receipt }),
    verification,
    evidenceHash,
    attestedAt: BigInt(Math.floor(Date.now() / 1000)),
  }
  const signature = await signAttestation({ account: identity.account, domain: identity.domain, attestation })
  return {
    attestation: { ...attestation, attestedAt: attestation.attestedAt.toString() },
    signature,
    gateway: identity.account.address,
    ...(evidence === undefined ? {} : { evidence }),
  }
}

export function resultBundle({
  identity,
  receipt,
  result,
  request,
  attestation,
}: {
  identity: ComputeIdentity
  receipt: ComputeReceipt
  result: ResultMessage
  request: { modelId: Hex; input: Tensor; parameters: Record<string, string> }
  attestation: SignedAttestation
}): ResultBundle {
  const { domain } = identity
  return {
    version: 1,
    domain: {
      name: domain.name,
      version: domain.version,
      chainId: Number(domain.chainId),
      verifyingContract: domain.verifyingContract,
    },
    receipt: receiptToJson(receipt),
    signature: result.signature,
    request: { modelId: request.modelId, input: tensorToWire(request.input), parameters: request.parameters },
    output: tensorToWire(result.output),
    attestation,
  }
}
