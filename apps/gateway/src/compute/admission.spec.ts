import { actions } from '@computegraph/contracts/fixture'
import type { LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { IndexerService } from '../indexer/indexer.service'
import { waitForHead } from '../indexer/testing/harness'
import { type ComputeNetwork, MIN_STAKE, startComputeNetwork } from './testing/compute-harness'
import { connectRawWorker, helloFor } from './testing/raw-worker'

const REJECTED = 4003
const EVIDENCE = `0x${'e'.repeat(64)}` as const

let cn: ComputeNetwork
let act: ReturnType<typeof actions>
const account = (i: number) => cn.net.accounts[i] as LocalAccount

/** Lets the gateway's indexer catch up with the chain, so admission sees the latest stake. */
async function indexed() {
  const indexer = cn.gateway.app.get(IndexerService).current
  if (!indexer) throw new Error('indexer not running')
  await waitForHead(indexer, cn.net)
}

async function waitFor(what: string, done: () => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Connects, answers the connection's challenge as `signer` (for `provider`), and returns the gateway's answer. */
async function handshake(signer: LocalAccount, provider = signer.address) {
  const raw = await connectRawWorker(cn.workersUrl)
  raw.send(await helloFor({ signer, challenge: raw.challenge, provider }))
  const answer = await Promise.race([raw.next('welcome'), raw.next('rejected')])
  return { raw, answer }
}

async function refusal(signer: LocalAccount, provider = signer.address) {
  const { raw, answer } = await handshake(signer, provider)
  expect(answer.type).toBe('rejected')
  expect((await raw.closed).code).toBe(REJECTED)
  return answer.type === 'rejected' ? answer.reason : ''
}

beforeAll(async () => {
  cn = await startComputeNetwork({ providers: 2 })
  act = actions(cn.net)
  // 3: registered, nothing staked; 4: never registered; 5: staked half the minimum.
  for (const i of [3, 5]) {
    await act.mint(account(i).address, MIN_STAKE * 10n)
    await act.approve(account(i), cn.net.addresses.staking, MIN_STAKE * 10n)
    await act.register(account(i))
  }
  await act.stake(account(5), MIN_STAKE / 2n)
  await indexed()
}, 120_000)

afterAll(async () => {
  await cn?.close()
})

describe('worker admission at the handshake', () => {
  it('welcomes a provider staked at or above the minimum that signs its own challenge', async () => {
    const { raw, answer } = await handshake(account(1))
    expect(answer).toMatchObject({ type: 'welcome', workerId: expect.stringMatching(/^w\d+$/) })
    await waitFor('the worker is in the pool', () => cn.pool().all().length === 1)
    expect(cn.pool().all()[0]?.provider).toBe(account(1).address)
    raw.close()
    await waitFor('the worker leaves the pool', () => cn.pool().all().length === 0)
  })

  it('refuses a provider that never registered, naming it', async () => {
    expect(await refusal(account(4))).toBe(
      `provider ${account(4).address.toLowerCase()} is not registered in ProviderStaking (as indexed so far)`,
    )
  })

  it('refuses a registered provider with nothing staked, naming the stake and the minimum', async () => {
    expect(await refusal(account(3))).toBe(
      `provider ${account(3).address.toLowerCase()} has stake 0, below the minimum ${MIN_STAKE}`,
    )
  })

  it('refuses a provider staked below the minimum', async () => {
    expect(await refusal(account(5))).toBe(
      `provider ${account(5).address.toLowerCase()} has stake ${MIN_STAKE / 2n}, below the minimum ${MIN_STAKE}`,
    )
  })

  it('refuses a hello replayed from another connection, though its signature is valid', async () => {
    const first = await connectRawWorker(cn.workersUrl)
    const second = await connectRawWorker(cn.workersUrl)
    expect(second.challenge.nonce).not.toBe(first.challenge.nonce)
    second.send(await helloFor({ signer: account(1), challenge: first.challenge }))
    const answer = await second.next('rejected')
    expect(answer.reason).toMatch(
      new RegExp(`^hello answers challenge ${first.challenge.nonce}, not the one sent on this connection .*replayed`),
    )
    expect((await second.closed).code).toBe(REJECTED)
    first.close()
    expect(cn.pool().all()).toHaveLength(0)
  })

  it('refuses a hello for a staked provider whose signature another key made', async () => {
    const reason = await refusal(account(6), account(1).address)
    expect(reason).toBe(`the handshake was signed by ${account(6).address}, not by the provider ${account(1).address}`)
  })

  it('refuses a hello that answers an expired challenge', async () => {
    const raw = await connectRawWorker(cn.workersUrl)
    const hello = await helloFor({ signer: account(1), challenge: raw.challenge })
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime((raw.challenge.expiresAt + 1) * 1000)
      raw.send(hello)
      const answer = await raw.next('rejected')
      expect(answer.reason).toBe(`the challenge expired at ${raw.challenge.expiresAt} (unix seconds)`)
    } finally {
      vi.useRealTimers()
    }
    expect((await raw.closed).code).toBe(REJECTED)
  })

  it('drops an admitted worker that stops answering heartbeats', async () => {
    const { raw, answer } = await handshake(account(1))
    expect(answer.type).toBe('welcome')
    await raw.next('ping')
    expect(await raw.closed).toEqual({ code: 4009, reason: 'silent for 3 heartbeats' })
    await waitFor('the worker leaves the pool', () => cn.pool().all().length === 0)
  })

  it('refuses any other frame before the hello', async () => {
    const raw = await connectRawWorker(cn.workersUrl)
    raw.send({
      type: 'pong',
      id: '1',
      sentAt: Date.now(),
      load: { queuedRequests: 0, queuedRows: 0, inFlight: 0, concurrency: 1, training: 0 },
    })
    expect(await raw.closed).toEqual({ code: REJECTED, reason: 'expected hello, got pong' })
  })
})

describe('worker admission while connected (the worker CLI)', () => {
  it('admits a refused worker once its provider stakes the minimum', async () => {
    const worker = cn.startWorker({ provider: 3 })
    await waitFor('the worker is refused', () => /has stake 0, below the minimum/.test(worker.output()), 60_000)
    expect(cn.pool().all()).toHaveLength(0)
    await act.stake(account(3), MIN_STAKE)
    await cn.waitForWorkers(1)
    expect(cn.pool().all()[0]?.provider).toBe(account(3).address)
    worker.kill()
    await worker.exited
    await waitFor('the worker leaves the pool', () => cn.pool().all().length === 0)
  })

  it('drops a connected worker whose stake is slashed below the minimum', async () => {
    const worker = cn.startWorker({ provider: 2 })
    await cn.waitForWorkers(1)
    await act.slash(account(0), account(2).address, MIN_STAKE + MIN_STAKE / 2n, EVIDENCE, account(0).address)
    await waitFor('the worker is dropped', () => cn.pool().all().length === 0)
    await waitFor('the worker hears why', () => worker.output().includes(`below the minimum ${MIN_STAKE}`))
    expect(worker.output()).toContain(`has stake ${MIN_STAKE / 2n}`)
    worker.kill()
    await worker.exited
  })

  it('drops a connected worker whose provider unstakes below the minimum', async () => {
    const worker = cn.startWorker({ provider: 1 })
    await cn.waitForWorkers(1)
    await act.requestUnstake(account(1), MIN_STAKE + 1n)
    await waitFor('the worker is dropped', () => cn.pool().all().length === 0)
    await waitFor('the worker hears why', () =>
      worker.output().includes(`has stake ${MIN_STAKE - 1n}, below the minimum`),
    )
    worker.kill()
    await worker.exited
  })
})
