import { ANVIL_KEYS } from '@computegraph/contracts/anvil'
import { type ComputeReceipt, hashReceipt, receiptDomain, signReceipt } from '@computegraph/contracts/receipts'
import type { InferenceEngine, LoadedModel } from '@computegraph/gpu-worker'
import { encodeInferenceOutput } from '@computegraph/gpu-worker/canonical-bytes'
import { type Address, type Hex, keccak256, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AttestationEvidence, ReceiptBundle } from './receipt-bundle'
import { attest, perturbOutput, resign, startEngine, TestWorker, Verification } from './testing/worker-receipts'
import {
  type CheckName,
  type IndexedJob,
  type ReceiptVerification,
  type StakeAt,
  type VerificationLookups,
  verifyReceiptBundle,
} from './verify-receipt'

// The unit tests of the pure verifier: real receipts from the worker's own inference and signing code, and the
// chain-derived facts (stake, nonces seen, jobs) given as plain data. verification.spec.ts does the same against
// anvil, the indexer and the database.

const workerKey = privateKeyToAccount(ANVIL_KEYS[1])
const secondKey = privateKeyToAccount(ANVIL_KEYS[2])
const gatewayKey = privateKeyToAccount(ANVIL_KEYS[3])
const strangerKey = privateKeyToAccount(ANVIL_KEYS[4])
const requester = privateKeyToAccount(ANVIL_KEYS[5]).address
const JOB_MARKET: Address = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const domain = receiptDomain({ chainId: 31337, jobMarket: JOB_MARKET })
const expected = { chainId: 31337, verifyingContract: JOB_MARKET }
const ISSUED_AT = 1_780_000_000n
const NOW = ISSUED_AT + 60n
const MIN_STAKE = 1_000n * 10n ** 18n

let engine: InferenceEngine
let model: LoadedModel
let worker: TestWorker
let second: TestWorker

beforeAll(async () => {
  ;({ engine, model } = await startEngine())
  worker = new TestWorker(workerKey, engine, model, { clock: ISSUED_AT })
  second = new TestWorker(secondKey, engine, model, { clock: ISSUED_AT + 2n })
})
afterAll(async () => engine?.close())

const staked = (stake = 5_000n * 10n ** 18n): StakeAt => ({
  registered: true,
  stake,
  minStake: MIN_STAKE,
  block: { number: 10n },
  source: 'the test state',
})

/** Lookups over plain data: both workers staked, no nonce seen, the jobs given. */
function lookups({
  stakes = { [workerKey.address]: staked(), [secondKey.address]: staked() },
  nonces = {},
  jobs = {},
}: {
  stakes?: Record<string, StakeAt | null>
  nonces?: Record<string, Hex[]>
  jobs?: Record<string, IndexedJob>
} = {}): VerificationLookups {
  return {
    stakeAt: async ({ provider }) =>
      stakes[provider] === undefined ? { ...staked(0n), registered: false } : (stakes[provider] ?? null),
    receiptsWithNonce: async ({ worker, nonce }) => nonces[`${worker}:${nonce}`] ?? [],
    job: async ({ jobId }) => jobs[jobId.toString()] ?? null,
  }
}

const TRUSTED = [{ address: gatewayKey.address, as: 'the test’s gateway' }]

const verify = (bundle: ReceiptBundle, over: Partial<Parameters<typeof verifyReceiptBundle>[0]> = {}) =>
  verifyReceiptBundle({ bundle, now: NOW, expected, lookups: lookups(), trustedGateways: TRUSTED, ...over })

const failing = (r: ReceiptVerification): CheckName[] => r.checks.filter((c) => c.status === 'fail').map((c) => c.name)
const check = (r: ReceiptVerification, name: CheckName) => r.checks.find((c) => c.name === name)

const jobFor = (bundle: ReceiptBundle, over: Partial<IndexedJob> = {}): IndexedJob => ({
  id: bundle.receipt.jobId,
  status: 'ASSIGNED',
  provider: bundle.receipt.worker,
  client: bundle.receipt.requester,
  modelId: bundle.receipt.modelId,
  inputHash: bundle.receipt.requestHash,
  payment: bundle.receipt.price,
  receiptDigest: null,
  ...over,
})

describe('verifyReceiptBundle on a genuine receipt', () => {
  it('passes every check for an on-chain job’s receipt re-executed bitwise by a second staked worker', async () => {
    const bundle = await worker.infer({ domain, requester, jobId: 7n })
    const reexecution = await second.infer({ domain, requester, jobId: 7n })
    const evidence: AttestationEvidence = {
      mode: 'REEXECUTED_MATCH',
      reexecution: { receipt: reexecution.receipt, signature: reexecution.signature },
    }
    const attested = await attest({
      bundle,
      gateway: gatewayKey,
      verification: Verification.REEXECUTED_MATCH,
      evidence,
    })
    const report = await verify(attested, { lookups: lookups({ jobs: { '7': jobFor(bundle) } }) })
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['requestHash', 'pass'],
      ['outputHash', 'pass'],
      ['signature', 'pass'],
      ['domain', 'pass'],
      ['expiry', 'pass'],
      ['replay', 'pass'],
      ['job', 'pass'],
      ['stake', 'pass'],
      ['attestation', 'pass'],
      ['evidence', 'pass'],
    ])
    expect(report).toMatchObject({
      valid: true,
      signer: workerKey.address,
      digest: hashReceipt({ domain, receipt: bundle.receipt }),
      verification: 'REEXECUTED_MATCH',
    })
    expect(check(report, 'evidence')?.reason).toContain('bitwise-identical')
    expect(check(report, 'job')?.reason).toBe('matches job 7, ASSIGNED: not completed yet')
  })

  it('is valid without lookups, saying which checks it could not make', async () => {
    const bundle = await worker.infer({ domain, requester })
    const report = await verifyReceiptBundle({ bundle, now: NOW })
    expect(report.valid).toBe(true)
    expect(report.checks.filter((c) => c.status === 'skipped').map((c) => c.name)).toEqual([
      'domain',
      'replay',
      'job',
      'stake',
      'attestation',
      'evidence',
    ])
    expect(check(report, 'stake')?.reason).toBe('no indexed state or chain to read the signer’s stake from')
  })

  it('says the hashes were not recomputed when a training receipt comes without bodies', async () => {
    const { request: _r, output: _o, ...bare } = await worker.infer({ domain, requester })
    const report = await verify(bare)
    expect(report.valid).toBe(true)
    expect(check(report, 'requestHash')).toMatchObject({ status: 'skipped' })
    expect(check(report, 'requestHash')?.reason).toMatch(
      /^no request body in the bundle: requestHash 0x[0-9a-f]{64} was not recomputed$/,
    )
    expect(check(report, 'outputHash')).toMatchObject({ status: 'skipped' })
  })
})

describe('verifyReceiptBundle on a tampered receipt', () => {
  // Each field changed after signing, as a third party would; the signature must stop matching, and the checks
  // that look at the field must say so too.
  const tampered: [keyof ComputeReceipt, (r: ComputeReceipt) => unknown, CheckName[]][] = [
    ['requestHash', () => keccak256(toHex('another request')), ['requestHash', 'signature']],
    ['outputHash', () => keccak256(toHex('another output')), ['outputHash', 'signature']],
    ['modelId', () => keccak256(toHex('another model')), ['requestHash', 'signature']],
    ['runtimeId', () => keccak256(toHex('onnxruntime-node@1.30.0/cuda')), ['signature']],
    ['requester', () => strangerKey.address, ['signature']],
    ['worker', () => secondKey.address, ['signature']],
    ['jobId', () => 8n, ['signature', 'job']],
    ['units', (r) => r.units + 1n, ['signature']],
    ['price', (r) => r.price + 1n, ['signature']],
    ['issuedAt', (r) => r.issuedAt - 1n, ['signature']],
    ['expiresAt', (r) => r.expiresAt + 3600n, ['signature']],
    ['nonce', (r) => r.nonce + 1n, ['signature']],
  ]

  it.each(tampered)('rejects a receipt whose %s was changed after signing', async (field, change, failed) => {
    const bundle = await worker.infer({ domain, requester })
    const receipt = { ...bundle.receipt, [field]: change(bundle.receipt) }
    const report = await verify({ ...bundle, receipt })
    expect(report.valid).toBe(false)
    expect(failing(report)).toEqual(failed)
    // A changed message recovers some other key: never the worker the receipt names.
    expect(check(report, 'signature')?.reason).toMatch(
      new RegExp(`^the signature recovers 0x[0-9a-fA-F]{40}, not the worker ${receipt.worker}: `),
    )
    expect(report.signer).not.toBe(receipt.worker)
  })

  it('covers all 12 fields of a ComputeReceipt', async () => {
    const bundle = await worker.infer({ domain, requester })
    expect(tampered.map(([f]) => f).sort()).toEqual(Object.keys(bundle.receipt).sort())
  })

  it('rejects a request body changed after signing, naming both hashes', async () => {
    const bundle = await worker.infer({ domain, requester })
    const data = bundle.request?.input.data.slice() as Float32Array
    data[0] = (data[0] as number) + 1
    const report = await verify({
      ...bundle,
      request: { ...bundle.request, input: { ...bundle.request?.input, data } },
    } as ReceiptBundle)
    expect(failing(report)).toEqual(['requestHash'])
    expect(check(report, 'requestHash')?.reason).toMatch(
      new RegExp(`^keccak256\\(request bytes\\) is 0x[0-9a-f]{64}, receipt says ${bundle.receipt.requestHash}$`),
    )
  })

  it('rejects an output body changed after signing, naming both hashes', async () => {
    const bundle = await worker.infer({ domain, requester })
    const output = perturbOutput(bundle.output as NonNullable<ReceiptBundle['output']>)
    const report = await verify({ ...bundle, output })
    expect(failing(report)).toEqual(['outputHash'])
    expect(check(report, 'outputHash')?.reason).toBe(
      `keccak256(output bytes) is ${keccak256(encodeInferenceOutput({ output }))}, receipt says ${bundle.receipt.outputHash}`,
    )
  })

  it('rejects a signature with one byte changed', async () => {
    const bundle = await worker.infer({ domain, requester })
    const signature =
      `${bundle.signature.slice(0, 10)}${bundle.signature[10] === 'a' ? 'b' : 'a'}${bundle.signature.slice(11)}` as Hex
    const report = await verify({ ...bundle, signature })
    expect(failing(report)).toEqual(['signature'])
    expect(report.signer).not.toBe(workerKey.address)
  })

  it('rejects the malleable twin of a valid signature (high s), as JobMarket does', async () => {
    const bundle = await worker.infer({ domain, requester })
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    const s = BigInt(`0x${bundle.signature.slice(66, 130)}`)
    const v = bundle.signature.endsWith('1b') ? '1c' : '1b'
    const twin = `${bundle.signature.slice(0, 66)}${(n - s).toString(16).padStart(64, '0')}${v}` as Hex
    const report = await verify({ ...bundle, signature: twin })
    expect(failing(report)).toEqual(['signature'])
    expect(check(report, 'signature')?.reason).toContain('upper half of the curve order')
  })

  it('rejects a receipt signed by a key other than its worker’s', async () => {
    const bundle = await resign(await worker.infer({ domain, requester }), strangerKey)
    const report = await verify(bundle)
    expect(failing(report)).toEqual(['signature'])
    expect(report.signer).toBe(strangerKey.address)
  })
})

describe('verifyReceiptBundle on domain and time', () => {
  it('rejects a receipt whose domain chainId was changed after signing', async () => {
    const bundle = await worker.infer({ domain, requester })
    const report = await verify({ ...bundle, domain: { ...domain, chainId: 1 } })
    expect(failing(report)).toEqual(['signature', 'domain'])
    expect(check(report, 'domain')?.reason).toBe('chainId is 1, expected 31337')
  })

  it('rejects a receipt whose domain verifyingContract was changed after signing', async () => {
    const bundle = await worker.infer({ domain, requester })
    const report = await verify({ ...bundle, domain: { ...domain, verifyingContract: strangerKey.address } })
    expect(failing(report)).toEqual(['signature', 'domain'])
    expect(check(report, 'domain')?.reason).toBe(
      `verifyingContract is ${strangerKey.address}, expected the JobMarket ${JOB_MARKET}`,
    )
  })

  it('rejects a genuine receipt signed for another chain: the domain, not the signature, fails', async () => {
    const elsewhere = receiptDomain({ chainId: 8453, jobMarket: JOB_MARKET })
    const report = await verify(await worker.infer({ domain: elsewhere, requester }))
    expect(failing(report)).toEqual(['domain'])
  })

  it('rejects an expired receipt, saying when it expired', async () => {
    const bundle = await worker.infer({ domain, requester })
    const now = bundle.receipt.expiresAt + 5n
    const report = await verify(bundle, { now })
    expect(failing(report)).toEqual(['expiry'])
    expect(check(report, 'expiry')?.reason).toBe(`expired at ${bundle.receipt.expiresAt}, 5 s before now (${now})`)
    await expect(verify(bundle, { now: bundle.receipt.expiresAt })).resolves.toMatchObject({ valid: true })
  })

  it('rejects a receipt issued further in the future than the 300 s clock skew JobMarket allows', async () => {
    const bundle = await worker.infer({ domain, requester })
    const early = await verify(bundle, { now: bundle.receipt.issuedAt - 301n })
    expect(failing(early)).toEqual(['expiry'])
    expect(check(early, 'expiry')?.reason).toContain('issued in the future: issuedAt')
    await expect(verify(bundle, { now: bundle.receipt.issuedAt - 300n })).resolves.toMatchObject({ valid: true })
  })
})

describe('verifyReceiptBundle on replay, jobs and stake', () => {
  it('rejects a receipt whose worker and nonce another receipt already used', async () => {
    const bundle = await worker.infer({ domain, requester })
    const other = keccak256(toHex('another receipt'))
    const key = `${bundle.receipt.worker}:${bundle.receipt.nonce}`
    const report = await verify(bundle, { lookups: lookups({ nonces: { [key]: [other] } }) })
    expect(failing(report)).toEqual(['replay'])
    expect(check(report, 'replay')?.reason).toBe(
      `nonce ${bundle.receipt.nonce} of worker ${workerKey.address} was already used by receipt ${other}`,
    )
    const own = await verify(bundle, { lookups: lookups({ nonces: { [key]: [hashReceipt(bundle)] } }) })
    expect(own.valid).toBe(true)
  })

  it('rejects a receipt for a job that was completed on-chain with another receipt', async () => {
    const bundle = await worker.infer({ domain, requester, jobId: 9n })
    const paid = keccak256(toHex('the receipt that was paid'))
    const jobs = { '9': jobFor(bundle, { status: 'COMPLETED', receiptDigest: paid }) }
    const report = await verify(bundle, { lookups: lookups({ jobs }) })
    expect(failing(report)).toEqual(['replay'])
    expect(check(report, 'replay')?.reason).toContain(`job 9 was completed on-chain with receipt ${paid}, not this one`)
    const same = { '9': jobFor(bundle, { status: 'COMPLETED', receiptDigest: hashReceipt(bundle) }) }
    await expect(verify(bundle, { lookups: lookups({ jobs: same }) })).resolves.toMatchObject({ valid: true })
  })

  it('rejects a receipt that does not match its on-chain job, naming each field', async () => {
    const bundle = await worker.infer({ domain, requester, jobId: 9n })
    const jobs = { '9': jobFor(bundle, { provider: secondKey.address, payment: 1n }) }
    const report = await verify(bundle, { lookups: lookups({ jobs }) })
    expect(failing(report)).toEqual(['job'])
    expect(check(report, 'job')?.reason).toBe(
      `worker is ${workerKey.address}, the job's provider is ${secondKey.address}; price is 3000, the job's payment is 1`,
    )
  })

  it('rejects a receipt for a job that expired or is not indexed', async () => {
    const bundle = await worker.infer({ domain, requester, jobId: 9n })
    const expired = await verify(bundle, { lookups: lookups({ jobs: { '9': jobFor(bundle, { status: 'EXPIRED' }) } }) })
    expect(check(expired, 'job')).toMatchObject({
      status: 'fail',
      reason: 'job 9 is EXPIRED: no receipt can be paid for it',
    })
    const unknown = await verify(bundle)
    expect(check(unknown, 'job')).toMatchObject({ status: 'fail', reason: 'job 9 is not in the indexed state' })
  })

  it('reads the signer’s stake at the block a trusted gateway attested against, whatever its issuedAt', async () => {
    const asked: (bigint | undefined)[] = []
    const base = lookups()
    const recording: VerificationLookups = {
      ...base,
      stakeAt: (args) => {
        asked.push(args.block)
        return base.stakeAt?.(args) ?? Promise.resolve(null)
      },
    }
    const bundle = await attest({
      bundle: await worker.infer({ domain, requester }),
      gateway: gatewayKey,
      verification: Verification.SIGNATURE_ONLY,
      blockNumber: 42n,
    })
    const report = await verify(bundle, { lookups: recording })
    expect(asked).toEqual([42n])
    expect(check(report, 'stake')).toMatchObject({
      status: 'pass',
      reason: expect.stringContaining(`the block gateway ${gatewayKey.address} attested against`),
    })
  })

  it('reads the signer’s current stake without an attested block, saying issuedAt is not compared with block times', async () => {
    const asked: (bigint | undefined)[] = []
    const base = lookups()
    const report = await verify(await worker.infer({ domain, requester }), {
      lookups: {
        ...base,
        stakeAt: (args) => {
          asked.push(args.block)
          return base.stakeAt?.(args) ?? Promise.resolve(null)
        },
      },
    })
    expect(asked).toEqual([undefined])
    expect(check(report, 'stake')?.reason).toMatch(
      /at block 10 of the test state, its newest: no attestation names the block .*\(issuedAt is the worker’s wall clock and is not compared with block timestamps/,
    )
  })

  it('does not take the block from an attestation by an untrusted gateway', async () => {
    const asked: (bigint | undefined)[] = []
    const base = lookups()
    const bundle = await attest({
      bundle: await worker.infer({ domain, requester }),
      gateway: strangerKey,
      verification: Verification.SIGNATURE_ONLY,
      blockNumber: 42n,
    })
    await verify(bundle, {
      lookups: {
        ...base,
        stakeAt: (args) => {
          asked.push(args.block)
          return base.stakeAt?.(args) ?? Promise.resolve(null)
        },
      },
    })
    expect(asked).toEqual([undefined])
  })

  it('rejects a signer that was not a registered provider at the block read', async () => {
    const genuine = await worker.infer({ domain, requester })
    const bundle = await resign(genuine, strangerKey, { ...genuine.receipt, worker: strangerKey.address })
    const report = await verify(bundle)
    expect(failing(report)).toEqual(['stake'])
    expect(check(report, 'stake')?.reason).toContain(`${strangerKey.address} was not a registered provider at block 10`)
  })

  it('rejects a signer staked below the minimum at the block read', async () => {
    const bundle = await worker.infer({ domain, requester })
    const report = await verify(bundle, {
      lookups: lookups({ stakes: { [workerKey.address]: staked(MIN_STAKE - 1n) } }),
    })
    expect(failing(report)).toEqual(['stake'])
    expect(check(report, 'stake')?.reason).toContain(`had stake ${MIN_STAKE - 1n}, below the minimum ${MIN_STAKE}`)
  })
})

describe('verifyReceiptBundle on attestations and evidence', () => {
  it('accepts a SIGNATURE_ONLY attestation, which claims no evidence', async () => {
    const bundle = await attest({
      bundle: await worker.infer({ domain, requester }),
      gateway: gatewayKey,
      verification: Verification.SIGNATURE_ONLY,
    })
    const report = await verify(bundle)
    expect(report).toMatchObject({ valid: true, verification: 'SIGNATURE_ONLY' })
  })

  it('rejects an attestation by a gateway the verifier does not trust, naming its address', async () => {
    const bundle = await attest({
      bundle: await worker.infer({ domain, requester }),
      gateway: strangerKey,
      verification: Verification.SIGNATURE_ONLY,
    })
    const report = await verify(bundle)
    expect(failing(report)).toEqual(['attestation'])
    expect(check(report, 'attestation')?.reason).toMatch(
      new RegExp(
        `^attested by ${strangerKey.address}, which is not a gateway this verifier trusts \\(the test’s gateway ${gatewayKey.address}\\)`,
      ),
    )
    expect(report.attester).toEqual({ address: strangerKey.address, trusted: false })
  })

  it('says which trusted gateway attested', async () => {
    const bundle = await attest({
      bundle: await worker.infer({ domain, requester }),
      gateway: gatewayKey,
      verification: Verification.SIGNATURE_ONLY,
      blockNumber: 42n,
    })
    const report = await verify(bundle)
    expect(check(report, 'attestation')).toEqual({
      name: 'attestation',
      status: 'pass',
      reason: `gateway ${gatewayKey.address}, trusted as the test’s gateway, attests SIGNATURE_ONLY at ${ISSUED_AT + 1n} (wall clock), against block 42`,
    })
    expect(report.attester).toEqual({ address: gatewayKey.address, trusted: true })
  })

  it('fails a bundle without an attestation when the verifier requires one (a stripped dispute)', async () => {
    const bare = await worker.infer({ domain, requester })
    expect(failing(await verify(bare))).toEqual([])
    const report = await verify(bare, { requireAttestation: true })
    expect(failing(report)).toEqual(['attestation'])
    expect(check(report, 'attestation')?.reason).toMatch(/^no gateway attestation, and this verifier requires one/)
  })

  it('rejects an attestation signed by another key than the gateway it names', async () => {
    const genuine = await worker.infer({ domain, requester })
    const forged = await attest({ bundle: genuine, gateway: strangerKey, verification: Verification.SIGNATURE_ONLY })
    const report = await verify({
      ...forged,
      attestation: {
        ...(forged.attestation as NonNullable<ReceiptBundle['attestation']>),
        gateway: gatewayKey.address,
      },
    })
    expect(failing(report)).toEqual(['attestation'])
    expect(check(report, 'attestation')?.reason).toBe(
      `the attestation signature recovers ${strangerKey.address}, not the gateway ${gatewayKey.address}`,
    )
  })

  it('rejects an attestation made for another receipt', async () => {
    const mine = await worker.infer({ domain, requester, seed: 1 })
    const theirs = await attest({
      bundle: await worker.infer({ domain, requester, seed: 2 }),
      gateway: gatewayKey,
      verification: Verification.SIGNATURE_ONLY,
    })
    const report = await verify({ ...mine, attestation: theirs.attestation })
    expect(failing(report)).toEqual(['attestation'])
    expect(check(report, 'attestation')?.reason).toMatch(
      /^the attestation is for receipt 0x[0-9a-f]{64}, this receipt is /,
    )
  })

  it('rejects evidence that is not what the attestation’s evidenceHash covers', async () => {
    const bundle = await worker.infer({ domain, requester })
    const re = await second.infer({ domain, requester })
    const other = await second.infer({ domain, requester, seed: 6 })
    const attested = await attest({
      bundle,
      gateway: gatewayKey,
      verification: Verification.REEXECUTED_MATCH,
      evidence: { mode: 'REEXECUTED_MATCH', reexecution: { receipt: re.receipt, signature: re.signature } },
    })
    const swapped = {
      ...attested,
      attestation: {
        ...(attested.attestation as NonNullable<ReceiptBundle['attestation']>),
        evidence: {
          mode: 'REEXECUTED_MATCH' as const,
          reexecution: { receipt: other.receipt, signature: other.signature },
        },
      },
    }
    const report = await verify(swapped)
    expect(failing(report)).toEqual(['evidence'])
    expect(check(report, 'evidence')?.reason).toMatch(
      /^keccak256\(canonical evidence JSON\) is 0x[0-9a-f]{64}, the attestation says 0x[0-9a-f]{64}$/,
    )
  })

  it('rejects a claimed re-execution of a different request, even when honestly hashed', async () => {
    const bundle = await worker.infer({ domain, requester, seed: 1 })
    const re = await second.infer({ domain, requester, seed: 2 })
    const attested = await attest({
      bundle,
      gateway: gatewayKey,
      verification: Verification.REEXECUTED_MATCH,
      evidence: { mode: 'REEXECUTED_MATCH', reexecution: { receipt: re.receipt, signature: re.signature } },
    })
    const report = await verify(attested)
    expect(failing(report)).toEqual(['evidence'])
    expect(check(report, 'evidence')?.reason).toContain('the re-execution is for request')
  })

  it('rejects a re-execution by the same worker: not an independent check', async () => {
    const bundle = await worker.infer({ domain, requester })
    const again = await worker.infer({ domain, requester })
    const attested = await attest({
      bundle,
      gateway: gatewayKey,
      verification: Verification.REEXECUTED_MATCH,
      evidence: { mode: 'REEXECUTED_MATCH', reexecution: { receipt: again.receipt, signature: again.signature } },
    })
    expect(failing(await verify(attested))).toEqual(['evidence'])
  })

  it('accepts a re-execution whose output differs within the model’s tolerance, and rejects one beyond it', async () => {
    const bundle = await worker.infer({ domain, requester })
    const re = await second.infer({ domain, requester })
    const nudged = (delta: number) => {
      const data = (re.output as NonNullable<ReceiptBundle['output']>).data.slice()
      data[0] = (data[0] as number) + delta
      return { ...(re.output as NonNullable<ReceiptBundle['output']>), data }
    }
    // A GPU's answer: a slightly different output, honestly hashed and signed by the second worker.
    const withOutput = async (output: NonNullable<ReceiptBundle['output']>) => {
      const receipt = { ...re.receipt, outputHash: keccak256(encodeInferenceOutput({ output })) }
      const signature = await signReceipt({ account: secondKey, domain, receipt })
      const evidence: AttestationEvidence = {
        mode: 'REEXECUTED_MATCH',
        reexecution: { receipt, signature, output },
        tolerance: model.entry.tolerance,
      }
      return verify(
        await attest({ bundle, gateway: gatewayKey, verification: Verification.REEXECUTED_MATCH, evidence }),
      )
    }
    const close = await withOutput(nudged(2e-6))
    expect(close.valid).toBe(true)
    expect(check(close, 'evidence')?.reason).toContain('outputs within tolerance')
    const far = await withOutput(nudged(0.01))
    expect(failing(far)).toEqual(['evidence'])
    expect(check(far, 'evidence')?.reason).toContain('element 0 differs beyond the tolerance (absolute 0.00001')
  })

  it('reports a receipt disputed with consistent evidence as not valid, saying it is contested', async () => {
    const bundle = await worker.infer({ domain, requester, faulty: true })
    const re = await second.infer({ domain, requester })
    const evidence: AttestationEvidence = {
      mode: 'DISPUTED',
      original: { receipt: bundle.receipt, signature: bundle.signature, output: bundle.output },
      reexecution: { receipt: re.receipt, signature: re.signature, output: re.output },
      tolerance: model.entry.tolerance,
    }
    const report = await verify(
      await attest({ bundle, gateway: gatewayKey, verification: Verification.DISPUTED, evidence }),
    )
    expect(report).toMatchObject({ valid: false, verification: 'DISPUTED' })
    expect(failing(report)).toEqual(['evidence'])
    expect(check(report, 'evidence')?.reason).toMatch(
      /^DISPUTED: re-executed by 0x[0-9a-fA-F]{40}, element 0 differs beyond the tolerance .*; this output is contested$/,
    )
  })

  it('rejects a dispute whose evidence shows matching outputs', async () => {
    const bundle = await worker.infer({ domain, requester })
    const re = await second.infer({ domain, requester })
    const evidence: AttestationEvidence = {
      mode: 'DISPUTED',
      original: { receipt: bundle.receipt, signature: bundle.signature, output: bundle.output },
      reexecution: { receipt: re.receipt, signature: re.signature, output: re.output },
      tolerance: model.entry.tolerance,
    }
    const report = await verify(
      await attest({ bundle, gateway: gatewayKey, verification: Verification.DISPUTED, evidence }),
    )
    expect(check(report, 'evidence')?.reason).toBe(
      'the evidence shows outputs within tolerance: the dispute is unfounded',
    )
  })

  it('rejects a SIGNATURE_ONLY attestation that carries an evidence hash, and a claim with no evidence', async () => {
    const bundle = await worker.infer({ domain, requester })
    const re = await second.infer({ domain, requester })
    const evidence: AttestationEvidence = {
      mode: 'REEXECUTED_MATCH',
      reexecution: { receipt: re.receipt, signature: re.signature },
    }
    const overclaim = await attest({ bundle, gateway: gatewayKey, verification: Verification.SIGNATURE_ONLY, evidence })
    expect(check(await verify(overclaim), 'evidence')?.reason).toBe(
      'a SIGNATURE_ONLY attestation claims no evidence: its evidenceHash must be zero',
    )
    const attested = await attest({ bundle, gateway: gatewayKey, verification: Verification.REEXECUTED_MATCH })
    const noEvidence = await verify(attested)
    expect(check(noEvidence, 'evidence')?.reason).toBe(
      'the attestation claims REEXECUTED_MATCH but the bundle carries no evidence',
    )
  })
})
