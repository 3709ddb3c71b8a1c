import { reads } from '@computegraph/contracts/fixture'
import {
  hashReceipt,
  receiptDomain,
  receiptFromJson,
  Verification,
  verifyAttestationSignature,
} from '@computegraph/contracts/receipts'
import { InferenceEngine } from '@computegraph/gpu-worker/inference-engine'
import { loadModelDirectory } from '@computegraph/gpu-worker/model-manifest'
import type { Address, Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SHIPPED_MODELS_DIR } from './model-catalog'
import type { SpotCheckRecord } from './spot-check.service'
import { SpotCheckService } from './spot-check.service'
import { type ComputeNetwork, MIN_STAKE, startComputeNetwork } from './testing/compute-harness'
import { SHIPPED_MODELS } from './testing/raw-worker'
import { ReceiptRepository } from './verification/receipt.repository'

const MLP = SHIPPED_MODELS.find((m) => m.name === 'volatility-mlp')?.id as string
const ZERO_HASH = `0x${'0'.repeat(64)}`

/**
 * The central interval of Binomial(n, p) outside which a count falls with probability at most `alpha`
 * (at most alpha/2 on each side), from the exact distribution.
 */
function binomialInterval(n: number, p: number, alpha = 1e-6): [number, number] {
  let pmf = (1 - p) ** n
  let cdf = 0
  let lo = -1
  for (let k = 0; k <= n; k++) {
    cdf += pmf
    if (lo < 0 && cdf > alpha / 2) lo = k
    if (cdf >= 1 - alpha / 2) return [lo, k]
    pmf *= ((n - k) / (k + 1)) * (p / (1 - p))
  }
  return [lo, n]
}

const input = (i: number) => [[0.001 * i, 0.02, -0.01, 0.7 + 0.001 * i, 1.0, 0.9, 0.0, 30 + (i % 40)]]

interface Stored {
  status: string
  output: { data: number[] }
  worker: { provider: Address }
  receipt: {
    receipt: unknown
    attestation: {
      attestation: {
        receiptDigest: Hex
        verification: number
        evidenceHash: Hex
        attestedAt: string
        blockNumber: string
      }
      signature: Hex
      gateway: Address
    }
  }
  spotCheck?: SpotCheckRecord
}

async function startEngine() {
  return InferenceEngine.create({ device: 'cpu', models: await loadModelDirectory({ dir: SHIPPED_MODELS_DIR }) })
}

describe('spot checks of a worker that returns wrong outputs for a share of requests', () => {
  const N = 200
  const SHARE = 0.5
  const FAULT_RATE = 0.5
  const SLASH = 10n ** 18n // one token per caught result: the faulty provider stays admitted through the run
  let cn: ComputeNetwork
  let engine: InferenceEngine
  let honest: Address
  let faulty: Address
  let stored: Stored[]
  let counts: SpotCheckService['counts']

  beforeAll(async () => {
    cn = await startComputeNetwork({
      providers: 2,
      env: { COMPUTE_SPOT_CHECK_SHARE: String(SHARE), COMPUTE_SLASH_AMOUNT: SLASH.toString() },
    })
    honest = cn.providers[0]?.address.toLowerCase() as Address
    faulty = cn.providers[1]?.address.toLowerCase() as Address
    cn.startWorker({ provider: 1 })
    cn.startWorker({ provider: 2, extraArgs: ['--fault-rate', String(FAULT_RATE)] })
    engine = await startEngine()
    await cn.waitForWorkers(2)
    const checks = cn.gateway.app.get(SpotCheckService)
    const ids: string[] = []
    // Four at a time, then let their checks finish: never more checks in flight than the service runs at once.
    for (let i = 0; i < N; i += 4) {
      const batch = await Promise.all(
        [0, 1, 2, 3].map((j) => cn.post('/v1/infer', { model: 'volatility-mlp', input: input(i + j) })),
      )
      for (const res of batch) {
        expect(res.status, JSON.stringify(res.body)).toBe(200)
        ids.push(res.body.requestId as string)
      }
      await checks.settled()
    }
    stored = await Promise.all(ids.map(async (id) => (await cn.get(`/v1/requests/${id}`)).body as unknown as Stored))
    counts = { ...checks.counts }
  }, 180_000)

  afterAll(async () => {
    await engine?.close()
    await cn?.close()
  })

  it('re-executes the share of requests that COMPUTE_SPOT_CHECK_SHARE predicts, each on the other worker', () => {
    expect(counts.considered).toBe(N)
    expect(counts.skipped).toBe(0)
    const [lo, hi] = binomialInterval(N, SHARE)
    expect(counts.checked).toBeGreaterThanOrEqual(lo)
    expect(counts.checked).toBeLessThanOrEqual(hi)
    const checked = stored.filter((s) => s.spotCheck)
    expect(checked).toHaveLength(counts.checked)
    for (const s of checked) expect(s.spotCheck?.checker).not.toBe(s.worker.provider)
  })

  it('catches wrong outputs at the worker’s fault rate among the checked requests', () => {
    // Each check pairs the faulty worker with the honest one (as first or as checker): a mismatch is its fault.
    const [lo, hi] = binomialInterval(counts.checked, FAULT_RATE)
    expect(counts.mismatched).toBeGreaterThanOrEqual(lo)
    expect(counts.mismatched).toBeLessThanOrEqual(hi)
    expect(counts.matched + counts.mismatched).toBe(counts.checked)
    expect(stored.filter((s) => s.spotCheck?.status === 'mismatched')).toHaveLength(counts.mismatched)
  })

  it('blames and slashes on-chain only the faulty provider, once per caught result', async () => {
    for (const s of stored.filter((x) => x.spotCheck?.status === 'mismatched')) {
      expect(s.spotCheck?.faulty).toEqual([faulty])
      expect(s.spotCheck?.transactions).toHaveLength(1)
    }
    expect(counts.slashed).toBe(counts.mismatched)
    const chain = reads(cn.net)
    expect((await chain.provider(faulty)).stake).toBe(2n * MIN_STAKE - BigInt(counts.mismatched) * SLASH)
    expect((await chain.provider(faulty)).slashedTotal).toBe(BigInt(counts.mismatched) * SLASH)
  })

  it('never slashes the honest provider', async () => {
    const provider = await reads(cn.net).provider(honest)
    expect(provider.stake).toBe(2n * MIN_STAKE)
    expect(provider.slashedTotal).toBe(0n)
  })

  it('returns the model’s exact output from the honest worker, every time', async () => {
    const mine = stored.map((s, i) => [s, i] as const).filter(([s]) => s.worker.provider === honest)
    expect(mine.length).toBeGreaterThan(0)
    for (const [s, i] of mine) {
      const want = await engine.infer({
        modelId: MLP,
        input: { dtype: 'float32', shape: [1, 8], data: Float32Array.from(input(i).flat()) },
      })
      expect(Float32Array.from(s.output.data)).toEqual(want.output.data)
    }
  })

  it('attests REEXECUTED_MATCH for matched checks, DISPUTED with the evidence hash when the answering worker was caught, and no more than signature-only when only the checker was', async () => {
    const domain = receiptDomain({ chainId: cn.net.deployment.chainId, jobMarket: cn.net.addresses.jobMarket })
    const gateway = cn.net.accounts[0]?.address as Address
    for (const s of stored) {
      const { attestation, signature, gateway: signer } = s.receipt.attestation
      const status = s.spotCheck?.status
      const disputed = status === 'mismatched' && s.worker.provider === faulty
      const expected =
        status === 'matched'
          ? Verification.REEXECUTED_MATCH
          : disputed
            ? Verification.DISPUTED
            : Verification.SIGNATURE_ONLY
      expect(attestation.verification).toBe(expected)
      if (status === 'matched' || disputed) {
        expect(attestation.evidenceHash).toBe(s.spotCheck?.evidenceHash)
        expect(attestation.evidenceHash).not.toBe(ZERO_HASH)
      } else {
        expect(attestation.evidenceHash).toBe(ZERO_HASH)
      }
      if (status === 'matched') expect(s.spotCheck?.bitwise).toBe(true)
      expect(attestation.receiptDigest).toBe(hashReceipt({ domain, receipt: receiptFromJson(s.receipt.receipt) }))
      expect(signer).toBe(gateway)
      expect(
        await verifyAttestationSignature({
          domain,
          attestation: {
            ...attestation,
            verification: expected,
            attestedAt: BigInt(attestation.attestedAt),
            blockNumber: BigInt(attestation.blockNumber),
          },
          signature,
          gateway,
        }),
      ).toEqual({ valid: true, signer: gateway })
    }
  })

  it('leaves in the receipt store the attestation each request ended with: a DISPUTED verdict is what verifiers find', async () => {
    const store = cn.gateway.app.get(ReceiptRepository)
    const disputed = stored.filter((s) => s.receipt.attestation.attestation.verification === Verification.DISPUTED)
    expect(disputed.length).toBeGreaterThan(0)
    for (const s of stored) {
      const held = await store.find(s.receipt.attestation.attestation.receiptDigest)
      expect(held?.attestation?.attestation.verification).toBe(s.receipt.attestation.attestation.verification)
    }
  })
})

describe('a worker caught once with its whole stake at risk', () => {
  let cn: ComputeNetwork
  let honest: Address
  let faulty: Address

  beforeAll(async () => {
    // Every request checked, every output of worker 2 wrong, the whole stake slashed (COMPUTE_SLASH_AMOUNT=0).
    cn = await startComputeNetwork({ providers: 2, env: { COMPUTE_SPOT_CHECK_SHARE: '1' } })
    honest = cn.providers[0]?.address.toLowerCase() as Address
    faulty = cn.providers[1]?.address.toLowerCase() as Address
    cn.startWorker({ provider: 1 })
    cn.startWorker({ provider: 2, extraArgs: ['--fault-rate', '1'] })
    await cn.waitForWorkers(2)
  }, 120_000)

  afterAll(async () => {
    await cn?.close()
  })

  it('is slashed on-chain and dropped from the pool once the indexer sees the slash', async () => {
    const res = await cn.post('/v1/infer', { model: 'volatility-mlp', input: input(1) })
    expect(res.status).toBe(200)
    await cn.gateway.app.get(SpotCheckService).settled()
    const chain = reads(cn.net)
    expect((await chain.provider(faulty)).stake).toBe(0n)
    expect((await chain.provider(faulty)).slashedTotal).toBe(2n * MIN_STAKE)
    expect(await chain.isEligible(faulty)).toBe(false)
    const deadline = Date.now() + 30_000
    while (
      cn
        .pool()
        .all()
        .some((w) => w.provider.toLowerCase() === faulty)
    ) {
      if (Date.now() > deadline) throw new Error('the slashed worker is still in the pool')
      await new Promise((r) => setTimeout(r, 25))
    }
    const workers = (await cn.get('/v1/workers')).body as unknown as { provider: Address }[]
    expect(workers.map((w) => w.provider)).toEqual([honest])
    expect((await chain.provider(honest)).stake).toBe(2n * MIN_STAKE)
  })

  it('serves later requests from the honest worker only', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await cn.post('/v1/infer', { model: 'volatility-mlp', input: input(i) })
      expect(res.status).toBe(200)
      expect((res.body.worker as { provider: Address }).provider).toBe(honest)
    }
  })
})
