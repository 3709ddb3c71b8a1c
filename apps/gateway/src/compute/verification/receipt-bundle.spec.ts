import { ANVIL_KEYS } from '@computegraph/contracts/anvil'
import { receiptDomain, Verification } from '@computegraph/contracts/receipts'
import type { InferenceEngine, LoadedModel } from '@computegraph/gpu-worker'
import { keccak256 } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson, evidenceBytes, hashEvidence } from './evidence'
import {
  type AttestationEvidence,
  parseEvidence,
  parseReceiptBundle,
  parseReceiptBundleText,
  type ReceiptBundle,
  receiptBundleToJson,
} from './receipt-bundle'
import { attest, startEngine, TestWorker } from './testing/worker-receipts'

const domain = receiptDomain({ chainId: 31337, jobMarket: '0x5FbDB2315678afecb367f032d93F642f64180aa3' })
const requester = privateKeyToAccount(ANVIL_KEYS[5]).address
let engine: InferenceEngine
let model: LoadedModel
let bundle: ReceiptBundle
let evidence: AttestationEvidence

beforeAll(async () => {
  ;({ engine, model } = await startEngine())
  const worker = new TestWorker(privateKeyToAccount(ANVIL_KEYS[1]), engine, model, { clock: 1_780_000_000n })
  const second = new TestWorker(privateKeyToAccount(ANVIL_KEYS[2]), engine, model, { clock: 1_780_000_001n })
  const plain = await worker.infer({ domain, requester, jobId: 12n })
  const re = await second.infer({ domain, requester, jobId: 12n })
  evidence = {
    mode: 'DISPUTED',
    original: { receipt: plain.receipt, signature: plain.signature, output: plain.output },
    reexecution: { receipt: re.receipt, signature: re.signature, output: re.output },
    tolerance: model.entry.tolerance,
  }
  bundle = await attest({
    bundle: plain,
    gateway: privateKeyToAccount(ANVIL_KEYS[3]),
    verification: Verification.DISPUTED,
    evidence,
  })
})
afterAll(async () => engine?.close())

// biome-ignore lint/suspicious/noExplicitAny: the tests spoil arbitrary paths of parsed JSON
type Json = any

/** The bundle as a client receives it: JSON text, parsed back into plain objects. */
const asJson = (b: ReceiptBundle) => JSON.parse(JSON.stringify(receiptBundleToJson(b)))

describe('receipt bundle JSON', () => {
  it('round-trips every field, bigints as decimal strings', () => {
    const json = asJson(bundle)
    expect(json.receipt.jobId).toBe('12')
    expect(json.attestation.attestation.attestedAt).toBe(bundle.attestation?.attestation.attestedAt.toString())
    expect(parseReceiptBundle(json)).toEqual(bundle)
  })

  it.each([
    ['version', (j: Json) => (j.version = 2), 'bundle.version must be 1, got 2'],
    [
      'domain.chainId',
      (j: Json) => (j.domain.chainId = '31337'),
      'bundle.domain.chainId must be a positive integer, got "31337"',
    ],
    [
      'receipt.nonce',
      (j: Json) => (j.receipt.nonce = 5),
      'bundle.receipt.nonce must be a decimal string of an unsigned integer, got 5',
    ],
    [
      'receipt.worker',
      (j: Json) => (j.receipt.worker = '0x12'),
      'bundle.receipt.worker must be an address, got "0x12"',
    ],
    [
      'signature',
      (j: Json) => (j.signature = '0x00'),
      'bundle.signature must be a 0x-prefixed 65-byte hex signature, got "0x00"',
    ],
    [
      'request.input.dataB64',
      (j: Json) => (j.request.input.dataB64 = 'AAAA'),
      'bundle.request.input.dataB64 holds 3 bytes but float32 shape [3, 8] needs 96',
    ],
    ['output', (j: Json) => (j.output = 'x'), 'bundle.output must be a JSON object, got "x"'],
    [
      'an unknown field',
      (j: Json) => (j.ouput = j.output),
      'bundle.ouput is not a field of bundle; expected version, domain, receipt, signature, request, output, attestation',
    ],
    [
      'attestation.attestation.verification',
      (j: Json) => (j.attestation.attestation.verification = 3),
      'bundle.attestation.attestation.verification must be one of 0 (SIGNATURE_ONLY), 1 (REEXECUTED_MATCH), 2 (DISPUTED), got 3',
    ],
    [
      'attestation.evidence.mode',
      (j: Json) => (j.attestation.evidence.mode = 'SPOT_CHECK'),
      'bundle.attestation.evidence.mode must be "REEXECUTED_MATCH" or "DISPUTED", got "SPOT_CHECK"',
    ],
    [
      'a disputed execution without its output',
      (j: Json) => delete j.attestation.evidence.reexecution.output,
      'bundle.attestation.evidence.reexecution.output must be the decoded output tensor, got nothing',
    ],
    [
      'evidence receipt',
      (j: Json) => (j.attestation.evidence.original.receipt.units = '-1'),
      'bundle.attestation.evidence.original.receipt.units must be a decimal string of an unsigned integer, got "-1"',
    ],
  ])('names the path of a malformed %s', (_what, spoil, message) => {
    const json = asJson(bundle)
    spoil(json)
    expect(() => parseReceiptBundle(json)).toThrow(message)
  })

  it('says when the text is not JSON at all', () => {
    expect(() => parseReceiptBundleText('{"version": 1,')).toThrow(/^bundle is not valid JSON: /)
  })
})

describe('evidence hashing', () => {
  it('hashes the canonical JSON: keys sorted at every level, no whitespace', () => {
    const text = new TextDecoder().decode(evidenceBytes(evidence))
    expect(text).toBe(canonicalJson(JSON.parse(text)))
    expect(text.startsWith('{"mode":"DISPUTED","original":{"output":{"dataB64":')).toBe(true)
    expect(text).not.toMatch(/\s/)
    expect(hashEvidence(evidence)).toBe(keccak256(evidenceBytes(evidence)))
  })

  it('gives the same hash however the evidence JSON was spelt (key order, address and hex case)', () => {
    const json = asJson(bundle).attestation.evidence
    const respelt = JSON.parse(
      JSON.stringify({
        tolerance: json.tolerance,
        reexecution: json.reexecution,
        original: {
          ...json.original,
          receipt: { ...json.original.receipt, worker: json.original.receipt.worker.toLowerCase() },
        },
        mode: json.mode,
      }).replace(json.original.signature, json.original.signature.toUpperCase().replace('0X', '0x')),
    )
    expect(hashEvidence(parseEvidence(respelt))).toBe(hashEvidence(evidence))
    expect(hashEvidence(parseEvidence(respelt))).toBe(bundle.attestation?.attestation.evidenceHash)
  })
})
