import {
  type Account,
  type Address,
  getAddress,
  type Hex,
  hashTypedData,
  isAddress,
  isAddressEqual,
  isHex,
  keccak256,
  recoverTypedDataAddress,
} from 'viem'

/**
 * EIP-712 types of computegraph's verification receipts, shared by the contracts' tests, the gateway and the worker.
 * The ComputeReceipt field order must match RECEIPT_TYPEHASH in JobMarket.sol.
 */
export const RECEIPT_DOMAIN_NAME = 'computegraph'
export const RECEIPT_DOMAIN_VERSION = '1'

export interface ReceiptDomain {
  name: typeof RECEIPT_DOMAIN_NAME
  version: typeof RECEIPT_DOMAIN_VERSION
  chainId: number
  verifyingContract: Address
}

/** The domain binds a receipt to one chain and one JobMarket, so it cannot be replayed elsewhere. */
export function receiptDomain({ chainId, jobMarket }: { chainId: number; jobMarket: Address }): ReceiptDomain {
  return {
    name: RECEIPT_DOMAIN_NAME,
    version: RECEIPT_DOMAIN_VERSION,
    chainId,
    verifyingContract: getAddress(jobMarket),
  }
}

export const computeReceiptTypes = {
  ComputeReceipt: [
    { name: 'requestHash', type: 'bytes32' },
    { name: 'outputHash', type: 'bytes32' },
    { name: 'modelId', type: 'bytes32' },
    { name: 'runtimeId', type: 'bytes32' },
    { name: 'requester', type: 'address' },
    { name: 'worker', type: 'address' },
    { name: 'jobId', type: 'uint256' },
    { name: 'units', type: 'uint64' },
    { name: 'price', type: 'uint256' },
    { name: 'issuedAt', type: 'uint64' },
    { name: 'expiresAt', type: 'uint64' },
    { name: 'nonce', type: 'uint256' },
  ],
} as const

/** What the gateway checked about a receipt. A worker cannot know whether it will be re-executed. */
export const Verification = {
  SIGNATURE_ONLY: 0,
  REEXECUTED_MATCH: 1,
  DISPUTED: 2,
} as const
export type VerificationMode = (typeof Verification)[keyof typeof Verification]

export const attestationTypes = {
  Attestation: [
    { name: 'receiptDigest', type: 'bytes32' },
    { name: 'verification', type: 'uint8' },
    { name: 'evidenceHash', type: 'bytes32' },
    { name: 'attestedAt', type: 'uint64' },
    { name: 'blockNumber', type: 'uint64' },
  ],
} as const

/** What a worker computed, signed by its provider key. `jobId` is 0 for off-chain requests. */
export interface ComputeReceipt {
  requestHash: Hex
  outputHash: Hex
  modelId: Hex
  runtimeId: Hex
  requester: Address
  worker: Address
  jobId: bigint
  units: bigint
  price: bigint
  issuedAt: bigint
  expiresAt: bigint
  nonce: bigint
}

export interface Attestation {
  receiptDigest: Hex
  verification: VerificationMode
  evidenceHash: Hex
  /** The gateway's wall clock, unix seconds: the clock the receipt's issuedAt and expiresAt use. */
  attestedAt: bigint
  /**
   * The gateway's indexed head when it attested: the block the worker's stake is checked at. A block number places the
   * receipt on the chain without relating the worker's wall clock to block timestamps. 0 when the gateway knew none.
   */
  blockNumber: bigint
}

/** keccak256 over exact bytes: how request, output and model ids are formed. */
export function hashBytes(bytes: Uint8Array): Hex {
  return keccak256(bytes)
}

export function hashReceipt({ domain, receipt }: { domain: ReceiptDomain; receipt: ComputeReceipt }): Hex {
  return hashTypedData({ domain, types: computeReceiptTypes, primaryType: 'ComputeReceipt', message: receipt })
}

export async function signReceipt({
  account,
  domain,
  receipt,
}: {
  account: Account
  domain: ReceiptDomain
  receipt: ComputeReceipt
}): Promise<Hex> {
  if (!account.signTypedData) throw new Error(`account ${account.address} cannot sign typed data locally`)
  return account.signTypedData({ domain, types: computeReceiptTypes, primaryType: 'ComputeReceipt', message: receipt })
}

export async function recoverReceiptSigner({
  domain,
  receipt,
  signature,
}: {
  domain: ReceiptDomain
  receipt: ComputeReceipt
  signature: Hex
}): Promise<Address> {
  return recoverTypedDataAddress({
    domain,
    types: computeReceiptTypes,
    primaryType: 'ComputeReceipt',
    message: receipt,
    signature,
  })
}

export type SignatureCheck = { valid: true; signer: Address } | { valid: false; reason: string; signer?: Address }

/** Checks that `signature` over `receipt` in `domain` was made by `receipt.worker`. */
export async function verifyReceiptSignature(args: {
  domain: ReceiptDomain
  receipt: ComputeReceipt
  signature: Hex
}): Promise<SignatureCheck> {
  let signer: Address
  try {
    signer = await recoverReceiptSigner(args)
  } catch (cause) {
    return { valid: false, reason: `malformed signature: ${(cause as Error).message.split('\n')[0]}` }
  }
  if (!isAddressEqual(signer, args.receipt.worker)) {
    return { valid: false, signer, reason: `signed by ${signer}, not by the worker ${args.receipt.worker}` }
  }
  return { valid: true, signer }
}

export function hashAttestation({ domain, attestation }: { domain: ReceiptDomain; attestation: Attestation }): Hex {
  return hashTypedData({ domain, types: attestationTypes, primaryType: 'Attestation', message: attestation })
}

export async function signAttestation({
  account,
  domain,
  attestation,
}: {
  account: Account
  domain: ReceiptDomain
  attestation: Attestation
}): Promise<Hex> {
  if (!account.signTypedData) throw new Error(`account ${account.address} cannot sign typed data locally`)
  return account.signTypedData({ domain, types: attestationTypes, primaryType: 'Attestation', message: attestation })
}

/** Checks that `signature` over `attestation` was made by `gateway`. */
export async function verifyAttestationSignature(args: {
  domain: ReceiptDomain
  attestation: Attestation
  signature: Hex
  gateway: Address
}): Promise<SignatureCheck> {
  let signer: Address
  try {
    signer = await recoverTypedDataAddress({
      domain: args.domain,
      types: attestationTypes,
      primaryType: 'Attestation',
      message: args.attestation,
      signature: args.signature,
    })
  } catch (cause) {
    return { valid: false, reason: `malformed signature: ${(cause as Error).message.split('\n')[0]}` }
  }
  if (!isAddressEqual(signer, args.gateway)) {
    return { valid: false, signer, reason: `signed by ${signer}, not by the gateway ${args.gateway}` }
  }
  return { valid: true, signer }
}

/** A receipt as JSON: bigints become decimal strings. */
export type ComputeReceiptJson = Record<keyof ComputeReceipt, string>

export function receiptToJson(receipt: ComputeReceipt): ComputeReceiptJson {
  return {
    requestHash: receipt.requestHash,
    outputHash: receipt.outputHash,
    modelId: receipt.modelId,
    runtimeId: receipt.runtimeId,
    requester: receipt.requester,
    worker: receipt.worker,
    jobId: receipt.jobId.toString(),
    units: receipt.units.toString(),
    price: receipt.price.toString(),
    issuedAt: receipt.issuedAt.toString(),
    expiresAt: receipt.expiresAt.toString(),
    nonce: receipt.nonce.toString(),
  }
}

const UINT64_MAX = 2n ** 64n - 1n
const UINT256_MAX = 2n ** 256n - 1n

/** Parses and validates a receipt from JSON, naming the first field that is wrong. */
export function receiptFromJson(json: unknown): ComputeReceipt {
  if (typeof json !== 'object' || json === null) throw new TypeError('receipt must be a JSON object')
  const o = json as Record<string, unknown>
  const bytes32 = (k: string): Hex => {
    const v = o[k]
    if (typeof v !== 'string' || !isHex(v) || v.length !== 66) {
      throw new TypeError(`receipt.${k} must be a 0x-prefixed 32-byte hex string, got ${JSON.stringify(v)}`)
    }
    return v.toLowerCase() as Hex
  }
  const address = (k: string): Address => {
    const v = o[k]
    if (typeof v !== 'string' || !isAddress(v, { strict: false })) {
      throw new TypeError(`receipt.${k} must be an address, got ${JSON.stringify(v)}`)
    }
    return getAddress(v)
  }
  const uint = (k: string, max: bigint): bigint => {
    const v = o[k]
    if (typeof v !== 'string' || !/^(0|[1-9][0-9]*)$/.test(v) || BigInt(v) > max) {
      throw new TypeError(`receipt.${k} must be a decimal string of an unsigned integer, got ${JSON.stringify(v)}`)
    }
    return BigInt(v)
  }
  return {
    requestHash: bytes32('requestHash'),
    outputHash: bytes32('outputHash'),
    modelId: bytes32('modelId'),
    runtimeId: bytes32('runtimeId'),
    requester: address('requester'),
    worker: address('worker'),
    jobId: uint('jobId', UINT256_MAX),
    units: uint('units', UINT64_MAX),
    price: uint('price', UINT256_MAX),
    issuedAt: uint('issuedAt', UINT64_MAX),
    expiresAt: uint('expiresAt', UINT64_MAX),
    nonce: uint('nonce', UINT256_MAX),
  }
}
