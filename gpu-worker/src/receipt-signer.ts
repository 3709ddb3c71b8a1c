import {
  type ComputeReceipt,
  type ComputeReceiptJson,
  type ReceiptDomain,
  receiptToJson,
  signReceipt,
} from '@computegraph/contracts/receipts'
import type { Account, Address, Hex } from 'viem'

export interface SignedReceipt {
  receipt: ComputeReceipt
  signature: Hex
}

export interface ReceiptFields {
  requestHash: Hex
  outputHash: Hex
  modelId: Hex
  runtimeId: Hex
  requester: Address
  jobId: bigint
  units: bigint
  price: bigint
}

/** A random 128-bit number: the start of a worker's nonce sequence, so restarts do not reuse nonces. */
export function randomNonceStart(): bigint {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n)
}

/**
 * Signs ComputeReceipts with the worker's provider key. Nonces are `start + counter`, unique for this worker;
 * issuedAt is now, expiresAt is now + ttlSeconds (the time left to submit the receipt on-chain).
 */
export class ReceiptSigner {
  private counter = 0n
  private readonly nonceStart: bigint

  constructor(
    private readonly options: {
      account: Account
      ttlSeconds: number
      nonceStart?: bigint
      now?: () => number
    },
  ) {
    this.nonceStart = options.nonceStart ?? randomNonceStart()
  }

  get worker(): Address {
    return this.options.account.address
  }

  nextNonce(): bigint {
    return this.nonceStart + this.counter++
  }

  /** `domain` comes from the gateway's challenge: the chain and JobMarket the receipt may be redeemed on. */
  async sign({
    domain,
    fields,
  }: {
    domain: ReceiptDomain
    fields: ReceiptFields
  }): Promise<SignedReceipt & { json: ComputeReceiptJson }> {
    const issuedAt = BigInt(Math.floor((this.options.now?.() ?? Date.now()) / 1000))
    const receipt: ComputeReceipt = {
      ...fields,
      worker: this.options.account.address,
      issuedAt,
      expiresAt: issuedAt + BigInt(this.options.ttlSeconds),
      nonce: this.nextNonce(),
    }
    const signature = await signReceipt({ account: this.options.account, domain, receipt })
    return { receipt, signature, json: receiptToJson(receipt) }
  }
}
