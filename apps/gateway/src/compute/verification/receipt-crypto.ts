import { createRequire } from 'node:module'
import { type ComputeReceipt, computeReceiptTypes, type ReceiptDomain } from '@computegraph/contracts/receipts'
import { createKeccak, type IHasher } from 'hash-wasm'
import {
  type Address,
  bytesToHex,
  getAddress,
  type Hex,
  hashDomain,
  hexToBytes,
  recoverAddress,
  toBytes,
  keccak256 as viemKeccak256,
} from 'viem'

/*
 * The hot path of receipt verification: the EIP-712 digest and the signer's recovery, about 40 times faster than
 * viem's generic hashTypedData + recoverTypedDataAddress (550 receipts/s on one core). The digest is
 * keccak256(0x1901 ‖ domainSeparator ‖ keccak256(typeHash ‖ the 12 fields, 32 bytes each)), the domain separator cached
 * per domain; keccak256 runs in hash-wasm's WebAssembly (20 times viem's pure-JS keccak on a struct encoding), and
 * recovery in libsecp256k1 (the `secp256k1` package's prebuilt binding) where it loads, viem otherwise.
 * receipt-crypto.spec.ts checks both against viem on the same inputs.
 */

let wasmKeccak: IHasher | null = null
/** Resolves once the WebAssembly keccak is loaded; until then (or if it cannot load) viem's keccak256 is used. */
export const keccakReady: Promise<void> = createKeccak(256).then(
  (hasher) => {
    wasmKeccak = hasher
  },
  () => {},
)

/** keccak256 of `data`, as bytes. Synchronous: the shared hasher is never left between init and digest. */
export function keccakBytes(data: Uint8Array): Uint8Array {
  if (!wasmKeccak) return viemKeccak256(data, 'bytes')
  wasmKeccak.init()
  wasmKeccak.update(data)
  return wasmKeccak.digest('binary')
}

/** keccak256 over exact bytes, as hex: contracts' hashBytes, faster. */
export function keccakHex(data: Uint8Array): Hex {
  return bytesToHex(keccakBytes(data))
}

const require = createRequire(import.meta.url)

interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array
}

function loadNative(): NativeSecp256k1 | null {
  try {
    // `secp256k1/bindings` only: the package's index falls back to a pure-JS `elliptic`, slower than viem's noble.
    return require('secp256k1/bindings') as NativeSecp256k1
  } catch {
    return null
  }
}

const native = loadNative()

/** Which implementation recovers signers here: benchmarks print it. */
export const RECOVERY_BACKEND = native ? 'libsecp256k1 (native)' : '@noble/curves (viem)'

/** secp256k1's group order n; JobMarket (OpenZeppelin's ECDSA) refuses s above n/2, as EIP-2 does. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const HALF_N = SECP256K1_N / 2n

const RECEIPT_FIELDS = computeReceiptTypes.ComputeReceipt
const RECEIPT_TYPE_HASH = viemKeccak256(
  toBytes(`ComputeReceipt(${RECEIPT_FIELDS.map((f) => `${f.type} ${f.name}`).join(',')})`),
  'bytes',
)
const MAX_UINT = { uint64: 2n ** 64n - 1n, uint256: 2n ** 256n - 1n } as const

const domainSeparators = new Map<string, Uint8Array>()

function domainSeparator(domain: ReceiptDomain): Uint8Array {
  const key = `${domain.name}\n${domain.version}\n${domain.chainId}\n${domain.verifyingContract.toLowerCase()}`
  let separator = domainSeparators.get(key)
  if (!separator) {
    separator = hexToBytes(
      hashDomain({
        domain: { ...domain, chainId: BigInt(domain.chainId) },
        types: { EIP712Domain: EIP712_DOMAIN_FIELDS },
      }),
    )
    // Bounded: a verifier sees a handful of deployments; a flood of forged domains must not grow memory.
    if (domainSeparators.size >= 64) domainSeparators.clear()
    domainSeparators.set(key, separator)
  }
  return separator
}

const EIP712_DOMAIN_FIELDS = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
] as const

// Hex digits by char code, -1 for anything else: decoding straight into the encoding buffer is most of the digest's
// speed, as viem's hexToBytes allocates and validates per call.
const HEX_VALUES = new Int8Array(128).fill(-1)
for (let i = 0; i < 16; i++) {
  HEX_VALUES['0123456789abcdef'.charCodeAt(i)] = i
  HEX_VALUES['0123456789ABCDEF'.charCodeAt(i)] = i
}

/** Writes `digits` (hex without 0x) right-aligned into the 32-byte word at `offset`. */
function writeDigits(out: Uint8Array, offset: number, digits: string, name: string): void {
  if (digits.length > 64 || digits.length % 2 !== 0) throw new RangeError(`receipt.${name} does not fit 32 bytes`)
  const start = offset + 32 - digits.length / 2
  for (let i = 0; i < digits.length; i += 2) {
    const hi = HEX_VALUES[digits.charCodeAt(i)] ?? -1
    const lo = HEX_VALUES[digits.charCodeAt(i + 1)] ?? -1
    if (hi < 0 || lo < 0) throw new RangeError(`receipt.${name} is not hex`)
    out[start + i / 2] = (hi << 4) | lo
  }
}

function writeUint(out: Uint8Array, offset: number, value: bigint, max: bigint, name: string): void {
  if (value < 0n || value > max) throw new RangeError(`receipt.${name} ${value} is out of range`)
  const digits = value.toString(16)
  writeDigits(out, offset, digits.length % 2 === 0 ? digits : `0${digits}`, name)
}

function writeHex(out: Uint8Array, offset: number, hex: string, bytes: number, name: string): void {
  if (hex.length !== 2 + 2 * bytes || hex[0] !== '0' || (hex[1] !== 'x' && hex[1] !== 'X')) {
    throw new RangeError(`receipt.${name} must be ${bytes} bytes of 0x-prefixed hex`)
  }
  writeDigits(out, offset, hex.slice(2), name)
}

/** keccak256 of the receipt's EIP-712 struct encoding: what JobMarket.hashReceipt's struct hash is. */
function receiptStructHash(receipt: ComputeReceipt): Uint8Array {
  const out = new Uint8Array(32 * (RECEIPT_FIELDS.length + 1))
  out.set(RECEIPT_TYPE_HASH, 0)
  RECEIPT_FIELDS.forEach((field, i) => {
    const offset = 32 * (i + 1)
    const value = receipt[field.name]
    if (field.type === 'bytes32') writeHex(out, offset, value as string, 32, field.name)
    else if (field.type === 'address') writeHex(out, offset, value as string, 20, field.name)
    else writeUint(out, offset, value as bigint, MAX_UINT[field.type], field.name)
  })
  return keccakBytes(out)
}

/** The receipt's EIP-712 digest, equal to contracts' hashReceipt and to the `receiptDigest` JobMarket emits. */
export function receiptDigest({ domain, receipt }: { domain: ReceiptDomain; receipt: ComputeReceipt }): Hex {
  const message = new Uint8Array(66)
  message[0] = 0x19
  message[1] = 0x01
  message.set(domainSeparator(domain), 2)
  message.set(receiptStructHash(receipt), 34)
  return keccakHex(message)
}

export type Recovery = { ok: true; signer: Address } | { ok: false; reason: string }

/**
 * Recovers who signed `digest`, accepting only what JobMarket's ECDSA.tryRecover accepts: 65 bytes r ‖ s ‖ v with
 * v 27 or 28 and s in the lower half of the order, so a receipt that verifies here can also be redeemed on-chain.
 */
export async function recoverDigestSigner({ digest, signature }: { digest: Hex; signature: Hex }): Promise<Recovery> {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) {
    return { ok: false, reason: `signature must be 65 bytes of hex (r, s, v), got ${(signature.length - 2) / 2} bytes` }
  }
  const bytes = hexToBytes(signature)
  const v = bytes[64] as number
  if (v !== 27 && v !== 28)
    return { ok: false, reason: `signature v must be 27 or 28, as JobMarket requires; got ${v}` }
  const r = BigInt(`0x${signature.slice(2, 66)}`)
  const s = BigInt(`0x${signature.slice(66, 130)}`)
  if (r === 0n || r >= SECP256K1_N || s === 0n || s >= SECP256K1_N) {
    return { ok: false, reason: 'signature r or s is outside the curve order' }
  }
  if (s > HALF_N) {
    return {
      ok: false,
      reason: 'signature s is in the upper half of the curve order (malleable); JobMarket refuses it',
    }
  }
  try {
    if (!native) return { ok: true, signer: await recoverAddress({ hash: digest, signature }) }
    const publicKey = native.ecdsaRecover(bytes.subarray(0, 64), v - 27, hexToBytes(digest), false)
    return { ok: true, signer: getAddress(bytesToHex(keccakBytes(publicKey.subarray(1)).subarray(12))) }
  } catch (cause) {
    return { ok: false, reason: `no public key recovers from this signature: ${(cause as Error).message}` }
  }
}
