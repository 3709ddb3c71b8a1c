import {
  type Attestation,
  type ComputeReceipt,
  type ComputeReceiptJson,
  RECEIPT_DOMAIN_NAME,
  RECEIPT_DOMAIN_VERSION,
  type ReceiptDomain,
  receiptFromJson,
  receiptToJson,
  Verification,
  type VerificationMode,
} from '@computegraph/contracts/receipts'
import type { Tolerance } from '@computegraph/gpu-worker/model-manifest'
import { tensorFromWire, tensorToWire, type WireTensor } from '@computegraph/gpu-worker/protocol'
import type { Tensor } from '@computegraph/gpu-worker/tensor'
import { type Address, getAddress, type Hex, isAddress, isHex } from 'viem'
import { NonRetryableError } from '../../common/errors'

/*
 * The receipt bundle: what the gateway hands a client with every result, and all a third party needs, with a chain,
 * to verify it (verify-receipt.ts). JSON, bigints as decimal strings:
 *
 *   { version: 1, domain: {name, version, chainId, verifyingContract}, receipt: receiptToJson(receipt), signature,
 *     request?: {modelId, input: tensor, parameters?}, output?: tensor,
 *     attestation?: {attestation: {receiptDigest, verification, evidenceHash, attestedAt, blockNumber}, signature, gateway,
 *                    evidence?} }
 *
 * Tensors are the worker protocol's {dtype: 'float32', shape, dataB64}. request and output are the bodies whose
 * canonical bytes (gpu-worker/src/canonical-bytes.ts) the receipt hashes; a training receipt may come without them.
 */

export const RECEIPT_BUNDLE_VERSION = 1

export interface BundleRequest {
  modelId: Hex
  input: Tensor
  parameters?: Record<string, string>
}

/** One worker's signed execution of a request, as evidence: its receipt, signature and (when needed) output. */
export interface SignedExecution {
  receipt: ComputeReceipt
  signature: Hex
  output?: Tensor
}

/**
 * What backs an attestation's claim. REEXECUTED_MATCH: a second worker's receipt for the same request whose output
 * hash is equal, or whose decoded output (included) is within `tolerance` of the bundle's. DISPUTED: both executions
 * with their outputs, which differ beyond `tolerance`.
 */
export type AttestationEvidence =
  | { mode: 'REEXECUTED_MATCH'; reexecution: SignedExecution; tolerance?: Tolerance }
  | { mode: 'DISPUTED'; original: SignedExecution; reexecution: SignedExecution; tolerance: Tolerance }

export type VerificationName = keyof typeof Verification

export interface BundleAttestation {
  attestation: Attestation
  /** The gateway's EIP-712 signature over `attestation`, in the bundle's domain. */
  signature: Hex
  gateway: Address
  evidence?: AttestationEvidence
}

export interface ReceiptBundle {
  version: typeof RECEIPT_BUNDLE_VERSION
  domain: ReceiptDomain
  receipt: ComputeReceipt
  signature: Hex
  request?: BundleRequest
  output?: Tensor
  attestation?: BundleAttestation
}

export interface SignedExecutionJson {
  receipt: ComputeReceiptJson
  signature: Hex
  output?: WireTensor
}

export type AttestationEvidenceJson =
  | { mode: 'REEXECUTED_MATCH'; reexecution: SignedExecutionJson; tolerance?: Tolerance }
  | { mode: 'DISPUTED'; original: SignedExecutionJson; reexecution: SignedExecutionJson; tolerance: Tolerance }

export interface ReceiptBundleJson {
  version: typeof RECEIPT_BUNDLE_VERSION
  domain: ReceiptDomain
  receipt: ComputeReceiptJson
  signature: Hex
  request?: { modelId: Hex; input: WireTensor; parameters?: Record<string, string> }
  output?: WireTensor
  attestation?: {
    attestation: {
      receiptDigest: Hex
      verification: VerificationMode
      evidenceHash: Hex
      attestedAt: string
      blockNumber: string
    }
    signature: Hex
    gateway: Address
    evidence?: AttestationEvidenceJson
  }
}

/** A bundle that is not well-formed; the message names the path of the first bad field (`bundle.receipt.nonce`). */
export class ReceiptBundleError extends NonRetryableError {
  override name = 'ReceiptBundleError'
}

export const verificationName = (mode: VerificationMode): VerificationName =>
  (Object.keys(Verification) as VerificationName[]).find((k) => Verification[k] === mode) as VerificationName

function executionToJson(e: SignedExecution): SignedExecutionJson {
  return {
    receipt: receiptToJson(e.receipt),
    signature: e.signature,
    ...(e.output ? { output: tensorToWire(e.output) } : {}),
  }
}

/** The evidence as JSON, in the normalised form its hash is taken over (see evidence.ts). */
export function evidenceToJson(evidence: AttestationEvidence): AttestationEvidenceJson {
  if (evidence.mode === 'DISPUTED') {
    return {
      mode: evidence.mode,
      original: executionToJson(evidence.original),
      reexecution: executionToJson(evidence.reexecution),
      tolerance: { ...evidence.tolerance },
    }
  }
  return {
    mode: evidence.mode,
    reexecution: executionToJson(evidence.reexecution),
    ...(evidence.tolerance ? { tolerance: { ...evidence.tolerance } } : {}),
  }
}

export function receiptBundleToJson(bundle: ReceiptBundle): ReceiptBundleJson {
  const { request, output, attestation } = bundle
  return {
    version: bundle.version,
    domain: { ...bundle.domain },
    receipt: receiptToJson(bundle.receipt),
    signature: bundle.signature,
    ...(request
      ? {
          request: {
            modelId: request.modelId,
            input: tensorToWire(request.input),
            ...(request.parameters ? { parameters: { ...request.parameters } } : {}),
          },
        }
      : {}),
    ...(output ? { output: tensorToWire(output) } : {}),
    ...(attestation
      ? {
          attestation: {
            attestation: {
              receiptDigest: attestation.attestation.receiptDigest,
              verification: attestation.attestation.verification,
              evidenceHash: attestation.attestation.evidenceHash,
              attestedAt: attestation.attestation.attestedAt.toString(),
              blockNumber: attestation.attestation.blockNumber.toString(),
            },
            signature: attestation.signature,
            gateway: attestation.gateway,
            ...(attestation.evidence ? { evidence: evidenceToJson(attestation.evidence) } : {}),
          },
        }
      : {}),
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (value === null) return 'null'
  if (typeof value === 'object') return 'an object'
  return String(value)
}

/** Reads one JSON object of the bundle, naming `path.key` in every error, and refusing keys it does not know. */
class Obj {
  readonly value: Record<string, unknown>

  constructor(
    value: unknown,
    readonly path: string,
    known: readonly string[],
  ) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ReceiptBundleError(`${path} must be a JSON object, got ${describe(value)}`)
    }
    this.value = value as Record<string, unknown>
    // Strict: a misspelt optional field ("ouput") would otherwise silently drop a body from the checks.
    const unknown = Object.keys(this.value).filter((k) => !known.includes(k))
    if (unknown.length > 0) {
      throw new ReceiptBundleError(`${path}.${unknown[0]} is not a field of ${path}; expected ${known.join(', ')}`)
    }
  }

  fail(key: string, expected: string): never {
    throw new ReceiptBundleError(`${this.path}.${key} must be ${expected}, got ${describe(this.value[key])}`)
  }

  has(key: string): boolean {
    return this.value[key] !== undefined
  }

  at(key: string): string {
    return `${this.path}.${key}`
  }

  bytes32(key: string): Hex {
    const v = this.value[key]
    if (typeof v !== 'string' || !isHex(v) || v.length !== 66) this.fail(key, 'a 0x-prefixed 32-byte hex string')
    return v.toLowerCase() as Hex
  }

  signature(key: string): Hex {
    const v = this.value[key]
    if (typeof v !== 'string' || !isHex(v) || v.length !== 132) this.fail(key, 'a 0x-prefixed 65-byte hex signature')
    return v.toLowerCase() as Hex
  }

  address(key: string): Address {
    const v = this.value[key]
    if (typeof v !== 'string' || !isAddress(v, { strict: false })) this.fail(key, 'a 20-byte hex address')
    return getAddress(v)
  }

  uint64(key: string): bigint {
    const v = this.value[key]
    if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(v) || BigInt(v) >= 2n ** 64n) {
      this.fail(key, 'a decimal string of an unsigned 64-bit integer')
    }
    return BigInt(v)
  }

  tolerance(key: string): Tolerance {
    const t = new Obj(this.value[key], this.at(key), ['absolute', 'relative'])
    for (const k of ['absolute', 'relative']) {
      const v = t.value[k]
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) t.fail(k, 'a finite non-negative number')
    }
    return { absolute: t.value.absolute as number, relative: t.value.relative as number }
  }
}

const RECEIPT_KEYS = [
  'requestHash',
  'outputHash',
  'modelId',
  'runtimeId',
  'requester',
  'worker',
  'jobId',
  'units',
  'price',
  'issuedAt',
  'expiresAt',
  'nonce',
] as const satisfies readonly (keyof ComputeReceipt)[]

function parseReceipt(value: unknown, path: string): ComputeReceipt {
  new Obj(value, path, RECEIPT_KEYS)
  try {
    return receiptFromJson(value)
  } catch (error) {
    // receiptFromJson names fields as `receipt.x`; give the full path within the bundle.
    throw new ReceiptBundleError((error as Error).message.replace(/^receipt\b/, path))
  }
}

function parseTensor(value: unknown, path: string): Tensor {
  try {
    return tensorFromWire(value, path)
  } catch (error) {
    throw new ReceiptBundleError((error as Error).message)
  }
}

function parseDomain(value: unknown, path: string): ReceiptDomain {
  const d = new Obj(value, path, ['name', 'version', 'chainId', 'verifyingContract'])
  if (d.value.name !== RECEIPT_DOMAIN_NAME) d.fail('name', JSON.stringify(RECEIPT_DOMAIN_NAME))
  if (d.value.version !== RECEIPT_DOMAIN_VERSION) d.fail('version', JSON.stringify(RECEIPT_DOMAIN_VERSION))
  const chainId = d.value.chainId
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId < 1) {
    d.fail('chainId', 'a positive integer')
  }
  return {
    name: RECEIPT_DOMAIN_NAME,
    version: RECEIPT_DOMAIN_VERSION,
    chainId: chainId as number,
    verifyingContract: d.address('verifyingContract'),
  }
}

function parseRequest(value: unknown, path: string): BundleRequest {
  const r = new Obj(value, path, ['modelId', 'input', 'parameters'])
  const request: BundleRequest = { modelId: r.bytes32('modelId'), input: parseTensor(r.value.input, r.at('input')) }
  if (r.has('parameters')) {
    const p = new Obj(r.value.parameters, r.at('parameters'), Object.keys(r.value.parameters ?? {}))
    const parameters: Record<string, string> = {}
    for (const [key, v] of Object.entries(p.value)) {
      if (typeof v !== 'string') return p.fail(key, 'a string')
      parameters[key] = v
    }
    request.parameters = parameters
  }
  return request
}

function parseExecution(value: unknown, path: string, { output }: { output: 'required' | 'optional' }) {
  const e = new Obj(value, path, ['receipt', 'signature', 'output'])
  if (output === 'required' && !e.has('output')) e.fail('output', 'the decoded output tensor')
  const execution: SignedExecution = {
    receipt: parseReceipt(e.value.receipt, e.at('receipt')),
    signature: e.signature('signature'),
  }
  if (e.has('output')) execution.output = parseTensor(e.value.output, e.at('output'))
  return execution
}

/** Parses evidence JSON (the `evidence` of an attestation), naming the first bad field under `path`. */
export function parseEvidence(value: unknown, path = 'evidence'): AttestationEvidence {
  const probe = new Obj(value, path, ['mode', 'original', 'reexecution', 'tolerance'])
  if (probe.value.mode === 'REEXECUTED_MATCH') {
    const e = new Obj(value, path, ['mode', 'reexecution', 'tolerance'])
    return {
      mode: 'REEXECUTED_MATCH',
      reexecution: parseExecution(e.value.reexecution, e.at('reexecution'), { output: 'optional' }),
      ...(e.has('tolerance') ? { tolerance: e.tolerance('tolerance') } : {}),
    }
  }
  if (probe.value.mode === 'DISPUTED') {
    const e = new Obj(value, path, ['mode', 'original', 'reexecution', 'tolerance'])
    return {
      mode: 'DISPUTED',
      original: parseExecution(e.value.original, e.at('original'), { output: 'required' }),
      reexecution: parseExecution(e.value.reexecution, e.at('reexecution'), { output: 'required' }),
      tolerance: e.tolerance('tolerance'),
    }
  }
  return probe.fail('mode', '"REEXECUTED_MATCH" or "DISPUTED"')
}

function parseAttestation(value: unknown, path: string): BundleAttestation {
  const a = new Obj(value, path, ['attestation', 'signature', 'gateway', 'evidence'])
  const m = new Obj(a.value.attestation, a.at('attestation'), [
    'receiptDigest',
    'verification',
    'evidenceHash',
    'attestedAt',
    'blockNumber',
  ])
  const verification = m.value.verification
  if (!(Object.values(Verification) as unknown[]).includes(verification)) {
    m.fail(
      'verification',
      `one of ${Object.entries(Verification)
        .map(([k, v]) => `${v} (${k})`)
        .join(', ')}`,
    )
  }
  return {
    attestation: {
      receiptDigest: m.bytes32('receiptDigest'),
      verification: verification as VerificationMode,
      evidenceHash: m.bytes32('evidenceHash'),
      attestedAt: m.uint64('attestedAt'),
      blockNumber: m.uint64('blockNumber'),
    },
    signature: a.signature('signature'),
    gateway: a.address('gateway'),
    ...(a.has('evidence') ? { evidence: parseEvidence(a.value.evidence, a.at('evidence')) } : {}),
  }
}

/** Parses and validates a receipt bundle from JSON; throws ReceiptBundleError naming the first bad field. */
export function parseReceiptBundle(json: unknown, path = 'bundle'): ReceiptBundle {
  const b = new Obj(json, path, ['version', 'domain', 'receipt', 'signature', 'request', 'output', 'attestation'])
  if (b.value.version !== RECEIPT_BUNDLE_VERSION) b.fail('version', `${RECEIPT_BUNDLE_VERSION}`)
  const bundle: ReceiptBundle = {
    version: RECEIPT_BUNDLE_VERSION,
    domain: parseDomain(b.value.domain, b.at('domain')),
    receipt: parseReceipt(b.value.receipt, b.at('receipt')),
    signature: b.signature('signature'),
  }
  if (b.has('request')) bundle.request = parseRequest(b.value.request, b.at('request'))
  if (b.has('output')) bundle.output = parseTensor(b.value.output, b.at('output'))
  if (b.has('attestation')) bundle.attestation = parseAttestation(b.value.attestation, b.at('attestation'))
  return bundle
}

/** Parses a bundle given as JSON text (the GraphQL argument, the CLI's file). */
export function parseReceiptBundleText(text: string, path = 'bundle'): ReceiptBundle {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new ReceiptBundleError(`${path} is not valid JSON: ${(error as Error).message}`)
  }
  return parseReceiptBundle(json, path)
}
