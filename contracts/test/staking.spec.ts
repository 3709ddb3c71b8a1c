import { type Account, type Hex, keccak256, parseEther, parseEventLogs, toHex } from 'viem'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { providerStakingAbi } from '../generated/abis'
import { SLASHER_ROLE } from '../src/deploy'
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

describe('ProviderStaking', () => {
  let net: LocalNetwork
  let act: ReturnType<typeof actions>
  let view: ReturnType<typeof reads>
  let arbiter: Account
  let alice: Account
  let bob: Account
  let carol: Account
  let minStake: bigint
  let unbondingDelay: bigint
  let snapshot: Hex
  const reason = keccak256(toHex('bad output'))

  beforeAll(async () => {
    net = await startLocalNetwork()
    act = actions(net)
    view = reads(net)
    ;[arbiter, alice, bob, carol] = net.accounts as [Account, Account, Account, Account]
    minStake = BigInt(net.deployment.params.minStake)
    unbondingDelay = BigInt(net.deployment.params.unbondingDelay)
    for (const p of [alice, bob]) {
      await act.mint(p.address, parseEther('10000'))
      await act.approve(p, net.addresses.staking, parseEther('10000'))
    }
  })
  afterAll(() => net?.stop())
  beforeEach(async () => {
    snapshot = await net.testClient.snapshot()
  })
  afterEach(async () => {
    await net.testClient.revert({ id: snapshot })
  })

  describe('registration', () => {
    it('registers a provider with its metadata URI and announces it', async () => {
      const hash = await act.register(alice, 'ipfs://alice')
      const [event] = parseEventLogs({
        abi: providerStakingAbi,
        eventName: 'ProviderRegistered',
        logs: await logsOf(net, hash),
      })
      expect(event?.args).toEqual({ provider: alice.address, metadataURI: 'ipfs://alice' })
      expect(await view.provider(alice.address)).toMatchObject({
        registered: true,
        stake: 0n,
        metadataURI: 'ipfs://alice',
      })
    })

    it('rejects registering the same address twice', async () => {
      await act.register(alice)
      expect(await revertOf(act.register(alice, 'ipfs://again'))).toEqual({
        errorName: 'AlreadyRegistered',
        args: [alice.address],
      })
    })

    it('lets a registered provider change its metadata URI', async () => {
      await act.register(alice, 'ipfs://old')
      const hash = await act.updateMetadata(alice, 'ipfs://new')
      const [event] = parseEventLogs({
        abi: providerStakingAbi,
        eventName: 'ProviderUpdated',
        logs: await logsOf(net, hash),
      })
      expect(event?.args).toEqual({ provider: alice.address, metadataURI: 'ipfs://new' })
      expect((await view.provider(alice.address)).metadataURI).toBe('ipfs://new')
    })

    it('rejects a metadata update from an unregistered address', async () => {
      expect(await revertOf(act.updateMetadata(alice, 'ipfs://x'))).toEqual({
        errorName: 'NotRegistered',
        args: [alice.address],
      })
    })
  })

  describe('staking', () => {
    it('rejects a stake of zero', async () => {
      await act.register(alice)
      expect(await revertOf(act.stake(alice, 0n))).toEqual({ errorName: 'ZeroAmount', args: [] })
    })

    it('rejects a stake from an unregistered address', async () => {
      expect(await revertOf(act.stake(alice, minStake))).toEqual({ errorName: 'NotRegistered', args: [alice.address] })
    })

    it('rejects a stake beyond what the provider approved', async () => {
      await act.register(carol)
      await act.mint(carol.address, minStake)
      expect(await revertOf(act.stake(carol, minStake))).toEqual({
        errorName: 'ERC20InsufficientAllowance',
        args: [net.addresses.staking, 0n, minStake],
      })
    })

    it('Staked carries the provider stake and the total staked after the change', async () => {
      await act.register(alice)
      await act.register(bob)
      await act.stake(bob, parseEther('1500'))
      await act.stake(alice, parseEther('1000'))
      const balanceBefore = await view.balanceOf(alice.address)
      const hash = await act.stake(alice, parseEther('250'))
      const [event] = parseEventLogs({ abi: providerStakingAbi, eventName: 'Staked', logs: await logsOf(net, hash) })
      expect(event?.args).toEqual({
        provider: alice.address,
        amount: parseEther('250'),
        newStake: parseEther('1250'),
        totalStaked: parseEther('2750'),
      })
      expect((await view.provider(alice.address)).stake).toBe(event?.args.newStake)
      expect(await view.totalStaked()).toBe(event?.args.totalStaked)
      expect(balanceBefore - (await view.balanceOf(alice.address))).toBe(parseEther('250'))
    })

    it('makes a provider eligible for jobs exactly when its stake reaches the minimum', async () => {
      await act.register(alice)
      await act.stake(alice, minStake - 1n)
      expect(await view.isEligible(alice.address)).toBe(false)
      await act.stake(alice, 1n)
      expect(await view.isEligible(alice.address)).toBe(true)
    })

    it('never counts an unregistered address as eligible', async () => {
      expect(await view.isEligible(carol.address)).toBe(false)
    })
  })

  describe('unbonding', () => {
    beforeEach(async () => {
      await act.register(alice)
      await act.stake(alice, parseEther('2000'))
    })

    it('rejects an unstake request above the current stake', async () => {
      expect(await revertOf(act.requestUnstake(alice, parseEther('2000') + 1n))).toEqual({
        errorName: 'InsufficientStake',
        args: [parseEther('2000'), parseEther('2000') + 1n],
      })
    })

    it('rejects an unstake request of zero', async () => {
      expect(await revertOf(act.requestUnstake(alice, 0n))).toEqual({ errorName: 'ZeroAmount', args: [] })
    })

    it('rejects an unstake request from an unregistered address', async () => {
      expect(await revertOf(act.requestUnstake(bob, 1n))).toEqual({ errorName: 'NotRegistered', args: [bob.address] })
    })

    it('UnstakeRequested carries the stake, pending amount, unlock time and total staked after the change', async () => {
      await act.register(bob)
      await act.stake(bob, parseEther('1000'))
      const hash = await act.requestUnstake(alice, parseEther('600'))
      const unlockAt = (await minedAt(net, hash)) + unbondingDelay
      const [event] = parseEventLogs({
        abi: providerStakingAbi,
        eventName: 'UnstakeRequested',
        logs: await logsOf(net, hash),
      })
      expect(event?.args).toEqual({
        provider: alice.address,
        amount: parseEther('600'),
        newStake: parseEther('1400'),
        pendingUnstake: parseEther('600'),
        unlockAt,
        totalStaked: parseEther('2400'),
      })
      expect(await view.provider(alice.address)).toMatchObject({
        stake: parseEther('1400'),
        pendingUnstake: parseEther('600'),
        unlockAt,
      })
      expect(await view.totalStaked()).toBe(parseEther('2400'))
    })

    it('stops counting stake that is unbonding towards eligibility at once', async () => {
      await act.requestUnstake(alice, parseEther('2000') - minStake + 1n)
      expect(await view.isEligible(alice.address)).toBe(false)
    })

    it('adds a second request to the pending amount and restarts the delay', async () => {
      const first = await act.requestUnstake(alice, parseEther('100'))
      await advanceTime(net, 3600n)
      const second = await act.requestUnstake(alice, parseEther('50'))
      const provider = await view.provider(alice.address)
      expect(provider.pendingUnstake).toBe(parseEther('150'))
      expect(provider.unlockAt).toBe((await minedAt(net, second)) + unbondingDelay)
      expect(provider.unlockAt).toBeGreaterThan((await minedAt(net, first)) + unbondingDelay)
    })

    it('refuses to withdraw before the unbonding delay has elapsed', async () => {
      const hash = await act.requestUnstake(alice, parseEther('100'))
      const unlockAt = (await minedAt(net, hash)) + unbondingDelay
      await advanceTime(net, unbondingDelay - 120n)
      const revert = await revertOf(act.withdraw(alice))
      expect(revert.errorName).toBe('UnbondingNotElapsed')
      expect(revert.args[0]).toBe(unlockAt)
      expect(revert.args[1]).toBeLessThan(unlockAt)
      expect(revert.args[1]).toBeGreaterThanOrEqual(unlockAt - 130n)
    })

    it('pays out the whole pending amount once the delay has elapsed and leaves the stake alone', async () => {
      await act.requestUnstake(alice, parseEther('100'))
      await act.requestUnstake(alice, parseEther('50'))
      await advanceTime(net, unbondingDelay)
      const before = await view.balanceOf(alice.address)
      const totalBefore = await view.totalStaked()
      const hash = await act.withdraw(alice)
      const [event] = parseEventLogs({ abi: providerStakingAbi, eventName: 'Unstaked', logs: await logsOf(net, hash) })
      expect(event?.args).toEqual({ provider: alice.address, amount: parseEther('150') })
      expect((await view.balanceOf(alice.address)) - before).toBe(parseEther('150'))
      expect(await view.provider(alice.address)).toMatchObject({
        stake: parseEther('1850'),
        pendingUnstake: 0n,
        unlockAt: 0n,
      })
      expect(await view.totalStaked()).toBe(totalBefore)
    })

    it('refuses to withdraw when nothing is pending', async () => {
      expect(await revertOf(act.withdraw(alice))).toEqual({ errorName: 'NothingToWithdraw', args: [] })
    })

    it('refuses a second withdrawal of the same unstake', async () => {
      await act.requestUnstake(alice, parseEther('100'))
      await advanceTime(net, unbondingDelay)
      await act.withdraw(alice)
      expect(await revertOf(act.withdraw(alice))).toEqual({ errorName: 'NothingToWithdraw', args: [] })
    })
  })

  describe('slashing', () => {
    beforeEach(async () => {
      await act.register(alice)
      await act.stake(alice, parseEther('2000'))
    })

    it('lets only holders of SLASHER_ROLE slash', async () => {
      expect(await revertOf(act.slash(bob, alice.address, 1n, reason, bob.address))).toEqual({
        errorName: 'AccessControlUnauthorizedAccount',
        args: [bob.address, SLASHER_ROLE],
      })
    })

    it('takes a slash from the stake first, then from the pending unstake, and pays the recipient', async () => {
      await act.requestUnstake(alice, parseEther('500'))
      const totalBefore = await view.totalStaked()
      const hash = await act.slash(arbiter, alice.address, parseEther('1800'), reason, carol.address)
      const [event] = parseEventLogs({ abi: providerStakingAbi, eventName: 'Slashed', logs: await logsOf(net, hash) })
      expect(event?.args).toEqual({
        provider: alice.address,
        amount: parseEther('1800'),
        newStake: 0n,
        pendingUnstake: parseEther('200'),
        slashedTotal: parseEther('1800'),
        reason,
        recipient: carol.address,
        totalStaked: totalBefore - parseEther('1500'),
      })
      expect(await view.provider(alice.address)).toMatchObject({
        stake: 0n,
        pendingUnstake: parseEther('200'),
        slashedTotal: parseEther('1800'),
      })
      expect(await view.totalStaked()).toBe(totalBefore - parseEther('1500'))
      expect(await view.balanceOf(carol.address)).toBe(parseEther('1800'))
    })

    it('slashes at most what the provider holds, and adds up slashes in slashedTotal', async () => {
      await act.requestUnstake(alice, parseEther('500'))
      await act.slash(arbiter, alice.address, parseEther('100'), reason, carol.address)
      const hash = await act.slash(arbiter, alice.address, parseEther('1000000'), reason, carol.address)
      const [event] = parseEventLogs({ abi: providerStakingAbi, eventName: 'Slashed', logs: await logsOf(net, hash) })
      expect(event?.args.amount).toBe(parseEther('1900'))
      expect(await view.provider(alice.address)).toMatchObject({
        stake: 0n,
        pendingUnstake: 0n,
        slashedTotal: parseEther('2000'),
      })
      expect(await view.balanceOf(carol.address)).toBe(parseEther('2000'))
    })

    it('leaves only the unslashed part of a pending unstake to withdraw', async () => {
      await act.requestUnstake(alice, parseEther('2000'))
      await act.slash(arbiter, alice.address, parseEther('300'), reason, carol.address)
      await advanceTime(net, unbondingDelay)
      const before = await view.balanceOf(alice.address)
      await act.withdraw(alice)
      expect((await view.balanceOf(alice.address)) - before).toBe(parseEther('1700'))
    })

    it('refuses to slash a provider with neither stake nor pending unstake', async () => {
      await act.register(bob)
      expect(await revertOf(act.slash(arbiter, bob.address, 1n, reason, carol.address))).toEqual({
        errorName: 'NothingToSlash',
        args: [bob.address],
      })
    })

    it('refuses to slash zero', async () => {
      expect(await revertOf(act.slash(arbiter, alice.address, 0n, reason, carol.address))).toEqual({
        errorName: 'ZeroAmount',
        args: [],
      })
    })

    it('refuses to slash an unregistered address', async () => {
      expect(await revertOf(act.slash(arbiter, carol.address, 1n, reason, arbiter.address))).toEqual({
        errorName: 'NotRegistered',
        args: [carol.address],
      })
    })
  })
})
