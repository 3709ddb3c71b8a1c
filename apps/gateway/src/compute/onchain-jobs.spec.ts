import { fileURLToPath } from 'node:url'
import { actions, reads } from '@computegraph/contracts/fixture'
import { hashInferenceOutput } from '@computegraph/gpu-worker/canonical-bytes'
import { InferenceEngine } from '@computegraph/gpu-worker/inference-engine'
import { loadModelDirectory } from '@computegraph/gpu-worker/model-manifest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ComputeNetwork, startComputeNetwork } from './testing/compute-harness'

const MODELS_DIR = fileURLToPath(new URL('../../../../gpu-worker/models', import.meta.url))
const ROWS = [
  [0.01, 0.03, -0.05, 0.8, 1.1, 0.7, 0.02, 55],
  [-0.02, -0.04, 0.06, 1.2, 0.9, 1.3, -0.01, 42],
]
const PAYMENT = 10n ** 18n

let cn: ComputeNetwork

beforeAll(async () => {
  cn = await startComputeNetwork({ providers: 1 })
  cn.startWorker({ provider: 1, extraArgs: ['--price', '1000'] })
  await cn.waitForWorkers(1)
}, 120_000)

afterAll(async () => {
  await cn?.close()
})

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('the on-chain job loop', () => {
  it('computes an open job on a worker, assigns it, submits the receipt, and indexes JobCompleted and RewardPaid', async () => {
    const act = actions(cn.net)
    const client = cn.net.accounts[6] as (typeof cn.net.accounts)[number]
    const uploaded = await cn.post('/v1/jobs/inputs', { model: 'volatility-mlp', input: ROWS })
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201)
    const { inputHash, modelId } = uploaded.body as { inputHash: `0x${string}`; modelId: `0x${string}` }
    await act.registerModel(client, modelId, 'computegraph://volatility-mlp')
    await act.mint(client.address, PAYMENT)
    await act.approve(client, cn.net.addresses.jobMarket, PAYMENT)
    const now = await act.latestTimestamp()
    await act.createJob(client, { modelId, kind: 0, inputHash, payment: PAYMENT, deadline: now + 3600n })
    const jobId = (await reads(cn.net).jobCount()) as bigint

    const job = await waitFor('the job to be completed and indexed', async () => {
      const { body } = await cn.gateway.query<{
        job: {
          status: string
          provider: { id: string } | null
          outputHash: string
          receiptDigest: string
          payment: string
        } | null
      }>(`{ job(id: "${jobId}") { status provider { id } outputHash receiptDigest payment } }`)
      return body.data?.job?.status === 'COMPLETED' ? body.data.job : undefined
    })
    const provider = cn.providers[0]?.address.toLowerCase()
    expect(job.provider?.id).toBe(provider)

    const direct = await InferenceEngine.create({
      device: 'cpu',
      models: await loadModelDirectory({ dir: MODELS_DIR }),
    })
    const expected = await direct.infer({
      modelId,
      input: { dtype: 'float32', shape: [2, 8], data: Float32Array.from(ROWS.flat()) },
    })
    await direct.close()
    expect(job.outputHash).toBe(hashInferenceOutput({ output: expected.output }))

    const onChain = (await reads(cn.net).job(jobId)) as { status: number; provider: string }
    expect(onChain.status).toBe(2)
    expect(onChain.provider.toLowerCase()).toBe(provider)
    const rewards = await waitFor('the RewardPaid event to be indexed', async () => {
      const { body } = await cn.gateway.query<{
        rewards: { kind: string; amount: string; fee: string; provider: { id: string } }[]
      }>(`{ rewards(where: { job: "${jobId}" }) { kind amount fee provider { id } } }`)
      return body.data?.rewards.length ? body.data.rewards : undefined
    })
    expect(rewards).toHaveLength(1)
    expect(rewards[0]?.provider.id).toBe(provider)
    expect(BigInt(rewards[0]?.amount as string) + BigInt(rewards[0]?.fee as string)).toBe(PAYMENT)

    const stored = await cn.get(`/v1/requests/job-${jobId}`)
    expect(
      (stored.body.receipt as { attestation: { attestation: { receiptDigest: string } } }).attestation.attestation
        .receiptDigest,
    ).toBe(job.receiptDigest)
  })

  it('leaves a job whose request body was never uploaded open', async () => {
    const act = actions(cn.net)
    const client = cn.net.accounts[7] as (typeof cn.net.accounts)[number]
    const modelId = (await cn.get('/v1/models')).body as unknown as { id: `0x${string}`; name: string }[]
    const id = modelId.find((m) => m.name === 'price-direction-logistic')?.id as `0x${string}`
    await act.registerModel(client, id, 'computegraph://price-direction-logistic').catch(() => {})
    await act.mint(client.address, PAYMENT)
    await act.approve(client, cn.net.addresses.jobMarket, PAYMENT)
    const now = await act.latestTimestamp()
    await act.createJob(client, {
      modelId: id,
      kind: 0,
      inputHash: `0x${'ab'.repeat(32)}`,
      payment: PAYMENT,
      deadline: now + 3600n,
    })
    const jobId = (await reads(cn.net).jobCount()) as bigint
    await waitFor('the job to be indexed', async () => {
      const { body } = await cn.gateway.query<{ job: { status: string } | null }>(`{ job(id: "${jobId}") { status } }`)
      return body.data?.job ? true : undefined
    })
    await cn.gateway.app.get((await import('./job-dispatcher.service')).JobDispatcherService).poll()
    const { body } = await cn.gateway.query<{ job: { status: string } }>(`{ job(id: "${jobId}") { status } }`)
    expect(body.data?.job.status).toBe('OPEN')
    expect((await cn.get(`/v1/requests/job-${jobId}`)).status).toBe(404)
  })
})
