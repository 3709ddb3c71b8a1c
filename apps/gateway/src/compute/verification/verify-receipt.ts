import {
  type ComputeReceipt,
  hashAttestation,
  RECEIPT_DOMAIN_NAME,
  RECEIPT_DOMAIN_VERSION,
  type ReceiptDomain,
  Verification,
} from '@computegraph/contracts/receipts'
import { encodeInferenceOutput, encodeInferenceRequest } from '@computegraph/gpu-worker/canonical-bytes'
import type { Tensor } from '@computegraph/gpu-worker/tensor'
import { type Address, type Hex, isAddressEqual } from 'viem'
import { compareOutputs, hashEvidence, NO_EVIDENCE_HASH } from './evidence'
import type { ReceiptBundle, SignedExecution, VerificationName } from './receipt-bundle'
import { verificationName } from './receipt-bundle'
import { keccakHex, keccakReady, receiptDigest, recoverDigestSigner } from './receipt-crypto'

/** JobMarket.MAX_CLOCK_SKEW: a receipt may be issued this far ahead of the verifier's clock. */
export const MAX_CLOCK_SKEW_SECONDS = 300n

export const CHECK_NAMES = [
  'requestHash',
  'outputHash',
  'signature',
  'domain',
  'expiry',
  'replay',
  'job',
  'stake',
  'attestation',
  'evidence',
] as const
export type CheckName = (typeof CHECK_NAMES)[number]
export type CheckStatus = 'pass' | 'fail' | 'skipped'

export interface ReceiptCheck {
  name: CheckName
  status: CheckStatus
  /** What was checked and, on failure, exactly what was wrong. */
  reason: string
}

export interface ReceiptVerification {
  /** No check failed. Skipped checks (no body, no attestation, no indexed state) do not make a receipt invalid. */
  valid: boolean
  /** The receipt's EIP-712 digest in the bundle's domain (what JobMarket emits as receiptDigest). */
  digest: Hex
  /** Who signed the receipt, when a key recovers from the signature. */
  signer: Address | null
  /** What the gateway attests was checked; null without an attestation. */
  verification: VerificationName | null
  /** Who attested, and whether the verifier trusts that gateway; null without an attestation. */
  attester: { address: Address; trusted: boolean } | null
  checks: ReceiptCheck[]
}

/** A provider's standing at one block. */
export interface StakeAt {
  registered: boolean
  stake: bigint
  /** ProviderStaking's minimum; null when nothing of the network is known at that block. */
  minStake: bigint | null
  block: { number: bigint }
  /** Where it was read, for the report: "the indexed state", "the chain". */
  source: string
}

/** A gateway whose attestations the verifier accepts, and why (`the deployment's dispatcher`). */
export interface TrustedGateway {
  address: Address
  as: string
}

/** A job as indexed; addresses and hashes as the chain has them. */
export interface IndexedJob {
  id: bigint
  status: 'OPEN' | 'ASSIGNED' | 'COMPLETED' | 'CANCELLED' | 'EXPIRED' | 'DISPUTED'
  provider: Address | null
  client: Address
  modelId: Hex
  inputHash: Hex
  payment: bigint
  receiptDigest: Hex | null
}

/** What the verifier needs from the chain or the gateway's state; a missing lookup skips its check. */
export interface VerificationLookups {
  /**
   * The provider's registration and stake at `block`, or at the newest block known without one; null when that block
   * is not known (not indexed yet, not on the chain).
   */
  stakeAt?(args: { provider: Address; block?: bigint }): Promise<StakeAt | null>
  /** Digests of the receipts already seen with this worker and nonce. */
  receiptsWithNonce?(args: { worker: Address; nonce: bigint }): Promise<Hex[]>
  /** The on-chain job, or null when it is not known. */
  job?(args: { jobId: bigint }): Promise<IndexedJob | null>
  /** The mode of the latest attestation the gateway's receipt store holds for this digest; null when none. */
  heldAttestation?(args: { digest: Hex }): Promise<VerificationName | null>
}

export interface VerifyReceiptArgs {
  bundle: ReceiptBundle
  /** Unix seconds the verdict is given at. */
  now: bigint
  /** The chain and JobMarket the receipt must be bound to; without it the domain check is skipped. */
  expected?: { chainId: number; verifyingContract: Address }
  lookups?: VerificationLookups
  maxClockSkew?: bigint
  /** Gateways whose attestations count; without a list, who attested is reported but not judged (skipped). */
  trustedGateways?: readonly TrustedGateway[]
  /** Fail a bundle without an attestation (a DISPUTED one could otherwise simply be stripped). */
  requireAttestation?: boolean
}

const pass = (name: CheckName, reason: string): ReceiptCheck => ({ name, status: 'pass', reason })
const fail = (name: CheckName, reason: string): ReceiptCheck => ({ name, status: 'fail', reason })
const skip = (name: CheckName, reason: string): ReceiptCheck => ({ name, status: 'skipped', reason })

function bodyHash({ encode, what }: { encode: () => Uint8Array; what: string }): { hash: Hex } | { error: string } {
  try {
    return { hash: keccakHex(encode()) }
  } catch (error) {
    return { error: `the ${what} body cannot be encoded: ${(error as Error).message}` }
  }
}

function requestHashCheck({ bundle }: { bundle: ReceiptBundle }): ReceiptCheck {
  const { request, receipt } = bundle
  if (!request) {
    return skip('requestHash', `no request body in the bundle: requestHash ${receipt.requestHash} was not recomputed`)
  }
  if (request.modelId !== receipt.modelId) {
    return fail('requestHash', `request.modelId is ${request.modelId}, receipt.modelId says ${receipt.modelId}`)
  }
  const h = bodyHash({ encode: () => encodeInferenceRequest(request), what: 'request' })
  if ('error' in h) return fail('requestHash', h.error)
  if (h.hash !== receipt.requestHash) {
    return fail('requestHash', `keccak256(request bytes) is ${h.hash}, receipt says ${receipt.requestHash}`)
  }
  return pass('requestHash', `keccak256(request bytes) is ${h.hash}, as the receipt says`)
}

function outputHashOf(output: Tensor): { hash: Hex } | { error: string } {
  return bodyHash({ encode: () => encodeInferenceOutput({ output }), what: 'output' })
}

function outputHashCheck({ bundle }: { bundle: ReceiptBundle }): ReceiptCheck {
  const { output, receipt } = bundle
  if (!output) {
    return skip('outputHash', `no output body in the bundle: outputHash ${receipt.outputHash} was not recomputed`)
  }
  const h = outputHashOf(output)
  if ('error' in h) return fail('outputHash', h.error)
  if (h.hash !== receipt.outputHash) {
    return fail('outputHash', `keccak256(output bytes) is ${h.hash}, receipt says ${receipt.outputHash}`)
  }
  return pass('outputHash', `keccak256(output bytes) is ${h.hash}, as the receipt says`)
}

async function signatureCheck({
  digest,
  receipt,
  signature,
}: {
  digest: Hex
  receipt: ComputeReceipt
  signature: Hex
}): Promise<{ check: ReceiptCheck; signer: Address | null }> {
  const recovered = await recoverDigestSigner({ digest, signature })
  if (!recovered.ok) return { check: fail('signature', recovered.reason), signer: null }
  if (!isAddressEqual(recovered.signer, receipt.worker)) {
    return {
      check: fail(
        'signature',
        `the signature recovers ${recovered.signer}, not the worker ${receipt.worker}: the receipt or its domain was changed after signing, or another key signed it`,
      ),
      signer: recovered.signer,
    }
  }
  return { check: pass('signature', `signed by the worker ${receipt.worker}`), signer: recovered.signer }
}

function domainCheck({ domain, expected }: { domain: ReceiptDomain; expected?: VerifyReceiptArgs['expected'] }) {
  if (domain.name !== RECEIPT_DOMAIN_NAME || domain.version !== RECEIPT_DOMAIN_VERSION) {
    return fail('domain', `domain is ${domain.name} v${domain.version}, not ${RECEIPT_DOMAIN_NAME} v1`)
  }
  if (!expected) {
    return skip('domain', `no expected chain or JobMarket given: the bundle claims chain ${domain.chainId}`)
  }
  const wrong: string[] = []
  if (domain.chainId !== expected.chainId) wrong.push(`chainId is ${domain.chainId}, expected ${expected.chainId}`)
  if (!isAddressEqual(domain.verifyingContract, expected.verifyingContract)) {
    wrong.push(`verifyingContract is ${domain.verifyingContract}, expected the JobMarket ${expected.verifyingContract}`)
  }
  if (wrong.length > 0) return fail('domain', wrong.join('; '))
  return pass('domain', `bound to chain ${domain.chainId} and JobMarket ${domain.verifyingContract}`)
}

function expiryCheck({ receipt, now, skew }: { receipt: ComputeReceipt; now: bigint; skew: bigint }): ReceiptCheck {
  const { issuedAt, expiresAt } = receipt
  if (expiresAt < issuedAt) return fail('expiry', `expiresAt ${expiresAt} is before issuedAt ${issuedAt}`)
  if (issuedAt > now + skew) {
    return fail(
      'expiry',
      `issued in the future: issuedAt ${issuedAt} is ${issuedAt - now} s after now (${now}); at most ${skew} s of clock skew is allowed`,
    )
  }
  if (now > expiresAt) return fail('expiry', `expired at ${expiresAt}, ${now - expiresAt} s before now (${now})`)
  // issuedAt and expiresAt are the worker's wall clock, so `now` is the verifier's wall clock, never a block time.
  return pass(
    'expiry',
    `issued at ${issuedAt}, valid until ${expiresAt} (${expiresAt - now} s left at ${now}; wall-clock seconds)`,
  )
}

async function replayCheck({
  digest,
  receipt,
  lookups,
  job,
}: {
  digest: Hex
  receipt: ComputeReceipt
  lookups: VerificationLookups
  job: IndexedJob | null | undefined
}): Promise<ReceiptCheck> {
  const problems: string[] = []
  const seen: string[] = []
  if (lookups.receiptsWithNonce) {
    const digests = await lookups.receiptsWithNonce({ worker: receipt.worker, nonce: receipt.nonce })
    const others = digests.filter((d) => d.toLowerCase() !== digest)
    if (others.length > 0) {
      problems.push(`nonce ${receipt.nonce} of worker ${receipt.worker} was already used by receipt ${others[0]}`)
    } else {
      seen.push(
        digests.length > 0
          ? `this receipt is the one recorded for nonce ${receipt.nonce} of worker ${receipt.worker}`
          : `no other receipt of worker ${receipt.worker} uses nonce ${receipt.nonce}`,
      )
    }
  }
  if (job?.receiptDigest) {
    if (job.receiptDigest.toLowerCase() !== digest) {
      problems.push(`job ${job.id} was completed on-chain with receipt ${job.receiptDigest}, not this one`)
    } else seen.push(`job ${job.id} was paid on-chain for this receipt`)
  }
  if (problems.length > 0) return fail('replay', problems.join('; '))
  if (seen.length === 0) return skip('replay', 'no receipt store or indexed jobs to check the nonce against')
  return pass('replay', seen.join('; '))
}

function jobCheck({
  receipt,
  lookups,
  job,
}: {
  receipt: ComputeReceipt
  lookups: VerificationLookups
  job: IndexedJob | null | undefined
}): ReceiptCheck {
  if (receipt.jobId === 0n) return skip('job', 'off-chain request (jobId 0): no on-chain job to match')
  if (!lookups.job) return skip('job', `no indexed jobs to match job ${receipt.jobId} against`)
  if (!job) return fail('job', `job ${receipt.jobId} is not in the indexed state`)
  // The same fields JobMarket.submitResult compares before it pays.
  const wrong: string[] = []
  if (!job.provider) wrong.push(`job ${job.id} has no provider assigned`)
  else if (!isAddressEqual(job.provider, receipt.worker)) {
    wrong.push(`worker is ${receipt.worker}, the job's provider is ${job.provider}`)
  }
  if (!isAddressEqual(job.client, receipt.requester)) {
    wrong.push(`requester is ${receipt.requester}, the job's client is ${job.client}`)
  }
  if (job.modelId.toLowerCase() !== receipt.modelId) {
    wrong.push(`modelId is ${receipt.modelId}, the job's model is ${job.modelId}`)
  }
  if (job.inputHash.toLowerCase() !== receipt.requestHash) {
    wrong.push(`requestHash is ${receipt.requestHash}, the job's inputHash is ${job.inputHash}`)
  }
  if (job.payment !== receipt.price) wrong.push(`price is ${receipt.price}, the job's payment is ${job.payment}`)
  if (wrong.length > 0) return fail('job', wrong.join('; '))
  if (job.status === 'CANCELLED' || job.status === 'EXPIRED') {
    return fail('job', `job ${job.id} is ${job.status}: no receipt can be paid for it`)
  }
  if (job.status === 'DISPUTED') return fail('job', `job ${job.id} is DISPUTED: its result is contested`)
  if (job.status === 'COMPLETED') return pass('job', `matches job ${job.id}, COMPLETED`)
  return pass('job', `matches job ${job.id}, ${job.status}: not completed yet`)
}

/**
 * Where a receipt sits on the chain for the stake check. Receipts carry the worker's wall-clock issuedAt, and a chain's
 * block timestamps may run hours apart from it, so no timestamp is compared: a trusted attestation names the block
 * the gateway held when it accepted the receipt; without one, the newest block the verifier knows is read.
 */
type StakePoint = { block: bigint; why: string } | { block: undefined; why: string }

function stakePoint({ attestation }: { attestation: AttestationVerdict }): StakePoint {
  if (attestation.trustedBlock !== null) {
    return {
      block: attestation.trustedBlock,
      why: `the block gateway ${attestation.gateway} attested against (block numbers, not clocks, place the receipt)`,
    }
  }
  return {
    block: undefined,
    why: `${attestation.noBlock}, so the signer’s current stake is read (issuedAt is the worker’s wall clock and is not compared with block timestamps)`,
  }
}

async function stakeOf({
  lookups,
  provider,
  point,
}: {
  lookups: VerificationLookups
  provider: Address
  point: StakePoint
}): Promise<{ ok: boolean; text: string } | null> {
  if (!lookups.stakeAt) return null
  const at = await lookups.stakeAt({ provider, block: point.block })
  if (!at) {
    return {
      ok: false,
      text:
        point.block === undefined
          ? `no block is known yet: ${provider} was not staked`
          : `block ${point.block}, ${point.why}, is not known yet: ${provider}’s stake there cannot be read`,
    }
  }
  const where = `block ${at.block.number} of ${at.source}, ${point.block === undefined ? `its newest: ${point.why}` : point.why}`
  if (!at.registered) return { ok: false, text: `${provider} was not a registered provider at ${where}` }
  if (at.minStake === null) return { ok: false, text: `the minimum stake is unknown at ${where}` }
  if (at.stake < at.minStake) {
    return { ok: false, text: `${provider} had stake ${at.stake}, below the minimum ${at.minStake}, at ${where}` }
  }
  return { ok: true, text: `${provider} had stake ${at.stake} ≥ minimum ${at.minStake} at ${where}` }
}

async function stakeCheck({
  receipt,
  lookups,
  point,
}: {
  receipt: ComputeReceipt
  lookups: VerificationLookups
  point: StakePoint
}) {
  const s = await stakeOf({ lookups, provider: receipt.worker, point })
  if (!s) return skip('stake', 'no indexed state or chain to read the signer’s stake from')
  return s.ok ? pass('stake', s.text) : fail('stake', s.text)
}

/** The attestation check, and what the stake check may take from it. */
interface AttestationVerdict {
  check: ReceiptCheck
  gateway: Address | null
  trusted: boolean
  /** The attested block, when the attestation is authentic, by a trusted gateway, and names one. */
  trustedBlock: bigint | null
  /** Why no block is taken from the attestation, for the stake check's reason. */
  noBlock: string
}

function trustedAs({ gateway, trusted }: { gateway: Address; trusted: readonly TrustedGateway[] }) {
  return trusted.find((t) => isAddressEqual(t.address, gateway))
}

async function attestationCheck({
  bundle,
  digest,
  now,
  skew,
  trusted,
  required,
  held,
}: {
  bundle: ReceiptBundle
  digest: Hex
  now: bigint
  skew: bigint
  trusted: readonly TrustedGateway[] | undefined
  required: boolean
  held: VerificationName | null
}): Promise<AttestationVerdict> {
  const a = bundle.attestation
  const verdict = (check: ReceiptCheck, noBlock: string): AttestationVerdict => ({
    check,
    gateway: a?.gateway ?? null,
    trusted: false,
    trustedBlock: null,
    noBlock,
  })
  if (held === 'DISPUTED' && a?.attestation.verification !== Verification.DISPUTED) {
    return verdict(
      fail(
        'attestation',
        `the gateway’s receipt store holds a DISPUTED attestation for this receipt; the bundle ${a ? `presents ${verificationName(a.attestation.verification)} instead` : 'leaves it out'}`,
      ),
      'the bundle’s attestation is superseded',
    )
  }
  if (!a) {
    const check = required
      ? fail(
          'attestation',
          'no gateway attestation, and this verifier requires one (a DISPUTED one may have been removed)',
        )
      : skip('attestation', 'no gateway attestation: only the worker’s signature vouches for this result')
    return verdict(check, 'no attestation names the block this receipt was accepted at')
  }
  const { attestation } = a
  const unusable = `the attestation by ${a.gateway} is not usable`
  if (attestation.receiptDigest !== digest) {
    return verdict(
      fail('attestation', `the attestation is for receipt ${attestation.receiptDigest}, this receipt is ${digest}`),
      unusable,
    )
  }
  const recovered = await recoverDigestSigner({
    digest: hashAttestation({ domain: bundle.domain, attestation }),
    signature: a.signature,
  })
  if (!recovered.ok) return verdict(fail('attestation', `gateway signature: ${recovered.reason}`), unusable)
  if (!isAddressEqual(recovered.signer, a.gateway)) {
    return verdict(
      fail('attestation', `the attestation signature recovers ${recovered.signer}, not the gateway ${a.gateway}`),
      unusable,
    )
  }
  // attestedAt and issuedAt are both wall clocks (the gateway's, the worker's), so they may be compared.
  if (attestation.attestedAt + skew < bundle.receipt.issuedAt) {
    return verdict(
      fail(
        'attestation',
        `attested at ${attestation.attestedAt}, before the receipt was issued (${bundle.receipt.issuedAt}; wall-clock seconds)`,
      ),
      unusable,
    )
  }
  if (attestation.attestedAt > now + skew) {
    return verdict(
      fail(
        'attestation',
        `attested in the future: attestedAt ${attestation.attestedAt}, now ${now} (wall-clock seconds)`,
      ),
      unusable,
    )
  }
  const claim = `${verificationName(attestation.verification)} at ${attestation.attestedAt} (wall clock), against block ${attestation.blockNumber}`
  if (!trusted) {
    return verdict(
      skip(
        'attestation',
        `gateway ${a.gateway} signed it (${claim}), but no trusted gateways were given to judge it by`,
      ),
      `gateway ${a.gateway} is not known to be trusted`,
    )
  }
  const as = trustedAs({ gateway: a.gateway, trusted })
  if (!as) {
    const list = trusted.map((t) => `${t.as} ${t.address}`).join(', ')
    return verdict(
      fail(
        'attestation',
        `attested by ${a.gateway}, which is not a gateway this verifier trusts (${list || 'none'}): its claim (${claim}) counts for nothing`,
      ),
      `gateway ${a.gateway} is not trusted`,
    )
  }
  return {
    check: pass('attestation', `gateway ${a.gateway}, trusted as ${as.as}, attests ${claim}`),
    gateway: a.gateway,
    trusted: true,
    trustedBlock: attestation.blockNumber === 0n ? null : attestation.blockNumber,
    noBlock: `gateway ${a.gateway}'s attestation names no block`,
  }
}

/** Checks one signed execution given as evidence: signature, same request and model, output bytes. */
async function executionProblem({
  execution,
  what,
  bundle,
}: {
  execution: SignedExecution
  what: string
  bundle: ReceiptBundle
}): Promise<string | null> {
  const { receipt } = execution
  const recovered = await recoverDigestSigner({
    digest: receiptDigest({ domain: bundle.domain, receipt }),
    signature: execution.signature,
  })
  if (!recovered.ok) return `${what}'s signature: ${recovered.reason}`
  if (!isAddressEqual(recovered.signer, receipt.worker)) {
    return `${what}'s signature recovers ${recovered.signer}, not its worker ${receipt.worker}`
  }
  if (receipt.requestHash !== bundle.receipt.requestHash) {
    return `${what} is for request ${receipt.requestHash}, this receipt for ${bundle.receipt.requestHash}`
  }
  if (receipt.modelId !== bundle.receipt.modelId) {
    return `${what} ran model ${receipt.modelId}, this receipt ${bundle.receipt.modelId}`
  }
  if (execution.output) {
    const h = outputHashOf(execution.output)
    if ('error' in h) return `${what}: ${h.error}`
    if (h.hash !== receipt.outputHash) {
      return `${what}'s output hashes to ${h.hash}, its receipt says ${receipt.outputHash}`
    }
  }
  return null
}

/** The bundle's own output, when its bytes match the receipt: the side of a tolerance comparison it contributes. */
function bundleOutput(bundle: ReceiptBundle): Tensor | null {
  if (!bundle.output) return null
  const h = outputHashOf(bundle.output)
  return 'hash' in h && h.hash === bundle.receipt.outputHash ? bundle.output : null
}

async function evidenceCheck({
  bundle,
  digest,
  lookups,
  point,
}: {
  bundle: ReceiptBundle
  digest: Hex
  lookups: VerificationLookups
  point: StakePoint
}): Promise<ReceiptCheck> {
  const a = bundle.attestation
  if (!a) return skip('evidence', 'no attestation, so no evidence is claimed')
  const mode = verificationName(a.attestation.verification)
  const { evidence } = a
  if (a.attestation.verification === Verification.SIGNATURE_ONLY) {
    if (evidence || a.attestation.evidenceHash !== NO_EVIDENCE_HASH) {
      return fail('evidence', 'a SIGNATURE_ONLY attestation claims no evidence: its evidenceHash must be zero')
    }
    return pass('evidence', 'SIGNATURE_ONLY: nothing beyond the worker’s signature was checked, and none is claimed')
  }
  if (!evidence) return fail('evidence', `the attestation claims ${mode} but the bundle carries no evidence`)
  if (evidence.mode !== mode)
    return fail('evidence', `the attestation claims ${mode}, the evidence is ${evidence.mode}`)
  const hash = hashEvidence(evidence)
  if (hash !== a.attestation.evidenceHash) {
    return fail(
      'evidence',
      `keccak256(canonical evidence JSON) is ${hash}, the attestation says ${a.attestation.evidenceHash}`,
    )
  }
  const re = evidence.reexecution
  const reProblem = await executionProblem({ execution: re, what: 'the re-execution', bundle })
  if (reProblem) return fail('evidence', reProblem)
  if (isAddressEqual(re.receipt.worker, bundle.receipt.worker)) {
    return fail('evidence', `re-executed by the same worker ${re.receipt.worker}: not an independent check`)
  }
  const reStake = await stakeOf({ lookups, provider: re.receipt.worker, point })
  if (reStake && !reStake.ok) return fail('evidence', `the re-executing worker: ${reStake.text}`)

  if (evidence.mode === 'REEXECUTED_MATCH') {
    if (re.receipt.outputHash === bundle.receipt.outputHash) {
      return pass('evidence', `re-executed by ${re.receipt.worker} with a bitwise-identical output`)
    }
    const mine = bundleOutput(bundle)
    if (!re.output || !mine || !evidence.tolerance) {
      return fail(
        'evidence',
        'the outputs differ, and a match within tolerance needs both decoded outputs (this bundle’s, matching its receipt, and the re-execution’s) and the tolerance',
      )
    }
    const cmp = compareOutputs({ actual: re.output, expected: mine, tolerance: evidence.tolerance })
    if (!cmp.within) return fail('evidence', `the re-execution does not match: ${cmp.reason}`)
    return pass(
      'evidence',
      `re-executed by ${re.receipt.worker}: outputs within tolerance (largest difference ${cmp.maxAbsoluteDifference})`,
    )
  }

  const original = evidence.original
  const originalDigest = receiptDigest({ domain: bundle.domain, receipt: original.receipt })
  if (originalDigest !== digest) {
    return fail('evidence', `the dispute is about receipt ${originalDigest}, not this one (${digest})`)
  }
  const originalProblem = await executionProblem({ execution: original, what: 'the disputed execution', bundle })
  if (originalProblem) return fail('evidence', originalProblem)
  const cmp = compareOutputs({
    actual: re.output as Tensor,
    expected: original.output as Tensor,
    tolerance: evidence.tolerance,
  })
  if (cmp.within) return fail('evidence', 'the evidence shows outputs within tolerance: the dispute is unfounded')
  // Consistent evidence of a wrong output: the receipt is authentic, and its result must not be relied on.
  return fail('evidence', `DISPUTED: re-executed by ${re.receipt.worker}, ${cmp.reason}; this output is contested`)
}

/**
 * Verifies a receipt bundle: recomputes the hashes, recovers the signer, checks domain, expiry, replay, the on-chain
 * job, the gateway's attestation (signature, and whether that gateway is trusted) with its evidence, and the signer's
 * stake at the block a trusted attestation names (else at the newest block known). Never throws for a bad receipt:
 * every problem is a failed check with its reason.
 */
export async function verifyReceiptBundle({
  bundle,
  now,
  expected,
  lookups = {},
  maxClockSkew = MAX_CLOCK_SKEW_SECONDS,
  trustedGateways,
  requireAttestation = false,
}: VerifyReceiptArgs): Promise<ReceiptVerification> {
  await keccakReady
  const { receipt } = bundle
  const digest = receiptDigest({ domain: bundle.domain, receipt })
  const [job, held] = await Promise.all([
    receipt.jobId !== 0n && lookups.job ? lookups.job({ jobId: receipt.jobId }) : undefined,
    lookups.heldAttestation ? lookups.heldAttestation({ digest }) : null,
  ])
  const attestation = await attestationCheck({
    bundle,
    digest,
    now,
    skew: maxClockSkew,
    trusted: trustedGateways,
    required: requireAttestation,
    held,
  })
  const point = stakePoint({ attestation })
  const [signature, replay, stake, evidence] = await Promise.all([
    signatureCheck({ digest, receipt, signature: bundle.signature }),
    replayCheck({ digest, receipt, lookups, job }),
    stakeCheck({ receipt, lookups, point }),
    evidenceCheck({ bundle, digest, lookups, point }),
  ])
  const checks: ReceiptCheck[] = [
    requestHashCheck({ bundle }),
    outputHashCheck({ bundle }),
    signature.check,
    domainCheck({ domain: bundle.domain, expected }),
    expiryCheck({ receipt, now, skew: maxClockSkew }),
    replay,
    jobCheck({ receipt, lookups, job }),
    stake,
    attestation.check,
    evidence,
  ]
  return {
    valid: checks.every((c) => c.status !== 'fail'),
    digest,
    signer: signature.signer,
    verification: bundle.attestation ? verificationName(bundle.attestation.attestation.verification) : null,
    attester: attestation.gateway ? { address: attestation.gateway, trusted: attestation.trusted } : null,
    checks,
  }
}
