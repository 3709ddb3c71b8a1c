import { anvilAccount, prng, runActivity } from '@computegraph/contracts/activity'
import { actions, type LocalNetwork } from '@computegraph/contracts/fixture'
import { parseEther } from 'viem'
import { sleep } from '../common/errors'
import type { Logger } from '../indexer/indexer'
import { DEMO_CLIENTS, DEMO_PROVIDERS } from './demo-chain'

const BOT = 13
const JOB_CLIENT = 14

class Stopped extends Error {}

/** Eight plausible market features: recent returns (%), volatilities, their ratio, a moving-average gap, an RSI. */
function features(rnd: ReturnType<typeof prng>): number[] {
  const r = () => (rnd.next() - 0.5) * 2
  const vol5 = 0.5 + rnd.next() * 1.5
  const vol20 = 0.5 + rnd.next() * 1.5
  // rsi_14 is a fraction (0 to 1), as the models were trained on; in percent it drives them far out of range.
  return [r() * 0.5, r() * 1.5, r() * 3, vol5, vol20, vol5 / vol20, r() * 2, 0.2 + rnd.next() * 0.6]
}

/**
 * The demo's live network: providers staking and unbonding, clients posting and settling jobs, epochs finalizing,
 * the occasional dispute (the seeded activity, paced); bots calling POST /v1/infer; and clients posting on-chain jobs
 * whose inputs they upload to the gateway, which computes them on its workers and submits the receipts.
 */
export function startDemoTraffic({
  net,
  baseUrl,
  logger,
  stepMs = 2_000,
  botMs = 1_000,
  jobMs = 15_000,
}: {
  net: LocalNetwork
  baseUrl: string
  logger: Logger
  stepMs?: number
  botMs?: number
  jobMs?: number
}) {
  const controller = new AbortController()
  const { signal } = controller
  const rnd = prng(Date.now() % 2 ** 31)
  const pace = async (ms: number) => {
    await sleep(ms, signal)
    if (signal.aborted) throw new Stopped()
  }
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  const loop = async (name: string, body: () => Promise<void>) => {
    while (!signal.aborted) {
      try {
        await body()
      } catch (error) {
        if (error instanceof Stopped || signal.aborted) return
        logger.warn(`demo traffic (${name}): ${(error as Error).message.split('\n')[0]}`)
        await sleep(5_000, signal)
      }
    }
  }

  // On-chain jobs are posted between two activity steps, never during one: the activity learns a new job's id by
  // reading jobCount after its createJob, and a job created by anyone in between would be taken for its own (it then
  // tried to complete a job assigned to a demo worker it has no key for, and crashed on `undefined.address`).
  const client = anvilAccount(JOB_CLIENT)
  let nextJobAt = Date.now() + jobMs
  const postJob = async () => {
    const act = actions(net)
    const model = rnd.chance(0.5) ? 'price-direction-logistic' : 'volatility-mlp'
    const upload = await post('/v1/jobs/inputs', { model, input: [features(rnd)] })
    if (upload.status !== 201) throw new Error(`POST /v1/jobs/inputs answered ${upload.status}`)
    const { inputHash, modelId } = upload.body as { inputHash: `0x${string}`; modelId: `0x${string}` }
    await act.registerModel(client, modelId, `computegraph://${model}`).catch(() => {})
    const now = await act.latestTimestamp()
    await act.createJob(client, {
      modelId,
      inputHash,
      payment: parseEther(String(1 + rnd.int(5))),
      deadline: now + 86_400n,
    })
  }

  const chain = loop('chain activity', async () => {
    await actions(net).fundClient(client, parseEther('100000'))
    await runActivity(net, {
      seed: Math.floor(rnd.next() * 2 ** 31),
      steps: Number.MAX_SAFE_INTEGER,
      providers: DEMO_PROVIDERS,
      clients: DEMO_CLIENTS,
      // Block time keeps wall time: the workers' receipts, the indexer's buckets and the dashboard read that clock.
      timeTravel: false,
      onStep: async () => {
        await pace(stepMs)
        if (Date.now() < nextJobAt) return
        nextJobAt = Date.now() + jobMs
        await postJob().catch((error: Error) => {
          if (!signal.aborted) logger.warn(`demo traffic (on-chain jobs): ${error.message.split('\n')[0]}`)
        })
      },
    })
  })

  const bots = loop('bots', async () => {
    const rows = Array.from({ length: 1 + rnd.int(4) }, () => features(rnd))
    const model = rnd.chance(0.5) ? 'price-direction-logistic' : 'volatility-mlp'
    const res = await post('/v1/infer', { model, input: rows, requester: anvilAccount(BOT).address })
    // The pool may be starting or busy; a bot just tries again later.
    if (res.status >= 500 && res.status !== 503) throw new Error(`POST /v1/infer answered ${res.status}`)
    await pace(botMs)
  })

  return {
    async stop() {
      controller.abort()
      await Promise.all([chain, bots])
    },
  }
}
