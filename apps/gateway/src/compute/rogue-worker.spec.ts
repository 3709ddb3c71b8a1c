import type { LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ComputeNetwork, startComputeNetwork } from './testing/compute-harness'
import { admitSilentWorker } from './testing/raw-worker'
import type { LiveWorker } from './worker-pool'

const row = (i: number) => [0.01 * i, 0.03, -0.05, 0.8, 1.1, 0.7, 0.02, 40 + i]
// The shipped defaults: a rogue must not be able to fail requests under them.
const SUSPEND_AFTER_ERRORS = 3

let cn: ComputeNetwork
let rogues: Awaited<ReturnType<typeof admitSilentWorker>>[] = []
const account = (i: number) => cn.net.accounts[i] as LocalAccount
const live = (workerId: string) => cn.pool().get(workerId) as LiveWorker

const infer = (i: number) => cn.post('/v1/infer', { model: 'volatility-mlp', input: [row(i)] })

async function burst(n: number) {
  const responses = await Promise.all(Array.from({ length: n }, (_, i) => infer(i)))
  for (const res of responses) expect(res.status, JSON.stringify(res.body)).toBe(200)
  return responses
}

beforeAll(async () => {
  // Request deadline, attempt budget, queue and suspension at their defaults; only heartbeats are faster.
  cn = await startComputeNetwork({ providers: 3 })
  cn.startWorker({ provider: 1 })
  cn.startWorker({ provider: 2 })
  await cn.waitForWorkers(2)
  // Both honest workers answer a few requests first, so their latency is measured.
  for (let i = 0; i < 4; i++) expect((await infer(i)).status).toBe(200)
  // Provider 3 runs two workers that are admitted, answer every ping and never answer a task.
  rogues = [
    await admitSilentWorker({ url: cn.workersUrl, signer: account(3) }),
    await admitSilentWorker({ url: cn.workersUrl, signer: account(3) }),
  ]
  await cn.waitForWorkers(4)
}, 180_000)

afterAll(async () => {
  for (const r of rogues) r.raw.close()
  await cn?.close()
})

describe('a staked provider whose workers never answer', () => {
  it('fails none of a burst of 12 concurrent requests: each retry goes to another provider', async () => {
    const responses = await burst(12)
    for (const res of responses) {
      // /v1 names providers in lower case
      const honest = [account(1).address, account(2).address].map((a) => a.toLowerCase())
      expect(honest).toContain((res.body.worker as { provider: string }).provider)
      expect(res.body.attempts).toBeLessThanOrEqual(2)
    }
  }, 60_000)

  it('is suspended after a few failures, while every request still succeeds', async () => {
    const suspended = () => rogues.every((r) => live(r.workerId).suspendedUntil > Date.now())
    const deadline = Date.now() + 90_000
    while (!suspended()) {
      if (Date.now() > deadline) throw new Error('the silent workers were never suspended')
      await burst(4)
    }
    for (const r of rogues) expect(live(r.workerId).failed).toBeLessThanOrEqual(SUSPEND_AFTER_ERRORS)
  }, 120_000)
})
