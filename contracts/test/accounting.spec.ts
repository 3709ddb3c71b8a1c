import { type Account, type Address, getAddress, keccak256, type Log, parseEther, parseEventLogs, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeTokenAbi, jobMarketAbi, providerStakingAbi, rewardPoolAbi } from '../generated/abis'
import { actions, advanceTime, JobStatus, type LocalNetwork, reads, startLocalNetwork } from '../src/fixture'

/**
 * One scripted run of the whole protocol from several accounts, then checks that every token is where the
 * contracts' own accounting (and their events) say it is. The tests only read, so their order does not matter.
 */
describe('money adds up across staking, jobs, disputes and rewards', () => {
  let net: LocalNetwork
  let view: ReturnType<typeof reads>
  let feeBps: bigint
  let fromBlock: bigint
  let toBlock: bigint
  let logs: Log[]
  let holders: Address[]
  /** Everyone the script gives tokens to: providers, clients, the funder and the slash recipient. */
  let actors: Address[]
  const start = new Map<Address, bigint>()
  const end = new Map<Address, bigint>()
  let supplyAtStart: bigint
  const modelId = keccak256(toHex('model bytes'))

  beforeAll(async () => {
    net = await startLocalNetwork()
    const act = actions(net)
    view = reads(net)
    feeBps = BigInt(net.deployment.params.feeBps)
    const [admin, p1, p2, p3, c1, c2, funder, treasury] = net.accounts as [
      Account,
      Account,
      Account,
      Account,
      Account,
      Account,
      Account,
      Account,
    ]
    actors = [p1, p2, p3, c1, c2, funder, treasury].map((a) => a.address)
    const unbondingDelay = BigInt(net.deployment.params.unbondingDelay)
    const epochDuration = BigInt(net.deployment.params.epochDuration)

    for (const p of [p1, p2, p3]) {
      await act.mint(p.address, parseEther('6000'))
      await act.approve(p, net.addresses.staking, parseEther('6000'))
    }
    for (const c of [c1, c2]) await act.fundClient(c, parseEther('500'))
    await act.mint(funder.address, parseEther('100'))
    await act.approve(funder, net.addresses.rewardPool, parseEther('100'))
    await act.registerModel(c1, modelId)
    supplyAtStart = await view.totalSupply()
    fromBlock = (await net.publicClient.getBlockNumber()) + 1n

    const job = async (client: Account, payment: bigint, ttl = 3600n) => {
      const now = await act.latestTimestamp()
      await act.createJob(client, {
        modelId,
        inputHash: keccak256(toHex(`input ${payment}`)),
        payment,
        deadline: now + ttl,
      })
      return view.jobCount()
    }
    const evidence = keccak256(toHex('evidence'))

    for (const [p, stake] of [
      [p1, parseEther('5000')],
      [p2, parseEther('3000')],
      [p3, parseEther('2500')],
    ] as const) {
      await act.register(p)
      await act.stake(p, stake)
    }
    // Odd payments, so that the fee's rounding down is exercised.
    const j1 = await job(c1, parseEther('10') + 1n)
    await act.assignJob(p1, j1, p1.address)
    await act.completeJob(p1, j1)
    const j2 = await job(c1, parseEther('7') + 3n)
    await act.assignJob(admin, j2, p2.address)
    await act.completeJob(p2, j2, c1)
    const j3 = await job(c2, parseEther('4'))
    await act.cancelJob(c2, j3)
    const j4 = await job(c2, parseEther('1') + 999n, 600n)
    await act.assignJob(p3, j4, p3.address)
    await job(c2, parseEther('2'), 90n * 86_400n) // stays OPEN
    const j6 = await job(c1, parseEther('3') + 7n, 90n * 86_400n)
    await act.assignJob(p1, j6, p1.address) // stays ASSIGNED
    const j7 = await job(c2, parseEther('5'))
    await act.assignJob(p2, j7, p2.address)
    await act.completeJob(p2, j7)
    await act.disputeJob(c2, j7, evidence)
    await act.resolveDispute(admin, j7, true, parseEther('8')) // more than the payment: the rest goes to the pool
    const j8 = await job(c1, parseEther('6') + 7n)
    await act.assignJob(p1, j8, p1.address)
    await act.completeJob(p1, j8)
    await act.disputeJob(c1, j8, evidence)
    await act.resolveDispute(admin, j8, false, parseEther('8'))
    const j9 = await job(c1, parseEther('2') + 1n)
    await act.assignJob(p3, j9, p3.address)
    await act.completeJob(p3, j9)
    await act.disputeJob(admin, j9, evidence)
    await act.resolveDispute(admin, j9, true, parseEther('1')) // less than the payment: all of it is refunded
    await act.fundRewards(funder, parseEther('50'))

    await act.requestUnstake(p3, parseEther('1000'))
    await advanceTime(net, unbondingDelay)
    await act.withdraw(p3)
    await act.expireJob(c1, j4)
    await act.requestUnstake(p3, parseEther('500'))
    await act.slash(admin, p3.address, parseEther('1200'), evidence, treasury.address) // stake, then pending
    await act.requestUnstake(p2, parseEther('100')) // stays pending

    await act.finalizeEpoch(funder) // epoch 0, past due after the unbonding wait
    await act.claim(p1, 0n)
    const j10 = await job(c1, parseEther('9') + 9n)
    await act.assignJob(p2, j10, p2.address)
    await act.completeJob(p2, j10)
    await act.fundRewards(funder, parseEther('5'))
    await advanceTime(net, epochDuration)
    await act.finalizeEpoch(p1) // epoch 1
    await act.claim(p2, 0n)
    await act.claim(p2, 1n)
    // p3 leaves its epoch-0 share unclaimed, so part of the pool stays reserved.
    const j11 = await job(c2, parseEther('4') + 1n)
    await act.assignJob(p1, j11, p1.address)
    await act.completeJob(p1, j11)
    await act.fundRewards(funder, parseEther('1'))

    toBlock = await net.publicClient.getBlockNumber()
    logs = await net.publicClient.getLogs({
      address: Object.values(net.addresses),
      fromBlock: 0n,
      toBlock,
    })
    const transfers = parseEventLogs({ abi: computeTokenAbi, eventName: 'Transfer', logs })
    const seen = new Set<Address>()
    for (const t of transfers) for (const a of [t.args.from, t.args.to]) seen.add(getAddress(a))
    seen.delete('0x0000000000000000000000000000000000000000')
    holders = [...seen]
    const balanceAt = (holder: Address, blockNumber: bigint) =>
      net.publicClient.readContract({
        address: net.addresses.token,
        abi: computeTokenAbi,
        functionName: 'balanceOf',
        args: [holder],
        blockNumber,
      })
    for (const h of holders) {
      start.set(h, await balanceAt(h, fromBlock - 1n))
      end.set(h, await balanceAt(h, toBlock))
    }
  })
  afterAll(() => net?.stop())

  const eventsOf = <const abi extends typeof jobMarketAbi | typeof providerStakingAbi | typeof rewardPoolAbi>(
    abi: abi,
  ) => parseEventLogs({ abi, logs: logs.filter((l) => l.blockNumber !== null && l.blockNumber >= fromBlock) })

  it('moved tokens only between holders: the balance changes of all accounts and contracts sum to zero', async () => {
    const { staking, jobMarket, rewardPool } = net.addresses
    expect(new Set(holders)).toEqual(new Set([...actors, staking, jobMarket, rewardPool]))
    let sum = 0n
    for (const h of holders) sum += (end.get(h) ?? 0n) - (start.get(h) ?? 0n)
    expect(sum).toBe(0n)
    expect(await view.totalSupply()).toBe(supplyAtStart)
    let total = 0n
    for (const h of holders) total += end.get(h) ?? 0n
    expect(total).toBe(supplyAtStart)
  })

  it('explains every holder balance change by the events the contracts emitted', async () => {
    const expected = new Map<Address, bigint>()
    const move = (from: Address, to: Address, amount: bigint) => {
      expected.set(getAddress(from), (expected.get(getAddress(from)) ?? 0n) - amount)
      expected.set(getAddress(to), (expected.get(getAddress(to)) ?? 0n) + amount)
    }
    const { staking, jobMarket: market, rewardPool: pool } = net.addresses
    for (const e of eventsOf(providerStakingAbi)) {
      if (e.eventName === 'Staked') move(e.args.provider, staking, e.args.amount)
      if (e.eventName === 'Unstaked') move(staking, e.args.provider, e.args.amount)
      if (e.eventName === 'Slashed') move(staking, e.args.recipient, e.args.amount)
    }
    for (const e of eventsOf(jobMarketAbi)) {
      if (e.eventName === 'JobCreated') move(e.args.client, market, e.args.payment)
      if (e.eventName === 'JobCancelled' || e.eventName === 'JobExpired') move(market, e.args.client, e.args.refund)
      if (e.eventName === 'JobCompleted') move(market, pool, e.args.payment)
      if (e.eventName === 'DisputeResolved') {
        const { client } = await view.job(e.args.jobId)
        move(market, client, e.args.refund)
        move(market, pool, e.args.slashed - e.args.refund)
      }
    }
    for (const e of eventsOf(rewardPoolAbi)) {
      if (e.eventName === 'RewardPaid' || e.eventName === 'RewardClaimed') move(pool, e.args.provider, e.args.amount)
      if (e.eventName === 'RewardsFunded') move(e.args.funder, pool, e.args.amount)
    }
    for (const h of holders) {
      expect({ holder: h, change: (end.get(h) ?? 0n) - (start.get(h) ?? 0n) }).toEqual({
        holder: h,
        change: expected.get(h) ?? 0n,
      })
    }
  })

  it('ProviderStaking holds exactly the total staked plus every pending unstake', async () => {
    let pending = 0n
    for (const p of net.accounts.slice(1, 4)) pending += (await view.provider(p.address)).pendingUnstake
    expect(pending).toBeGreaterThan(0n)
    expect(await view.balanceOf(net.addresses.staking)).toBe((await view.totalStaked()) + pending)
  })

  it('JobMarket holds exactly the escrow of its OPEN and ASSIGNED jobs', async () => {
    const count = await view.jobCount()
    let escrow = 0n
    const statuses = new Set<number>()
    for (let id = 1n; id <= count; id++) {
      const job = await view.job(id)
      statuses.add(job.status)
      if (job.status === JobStatus.OPEN || job.status === JobStatus.ASSIGNED) escrow += job.payment
    }
    expect([...statuses].sort()).toEqual(Object.values(JobStatus))
    expect(await view.balanceOf(net.addresses.jobMarket)).toBe(escrow)
  })

  it('RewardPool holds exactly its reserved rewards plus the income of the epoch not yet finalized', async () => {
    let income = 0n
    let finalized = 0n
    let claimed = 0n
    for (const e of eventsOf(jobMarketAbi)) {
      if (e.eventName === 'JobCompleted') income += e.args.fee
      if (e.eventName === 'DisputeResolved') income += e.args.slashed - e.args.refund
    }
    for (const e of eventsOf(rewardPoolAbi)) {
      if (e.eventName === 'RewardsFunded') income += e.args.amount
      if (e.eventName === 'EpochFinalized') finalized += e.args.rewards
      if (e.eventName === 'RewardClaimed') claimed += e.args.amount
    }
    const reserved = await view.reserved()
    expect(reserved).toBe(finalized - claimed)
    expect(reserved).toBeGreaterThan(0n)
    expect(income - finalized).toBeGreaterThan(0n)
    expect(await view.balanceOf(net.addresses.rewardPool)).toBe(reserved + (income - finalized))
  })

  it('charges every completed job a fee of exactly payment × feeBps / 10000, rounded down', async () => {
    const completed = eventsOf(jobMarketAbi).filter((e) => e.eventName === 'JobCompleted')
    const paid = eventsOf(rewardPoolAbi).filter((e) => e.eventName === 'RewardPaid')
    expect(completed.length).toBeGreaterThanOrEqual(6)
    expect(completed.some((e) => (e.args.payment * feeBps) % 10_000n !== 0n)).toBe(true)
    for (const e of completed) {
      expect(e.args.payment).toBe((await view.job(e.args.jobId)).payment)
      expect(e.args.fee).toBe((e.args.payment * feeBps) / 10_000n)
      const reward = paid.find((r) => r.args.jobId === e.args.jobId)
      expect(reward?.args.amount).toBe(e.args.payment - e.args.fee)
      expect(reward?.args.fee).toBe(e.args.fee)
    }
  })

  it('pays out each claimed epoch exactly once and never more than its rewards', async () => {
    for (const epoch of [0n, 1n]) {
      const e = await view.epoch(epoch)
      const claims = eventsOf(rewardPoolAbi).filter((l) => l.eventName === 'RewardClaimed' && l.args.epoch === epoch)
      const sum = claims.reduce((s, l) => s + (l.eventName === 'RewardClaimed' ? l.args.amount : 0n), 0n)
      expect(sum).toBe(e.claimed)
      expect(e.claimed).toBeLessThanOrEqual(e.rewards)
      if (e.claimedWork === e.totalWork) expect(e.claimed).toBe(e.rewards)
    }
  })
})
