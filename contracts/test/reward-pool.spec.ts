import { type Account, type Hex, keccak256, pad, parseEther, parseEventLogs, toHex } from 'viem'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { rewardPoolAbi } from '../generated/abis'
import {
  actions,
  advanceTime,
  type LocalNetwork,
  logsOf,
  minedAt,
  reads,
  revertOf,
  startLocalNetwork,
} from '../src/fixture'

describe('RewardPool', () => {
  let net: LocalNetwork
  let act: ReturnType<typeof actions>
  let view: ReturnType<typeof reads>
  let admin: Account
  let alice: Account
  let bob: Account
  let carol: Account
  let client: Account
  let funder: Account
  let epochDuration: bigint
  let feeBps: bigint
  let snapshot: Hex
  const modelId = keccak256(toHex('model bytes'))

  beforeAll(async () => {
    net = await startLocalNetwork()
    act = actions(net)
    view = reads(net)
    ;[admin, alice, bob, carol, client, funder] = net.accounts as [Account, Account, Account, Account, Account, Account]
    epochDuration = BigInt(net.deployment.params.epochDuration)
    feeBps = BigInt(net.deployment.params.feeBps)
    for (const p of [alice, bob, carol]) await act.onboardProvider(p)
    await act.fundClient(client)
    await act.mint(funder.address, parseEther('1000'))
    await act.approve(funder, net.addresses.rewardPool, parseEther('1000'))
    await act.registerModel(client, modelId)
  })
  afterAll(() => net?.stop())
  beforeEach(async () => {
    snapshot = await net.testClient.snapshot()
  })
  afterEach(async () => {
    await net.testClient.revert({ id: snapshot })
  })

  /** Runs one job from creation to payment; returns the submitResult transaction. */
  async function doJob(provider: Account, payment: bigint): Promise<Hex> {
    const now = await act.latestTimestamp()
    await act.createJob(client, {
      modelId,
      inputHash: keccak256(toHex(`input ${now}`)),
      payment,
      deadline: now + 3600n,
    })
    const jobId = await view.jobCount()
    await act.assignJob(provider, jobId, provider.address)
    return act.completeJob(provider, jobId)
  }

  async function endEpoch(): Promise<Hex> {
    await advanceTime(net, epochDuration)
    return act.finalizeEpoch(admin)
  }

  describe('wiring', () => {
    it('lets nobody but the JobMarket report a paid job', async () => {
      expect(await revertOf(act.payJob(admin, 1n, alice.address, 100n, 5n))).toEqual({
        errorName: 'NotJobMarket',
        args: [admin.address],
      })
    })

    it('lets the job market be set only once', async () => {
      expect(await revertOf(act.setJobMarket(admin, admin.address))).toEqual({
        errorName: 'JobMarketAlreadySet',
        args: [net.addresses.jobMarket],
      })
    })

    it('lets only an admin set the job market', async () => {
      expect(await revertOf(act.setJobMarket(alice, alice.address))).toEqual({
        errorName: 'AccessControlUnauthorizedAccount',
        args: [alice.address, pad('0x', { size: 32 })],
      })
    })
  })

  describe('income', () => {
    it('rejects funding of zero', async () => {
      expect(await revertOf(act.fundRewards(funder, 0n))).toEqual({ errorName: 'ZeroAmount', args: [] })
    })

    it('takes funding into the pool for the current epoch', async () => {
      const hash = await act.fundRewards(funder, parseEther('100'))
      const [event] = parseEventLogs({ abi: rewardPoolAbi, eventName: 'RewardsFunded', logs: await logsOf(net, hash) })
      expect(event?.args).toEqual({ funder: funder.address, amount: parseEther('100'), epoch: 0n })
      expect(await view.balanceOf(net.addresses.rewardPool)).toBe(parseEther('100'))
    })

    it('keeps the fee of a paid job and records the payment as the provider work in the epoch', async () => {
      await doJob(alice, parseEther('10'))
      const hash = await doJob(alice, parseEther('30'))
      const [event] = parseEventLogs({ abi: rewardPoolAbi, eventName: 'RewardPaid', logs: await logsOf(net, hash) })
      const fee = (parseEther('30') * feeBps) / 10_000n
      expect(event?.args).toEqual({
        provider: alice.address,
        jobId: 2n,
        amount: parseEther('30') - fee,
        fee,
        epoch: 0n,
        work: parseEther('40'),
      })
      expect(await view.workOf(0n, alice.address)).toBe(event?.args.work)
      expect((await view.epoch(0n)).totalWork).toBe(parseEther('40'))
      expect(await view.balanceOf(net.addresses.rewardPool)).toBe((parseEther('40') * feeBps) / 10_000n)
    })
  })

  describe('epochs', () => {
    it('refuses to finalize an epoch before it has lasted epochDuration', async () => {
      const { startedAt } = await view.epoch(0n)
      await advanceTime(net, epochDuration - 120n)
      expect(await revertOf(act.finalizeEpoch(alice))).toEqual({
        errorName: 'EpochNotOver',
        args: [startedAt + epochDuration],
      })
    })

    it('EpochFinalized reserves the unreserved balance for the epoch and opens the next epoch', async () => {
      await doJob(alice, parseEther('20'))
      await act.fundRewards(funder, parseEther('7'))
      const hash = await endEpoch()
      const finalizedAt = await minedAt(net, hash)
      const rewards = (parseEther('20') * feeBps) / 10_000n + parseEther('7')
      const [event] = parseEventLogs({ abi: rewardPoolAbi, eventName: 'EpochFinalized', logs: await logsOf(net, hash) })
      const epoch = await view.epoch(0n)
      expect(event?.args).toEqual({
        epoch: 0n,
        rewards,
        totalWork: parseEther('20'),
        startedAt: epoch.startedAt,
        finalizedAt,
      })
      expect(epoch).toMatchObject({ rewards, totalWork: parseEther('20'), finalizedAt, claimed: 0n, claimedWork: 0n })
      expect(await view.reserved()).toBe(rewards)
      expect(await view.currentEpoch()).toBe(1n)
      expect((await view.epoch(1n)).startedAt).toBe(finalizedAt)
    })

    it('measures the next epoch from the moment the previous one was finalized', async () => {
      const hash = await endEpoch()
      await advanceTime(net, epochDuration - 120n)
      expect(await revertOf(act.finalizeEpoch(alice))).toEqual({
        errorName: 'EpochNotOver',
        args: [(await minedAt(net, hash)) + epochDuration],
      })
    })

    it('reserves nothing for an epoch without work, so its balance rolls over to the next epoch', async () => {
      await act.fundRewards(funder, parseEther('100'))
      const empty = await endEpoch()
      const [skipped] = parseEventLogs({
        abi: rewardPoolAbi,
        eventName: 'EpochFinalized',
        logs: await logsOf(net, empty),
      })
      expect(skipped?.args).toMatchObject({ epoch: 0n, rewards: 0n, totalWork: 0n })
      expect(await view.reserved()).toBe(0n)

      await doJob(bob, parseEther('10'))
      await endEpoch()
      const rewards = parseEther('100') + (parseEther('10') * feeBps) / 10_000n
      expect((await view.epoch(1n)).rewards).toBe(rewards)
      const before = await view.balanceOf(bob.address)
      await act.claim(bob, 1n)
      expect((await view.balanceOf(bob.address)) - before).toBe(rewards)
    })

    it('counts work done after finalization towards the next epoch only', async () => {
      await doJob(alice, parseEther('10'))
      await endEpoch()
      await doJob(alice, parseEther('5'))
      expect(await view.workOf(0n, alice.address)).toBe(parseEther('10'))
      expect(await view.workOf(1n, alice.address)).toBe(parseEther('5'))
      expect((await view.epoch(0n)).totalWork).toBe(parseEther('10'))
    })
  })

  describe('claims', () => {
    it.each([0n, 3n])('refuses a claim for epoch %s, which is not finalized', async (epoch) => {
      await doJob(alice, parseEther('10'))
      expect(await revertOf(act.claim(alice, epoch))).toEqual({ errorName: 'EpochNotFinalized', args: [epoch] })
    })

    it('refuses a second claim by the same provider for the same epoch', async () => {
      await doJob(alice, parseEther('10'))
      await doJob(bob, parseEther('10'))
      await endEpoch()
      await act.claim(alice, 0n)
      expect(await revertOf(act.claim(alice, 0n))).toEqual({ errorName: 'AlreadyClaimed', args: [0n, alice.address] })
    })

    it('refuses a claim from a provider that did no work in the epoch', async () => {
      await doJob(alice, parseEther('10'))
      await endEpoch()
      expect(await revertOf(act.claim(carol, 0n))).toEqual({ errorName: 'NothingToClaim', args: [0n, carol.address] })
    })

    it('splits an epoch rewards in proportion to the payment value of each provider work', async () => {
      await doJob(alice, parseEther('30'))
      await doJob(bob, parseEther('10'))
      await act.fundRewards(funder, parseEther('2'))
      await endEpoch()
      const { rewards } = await view.epoch(0n)
      expect(rewards).toBe(parseEther('4'))
      const paid: bigint[] = []
      for (const p of [alice, bob]) {
        const before = await view.balanceOf(p.address)
        const hash = await act.claim(p, 0n)
        const [event] = parseEventLogs({
          abi: rewardPoolAbi,
          eventName: 'RewardClaimed',
          logs: await logsOf(net, hash),
        })
        const amount = (await view.balanceOf(p.address)) - before
        expect(event?.args).toEqual({ epoch: 0n, provider: p.address, amount })
        paid.push(amount)
      }
      expect(paid).toEqual([parseEther('3'), parseEther('1')])
      expect(await view.reserved()).toBe(0n)
    })

    it('pays the rounding remainder to the last claimant, so an epoch pays out exactly its rewards', async () => {
      // 1-wei payments carry no fee, so the 100 wei of funding are the whole reward: 100 / 3 does not divide.
      await doJob(alice, 2n)
      await doJob(bob, 1n)
      await act.fundRewards(funder, 100n)
      await endEpoch()
      expect((await view.epoch(0n)).rewards).toBe(100n)
      expect(await view.pendingReward(0n, alice.address)).toBe(66n)
      const aliceBefore = await view.balanceOf(alice.address)
      await act.claim(alice, 0n)
      expect((await view.balanceOf(alice.address)) - aliceBefore).toBe(66n)
      // Alone, bob's share would round down to 33; as the last claimant it is what is left.
      expect(await view.pendingReward(0n, bob.address)).toBe(34n)
      const bobBefore = await view.balanceOf(bob.address)
      await act.claim(bob, 0n)
      expect((await view.balanceOf(bob.address)) - bobBefore).toBe(34n)
      expect(await view.epoch(0n)).toMatchObject({ rewards: 100n, claimed: 100n, claimedWork: 3n, totalWork: 3n })
      expect(await view.reserved()).toBe(0n)
      expect(await view.balanceOf(net.addresses.rewardPool)).toBe(0n)
    })

    it('pays the remainder to whichever provider claims last', async () => {
      await doJob(alice, 1n)
      await doJob(bob, 1n)
      await doJob(carol, 1n)
      await act.fundRewards(funder, 100n)
      await endEpoch()
      const paid: bigint[] = []
      for (const p of [carol, alice, bob]) {
        const before = await view.balanceOf(p.address)
        await act.claim(p, 0n)
        paid.push((await view.balanceOf(p.address)) - before)
      }
      expect(paid).toEqual([33n, 33n, 34n])
    })

    it('shows no pending reward for an unfinalized epoch, a claimed share or a provider without work', async () => {
      await doJob(alice, parseEther('10'))
      await doJob(bob, parseEther('10'))
      expect(await view.pendingReward(0n, alice.address)).toBe(0n)
      await endEpoch()
      await act.claim(alice, 0n)
      expect(await view.pendingReward(0n, alice.address)).toBe(0n)
      expect(await view.pendingReward(0n, carol.address)).toBe(0n)
      expect(await view.pendingReward(0n, bob.address)).toBe((parseEther('20') * feeBps) / 10_000n / 2n)
    })

    it('keeps later income out of an already finalized epoch', async () => {
      await doJob(alice, parseEther('10'))
      await endEpoch()
      await act.fundRewards(funder, parseEther('50'))
      const before = await view.balanceOf(alice.address)
      await act.claim(alice, 0n)
      expect((await view.balanceOf(alice.address)) - before).toBe((parseEther('10') * feeBps) / 10_000n)
      expect(await view.balanceOf(net.addresses.rewardPool)).toBe(parseEther('50'))
    })
  })
})
