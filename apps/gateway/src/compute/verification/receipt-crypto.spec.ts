import { ANVIL_KEYS } from '@computegraph/contracts/anvil'
import {
  type ComputeReceipt,
  computeReceiptTypes,
  hashReceipt,
  receiptDomain,
  signReceipt,
} from '@computegraph/contracts/receipts'
import { type Hex, keccak256, recoverTypedDataAddress, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  keccakBytes,
  keccakHex,
  keccakReady,
  RECOVERY_BACKEND,
  receiptDigest,
  recoverDigestSigner,
} from './receipt-crypto'

const account = privateKeyToAccount(ANVIL_KEYS[1])
const MAX64 = 2n ** 64n - 1n
const MAX256 = 2n ** 256n - 1n

/** Receipts from a fixed seed: ordinary values and the edges of every field's range. */
function receipts(): ComputeReceipt[] {
  const out: ComputeReceipt[] = []
  for (let i = 0; i < 40; i++) {
    const h = (s: string) => keccak256(toHex(`${s}${i}`))
    const edge = i % 4
    out.push({
      requestHash: edge === 1 ? `0x${'0'.repeat(64)}` : h('request'),
      outputHash: edge === 2 ? `0x${'f'.repeat(64)}` : h('output'),
      modelId: h('model'),
      runtimeId: h('runtime'),
      requester: privateKeyToAccount(ANVIL_KEYS[(i % 9) + 1] as Hex).address,
      worker: account.address,
      jobId: edge === 3 ? MAX256 : BigInt(i),
      units: edge === 3 ? MAX64 : BigInt(i * 7),
      price: edge === 2 ? MAX256 : 10n ** BigInt(i),
      issuedAt: 1_780_000_000n + BigInt(i),
      expiresAt: edge === 1 ? MAX64 : 1_780_086_400n + BigInt(i),
      nonce: edge === 0 ? 0n : 2n ** 127n + BigInt(i),
    })
  }
  return out
}

beforeAll(async () => {
  await keccakReady
})

describe('keccakHex', () => {
  it('equals viem’s keccak256 on every length around the 136-byte block boundary', () => {
    for (const n of [0, 1, 31, 32, 65, 66, 135, 136, 137, 271, 272, 416, 4096]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff)
      expect(keccakHex(data)).toBe(keccak256(data))
    }
  })

  it('hands out digests that later hashing does not overwrite', () => {
    const first = keccakBytes(Uint8Array.of(1))
    const copy = first.slice()
    keccakBytes(Uint8Array.of(2))
    expect(first).toEqual(copy)
  })
})

describe('receiptDigest', () => {
  it('equals the EIP-712 digest viem computes (and JobMarket, per the contracts’ parity test) for every receipt', () => {
    for (const chainId of [1, 31337, 8453]) {
      const domain = receiptDomain({ chainId, jobMarket: '0x5FbDB2315678afecb367f032d93F642f64180aa3' })
      for (const receipt of receipts())
        expect(receiptDigest({ domain, receipt })).toBe(hashReceipt({ domain, receipt }))
    }
  })
})

describe('recoverDigestSigner', () => {
  const domain = receiptDomain({ chainId: 31337, jobMarket: '0x5FbDB2315678afecb367f032d93F642f64180aa3' })

  it(`recovers the same signer as viem (${RECOVERY_BACKEND})`, async () => {
    for (const receipt of receipts().slice(0, 12)) {
      const signature = await signReceipt({ account, domain, receipt })
      const digest = hashReceipt({ domain, receipt })
      const viem = await recoverTypedDataAddress({
        domain,
        types: computeReceiptTypes,
        primaryType: 'ComputeReceipt',
        message: receipt,
        signature,
      })
      await expect(recoverDigestSigner({ digest, signature })).resolves.toEqual({ ok: true, signer: viem })
      expect(viem).toBe(account.address)
    }
  })

  it('refuses what JobMarket’s ECDSA refuses: v other than 27/28, s in the upper half, r or s out of range', async () => {
    const receipt = receipts()[0] as ComputeReceipt
    const signature = await signReceipt({ account, domain, receipt })
    const digest = hashReceipt({ domain, receipt })
    const body = signature.slice(0, 130)
    await expect(recoverDigestSigner({ digest, signature: `${body}00` as Hex })).resolves.toEqual({
      ok: false,
      reason: 'signature v must be 27 or 28, as JobMarket requires; got 0',
    })
    const zeroR = `0x${'0'.repeat(64)}${signature.slice(66)}` as Hex
    await expect(recoverDigestSigner({ digest, signature: zeroR })).resolves.toEqual({
      ok: false,
      reason: 'signature r or s is outside the curve order',
    })
    await expect(recoverDigestSigner({ digest, signature: signature.slice(0, 100) as Hex })).resolves.toEqual({
      ok: false,
      reason: 'signature must be 65 bytes of hex (r, s, v), got 49 bytes',
    })
  })
})
