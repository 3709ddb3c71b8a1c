import { type Account, type Hex, keccak256, pad, parseEther, parseEventLogs, toHex } from 'viem'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { jobMarketAbi, providerStakingAbi } from '../generated/abis'
import { ARBITER_ROLE } from '../src/deploy'
import {
  actions,
  advanceTime,
  JobStatus,
  type JobStatusName,
  type LocalNetwork,
  logsOf,
  minedAt,
  reads,
  revertOf,
  startLocalNetwork,
} from '../src/fixture'

describe('JobMarket', () => {
  let net: LocalNetwork
  let act: ReturnType<typeof actions>
  let view: ReturnType<typeof reads>
  /** Deployer: dispatcher and arbiter. */
  let admin: Account
  let alice: Account
  let bob: Account
  let client: Account
  let underStaked: Account
  let unstaked: Account
  let stranger: Account
  let disputeWindow: bigint
  let snapshot: Hex
  const modelId = keccak256(toHex('model bytes'))
  const inputHash = keccak256(toHex('request bytes'))
  const evidence = keccak256(toHex('a second worker disagreed'))
  const payment = parseEther('10')

  beforeAll(async () => {
    net = await startLocalNetwork()
    act = actions(net)
    view = reads(net)
    ;[admin, alice, bob, client, underStaked, unstaked, stranger] = net.accounts as [
      Account,
      Account,
      Account,
      Account,
      Account,
      Account,
      Account,
    ]
    disputeWindow = BigInt(net.deployment.params.disputeWindow)
    await act.onboardProvider(alice)
    await act.onboardProvider(bob)
    await act.onboardProvider(underStaked, BigInt(net.deployment.params.minStake) - 1n)
    await act.register(unstaked)
    await act.fundClient(client)
    await act.registerModel(client, modelId)
  })
  afterAll(() => net?.stop())
  beforeEach(async () => {
    snapshot = await net.testClient.snapshot()
  })
  afterEach(async () => {
    await net.testClient.revert({ id: snapshot })
  })

  async function newJob({ amount = payment, ttl = 3600n } = {}): Promise<bigint> {
    const now = await act.latestTimestamp()
    await act.createJob(client, { modelId, inputHash, payment: amount, deadline: now + ttl })
    return view.jobCount()
  }

  /** A job of the client's, brought into `status` by the usual route (alice is the provider where one is needed). */
  async function jobIn(status: JobStatusName): Promise<bigint> {
    const jobId = await newJob()
    if (status === 'OPEN') return jobId
    if (status === 'CANCELLED') {
      await act.cancelJob(client, jobId)
      return jobId
    }
    await act.assignJob(alice, jobId, alice.address)
    if (status === 'ASSIGNED') return jobId
    if (status === 'EXPIRED') {
      await advanceTime(net, 3601n)
      await act.expireJob(stranger, jobId)
      return jobId
    }
    await act.completeJob(alice, jobId)
    if (status === 'DISPUTED') await act.disputeJob(client, jobId, evidence)
    return jobId
  }

  describe('models', () => {
    it('registers a model under its id with the registrant as owner', async () => {
      const id = keccak256(toHex('another model'))
      const hash = await act.registerModel(alice, id, 'ipfs://another')
      const [event] = parseEventLogs({ abi: jobMarketAbi, eventName: 'ModelRegistered', logs: await logsOf(net, hash) })
      expect(event?.args).toEqual({ modelId: id, owner: alice.address, uri: 'ipfs://another' })
      expect(await view.model(id)).toEqual({ owner: alice.address, uri: 'ipfs://another' })
    })

    it('rejects registering a model id that is already taken, whoever asks', async () => {
      expect(await revertOf(act.registerModel(alice, modelId, 'ipfs://mine'))).toEqual({
        errorName: 'ModelExists',
        args: [modelId],
      })
      expect((await view.model(modelId)).owner).toBe(client.address)
    })
  })

  describe('creating jobs', () => {
    it('escrows the payment and records an OPEN job as its JobCreated event describes it', async () => {
      const before = await view.balanceOf(client.address)
      const deadline = (await act.latestTimestamp()) + 3600n
      const hash = await act.createJob(client, { modelId, kind: 1, inputHash, payment, deadline })
      const [event] = parseEventLogs({ abi: jobMarketAbi, eventName: 'JobCreated', logs: await logsOf(net, hash) })
      expect(event?.args).toEqual({ jobId: 1n, client: client.address, modelId, kind: 1, inputHash, payment, deadline })
      expect(await view.job(1n)).toEqual({
        client: client.address,
        kind: 1,
        status: JobStatus.OPEN,
        provider: '0x0000000000000000000000000000000000000000',
        deadline,
        completedAt: 0n,
        modelId,
        inputHash,
        outputHash: pad('0x', { size: 32 }),
        payment,
      })
      expect(await view.jobCount()).toBe(1n)
      expect(before - (await view.balanceOf(client.address))).toBe(payment)
      expect(await view.balanceOf(net.addresses.jobMarket)).toBe(payment)
    })

    it('rejects a job for a model nobody registered', async () => {
      const unknown = keccak256(toHex('unknown model'))
      const deadline = (await act.latestTimestamp()) + 3600n
      expect(await revertOf(act.createJob(client, { modelId: unknown, inputHash, payment, deadline }))).toEqual({
        errorName: 'UnknownModel',
        args: [unknown],
      })
    })

    it('rejects a job without payment', async () => {
      const deadline = (await act.latestTimestamp()) + 3600n
      expect(await revertOf(act.createJob(client, { modelId, inputHash, payment: 0n, deadline }))).toEqual({
        errorName: 'ZeroPayment',
        args: [],
      })
    })

    it('rejects a job whose deadline has already passed', async () => {
      const deadline = (await act.latestTimestamp()) - 1n
      expect(await revertOf(act.createJob(client, { modelId, inputHash, payment, deadline }))).toEqual({
        errorName: 'DeadlinePassed',
        args: [deadline],
      })
    })

    it('rejects a job whose payment the client has not approved', async () => {
      const deadline = (await act.latestTimestamp()) + 3600n
      await act.mint(stranger.address, payment)
      expect(await revertOf(act.createJob(stranger, { modelId, inputHash, payment, deadline }))).toEqual({
        errorName: 'ERC20InsufficientAllowance',
        args: [net.addresses.jobMarket, 0n, payment],
      })
    })
  })

  describe('assigning jobs', () => {
    it('lets an eligible provider take an open job itself', async () => {
      const jobId = await newJob()
      const hash = await act.assignJob(alice, jobId, alice.address)
      const [event] = parseEventLogs({ abi: jobMarketAbi, eventName: 'JobAssigned', logs: await logsOf(net, hash) })
      expect(event?.args).toEqual({ jobId, provider: alice.address, assignedBy: alice.address })
      expect(await view.job(jobId)).toMatchObject({ status: JobStatus.ASSIGNED, provider: alice.address })
    })

    it('lets a dispatcher assign an open job to an eligible provider', async () => {
      const jobId = await newJob()
      const hash = await act.assignJob(admin, jobId, bob.address)
      const [event] = parseEventLogs({ abi: jobMarketAbi, eventName: 'JobAssigned', logs: await logsOf(net, hash) })
      expect(event?.args).toEqual({ jobId, provider: bob.address, assignedBy: admin.address })
      expect(await view.job(jobId)).toMatchObject({ status: JobStatus.ASSIGNED, provider: bob.address })
    })

    it('rejects an assignment by anyone but the provider itself or a dispatcher', async () => {
      const jobId = await newJob()
      expect(await revertOf(act.assignJob(bob, jobId, alice.address))).toEqual({
        errorName: 'NotAuthorizedToAssign',
        args: [bob.address, alice.address],
      })
    })

    it('rejects a registered provider that has not staked', async () => {
      const jobId = await newJob()
      expect(await revertOf(act.assignJob(unstaked, jobId, unstaked.address))).toEqual({
        errorName: 'ProviderNotEligible',
        args: [unstaked.address],
      })
    })

    it('rejects a provider staked below the minimum, even when a dispatcher assigns it', async () => {
      const jobId = await newJob()
      expect(await revertOf(act.assignJob(admin, jobId, underStaked.address))).toEqual({
        errorName: 'ProviderNotEligible',
        args: [underStaked.address],
      })
    })

    it('rejects a provider whose stake is unbonding below the minimum', async () => {
      const jobId = await newJob()
      await act.requestUnstake(alice, parseEther('4500'))
      expect(await revertOf(act.assignJob(alice, jobId, alice.address))).toEqual({
        errorName: 'ProviderNotEligible',
        args: [alice.address],
      })
    })

    it.each(['ASSIGNED', 'COMPLETED', 'CANCELLED', 'EXPIRED', 'DISPUTED'] as const)(
      'rejects assigning a job that is %s',
      async (status) => {
        const jobId = await jobIn(status)
        expect(await revertOf(act.assignJob(bob, jobId, bob.address))).toEqual({
          errorName: 'WrongStatus',
          args: [jobId, JobStatus[status]],
        })
      },
    )

    it('rejects assigning an open job past its deadline', async () => {
      const jobId = await newJob()
      const { deadline } = await view.job(jobId)
      await advanceTime(net, 3601n)
      expect(await revertOf(act.assignJob(alice, jobId, alice.address))).toEqual({
        errorName: 'DeadlinePassed',
        args: [deadline],
      })
    })

    it.each([0n, 2n])('rejects assigning job %s, which does not exist', async (jobId) => {
      await newJob()
      expect(await revertOf(act.assignJob(alice, jobId, alice.address))).toEqual({
        errorName: 'UnknownJob',
        args: [jobId],
      })
    })
  })

  describe('cancelling and expiring', () => {
    it('refunds the client in full when it cancels an open job', async () => {
      const jobId = await newJob()
      const before = await view.balanceOf(client.address)
      const hash = await act.cancelJob(client, jobId)
      const [event] = parseEventLogs({ abi: jobMarketAbi, eventName: 'JobCancelled', logs: await logsOf(net, hash) })
      expect(event?.args).toEqual({ jobId, client: client.address, refund: payment })
      expect((await view.job(jobId)).status).toBe(JobStatus.CANCELLED)
      expect((await view.balanceOf(client.address)) - before).toBe(payment)
      expect(await view.balanceOf(net.addresses.jobMarket)).toBe(0n)
    })

    it('lets only the client cancel its job', async () => {
      const jobId = await newJob()
      expect(await revertOf(act.cancelJob(alice, jobId))).toEqual({
        errorName: 'NotClient',
        args: [jobId, alice.address],
      })
    })

    it('rejects cancelling a job once a provider is assigned', async () => {
      const jobId = await jobIn('ASSIGNED')
      expect(await revertOf(act.cancelJob(client, jobId))).toEqual({
        errorName: 'WrongStatus',
        args: [jobId, JobStatus.ASSIGNED],
      })
    })

    it('rejects cancelling a job twice', async () => {
      const jobId = await jobIn('CANCELLED')
      expect(await revertOf(act.cancelJob(client, jobId))).toEqual({
        errorName: 'WrongStatus',
        args: [jobId, JobStatus.CANCELLED],
      })
    })

    it('rejects expiring a job before its deadline', async () => {
      const jobId = await newJob()
      const { deadline } = await view.job(jobId)
      await advanceTime(net, 3000n)
      expect(await revertOf(act.expireJob(stranger, jobId))).toEqual({
        errorName: 'DeadlineNotReached',
        args: [deadline],
      })
    })

    it.each(['OPEN', 'ASSIGNED'] as const)(
      'lets anyone expire an %s job after its deadline, refunding the client',
      async (status) => {
        const jobId = await jobIn(status)
        await advanceTime(net, 3601n)
        const before = await view.balanceOf(client.address)
        const hash = await act.expireJob(stranger, jobId)
        const [event] = parseEventLogs({ abi: jobMarketAbi, eventName: 'JobExpired', logs: await logsOf(net, hash) })
        expect(event?.args).toEqual({ jobId, client: client.address, refund: payment })
        expect((await view.job(jobId)).status).toBe(JobStatus.EXPIRED)
        expect((await view.balanceOf(client.address)) - before).toBe(payment)
        expect(await view.balanceOf(net.addresses.jobMarket)).toBe(0n)
      },
    )

    it.each(['COMPLETED', 'CANCELLED', 'EXPIRED'] as const)('rejects expiring a job that is %s', async (status) => {
      const jobId = await jobIn(status)
      await advanceTime(net, 3601n)
      expect(await revertOf(act.expireJob(stranger, jobId))).toEqual({
        errorName: 'WrongStatus',
        args: [jobId, JobStatus[status]],
      })
    })
  })

  describe('disputes', () => {
    it('lets the client dispute a completed job within the dispute window', async () => {
      const jobId = await jobIn('COMPLETED')
      await advanceTime(net, disputeWindow - 120n)
      const hash = await act.disputeJob(client, jobId, evidence)
      const [event] = parseEventLogs({ abi: jobMarketAbi, eventName: 'JobDisputed', logs: await logsOf(net, hash) })
      expect(event?.args).toEqual({ jobId, by: client.address, evidenceHash: evidence })
      expect((await view.job(jobId)).status).toBe(JobStatus.DISPUTED)
    })

    it('rejects a client dispute after the dispute window has closed', async () => {
      const jobId = await jobIn('COMPLETED')
      const { completedAt } = await view.job(jobId)
      await advanceTime(net, disputeWindow + 60n)
      expect(await revertOf(act.disputeJob(client, jobId, evidence))).toEqual({
        errorName: 'DisputeWindowClosed',
        args: [completedAt + disputeWindow],
      })
    })

    it('lets an arbiter dispute a completed job at any time', async () => {
      const jobId = await jobIn('COMPLETED')
      await advanceTime(net, 10n * disputeWindow)
      const hash = await act.disputeJob(admin, jobId, evidence)
      const [event] = parseEventLogs({ abi: jobMarketAbi, eventName: 'JobDisputed', logs: await logsOf(net, hash) })
      expect(event?.args).toEqual({ jobId, by: admin.address, evidenceHash: evidence })
      expect((await view.job(jobId)).status).toBe(JobStatus.DISPUTED)
    })

    it('rejects a dispute by anyone but the client or an arbiter', async () => {
      const jobId = await jobIn('COMPLETED')
      expect(await revertOf(act.disputeJob(bob, jobId, evidence))).toEqual({
        errorName: 'NotClient',
        args: [jobId, bob.address],
      })
    })

    it.each(['OPEN', 'ASSIGNED', 'CANCELLED', 'EXPIRED', 'DISPUTED'] as const)(
      'rejects disputing a job that is %s',
      async (status) => {
        const jobId = await jobIn(status)
        expect(await revertOf(act.disputeJob(admin, jobId, evidence))).toEqual({
          errorName: 'WrongStatus',
          args: [jobId, JobStatus[status]],
        })
      },
    )

    it('upholding a dispute slashes the provider, refunds the client the payment and gives the rest to the pool', async () => {
      const jobId = await jobIn('DISPUTED')
      const slashAmount = parseEther('50')
      const clientBefore = await view.balanceOf(client.address)
      const poolBefore = await view.balanceOf(net.addresses.rewardPool)
      const marketBefore = await view.balanceOf(net.addresses.jobMarket)
      const stakeBefore = (await view.provider(alice.address)).stake
      const hash = await act.resolveDispute(admin, jobId, true, slashAmount)
      const logs = await logsOf(net, hash)
      const [resolved] = parseEventLogs({ abi: jobMarketAbi, eventName: 'DisputeResolved', logs })
      expect(resolved?.args).toEqual({
        jobId,
        provider: alice.address,
        providerAtFault: true,
        slashed: slashAmount,
        refund: payment,
      })
      const [slashed] = parseEventLogs({ abi: providerStakingAbi, eventName: 'Slashed', logs })
      expect(slashed?.args).toMatchObject({
        provider: alice.address,
        amount: slashAmount,
        newStake: stakeBefore - slashAmount,
        reason: pad(toHex(jobId), { size: 32 }),
        recipient: net.addresses.jobMarket,
      })
      expect((await view.balanceOf(client.address)) - clientBefore).toBe(payment)
      expect((await view.balanceOf(net.addresses.rewardPool)) - poolBefore).toBe(slashAmount - payment)
      expect(await view.balanceOf(net.addresses.jobMarket)).toBe(marketBefore)
      expect((await view.provider(alice.address)).stake).toBe(stakeBefore - slashAmount)
      expect((await view.job(jobId)).status).toBe(JobStatus.DISPUTED)
    })

    it('an upheld dispute refunds the client no more than was slashed', async () => {
      const jobId = await jobIn('DISPUTED')
      const clientBefore = await view.balanceOf(client.address)
      const poolBefore = await view.balanceOf(net.addresses.rewardPool)
      const hash = await act.resolveDispute(admin, jobId, true, parseEther('4'))
      const [resolved] = parseEventLogs({
        abi: jobMarketAbi,
        eventName: 'DisputeResolved',
        logs: await logsOf(net, hash),
      })
      expect(resolved?.args).toMatchObject({ slashed: parseEther('4'), refund: parseEther('4') })
      expect((await view.balanceOf(client.address)) - clientBefore).toBe(parseEther('4'))
      expect(await view.balanceOf(net.addresses.rewardPool)).toBe(poolBefore)
    })

    it('an upheld dispute takes what it can from a provider that already unbonded part of its stake', async () => {
      const jobId = await jobIn('DISPUTED')
      await act.requestUnstake(alice, parseEther('4990'))
      const hash = await act.resolveDispute(admin, jobId, true, parseEther('25'))
      const [resolved] = parseEventLogs({
        abi: jobMarketAbi,
        eventName: 'DisputeResolved',
        logs: await logsOf(net, hash),
      })
      expect(resolved?.args).toMatchObject({ slashed: parseEther('25'), refund: payment })
      expect(await view.provider(alice.address)).toMatchObject({ stake: 0n, pendingUnstake: parseEther('4975') })
    })

    it('upholding a dispute against a provider with nothing left to slash reverts with NothingToSlash', async () => {
      const jobId = await jobIn('DISPUTED')
      await act.slash(admin, alice.address, parseEther('5000'), pad('0x', { size: 32 }), admin.address)
      expect(await revertOf(act.resolveDispute(admin, jobId, true, 1n))).toEqual({
        errorName: 'NothingToSlash',
        args: [alice.address],
      })
    })

    it('a dispute is resolved at most once, so a client is never refunded twice', async () => {
      const jobId = await jobIn('DISPUTED')
      await act.resolveDispute(admin, jobId, true, parseEther('5'))
      expect(await revertOf(act.resolveDispute(admin, jobId, true, parseEther('5')))).toEqual({
        errorName: 'DisputeAlreadyResolved',
        args: [jobId],
      })
    })

    it('rejecting a dispute returns the job to COMPLETED and moves no tokens', async () => {
      const jobId = await jobIn('DISPUTED')
      const holders = [client.address, alice.address, net.addresses.rewardPool, net.addresses.jobMarket]
      const before = await Promise.all(holders.map((h) => view.balanceOf(h)))
      const stakeBefore = (await view.provider(alice.address)).stake
      const hash = await act.resolveDispute(admin, jobId, false, parseEther('50'))
      const [resolved] = parseEventLogs({
        abi: jobMarketAbi,
        eventName: 'DisputeResolved',
        logs: await logsOf(net, hash),
      })
      expect(resolved?.args).toEqual({
        jobId,
        provider: alice.address,
        providerAtFault: false,
        slashed: 0n,
        refund: 0n,
      })
      expect((await view.job(jobId)).status).toBe(JobStatus.COMPLETED)
      expect(await Promise.all(holders.map((h) => view.balanceOf(h)))).toEqual(before)
      expect((await view.provider(alice.address)).stake).toBe(stakeBefore)
    })

    it('lets only an arbiter resolve a dispute', async () => {
      const jobId = await jobIn('DISPUTED')
      expect(await revertOf(act.resolveDispute(client, jobId, true, payment))).toEqual({
        errorName: 'AccessControlUnauthorizedAccount',
        args: [client.address, ARBITER_ROLE],
      })
    })

    it('rejects resolving a job that is not disputed', async () => {
      const jobId = await jobIn('COMPLETED')
      expect(await revertOf(act.resolveDispute(admin, jobId, true, payment))).toEqual({
        errorName: 'WrongStatus',
        args: [jobId, JobStatus.COMPLETED],
      })
    })
  })

  describe('completion', () => {
    it('JobCompleted and the stored job agree on output, provider, completion time, payment and fee', async () => {
      const jobId = await jobIn('ASSIGNED')
      const { receipt, signature } = await act.signedReceipt(alice, {
        jobId,
        requester: client.address,
        modelId,
        requestHash: inputHash,
        price: payment,
      })
      const hash = await act.submitResult(stranger, receipt, signature)
      const [event] = parseEventLogs({ abi: jobMarketAbi, eventName: 'JobCompleted', logs: await logsOf(net, hash) })
      const fee = (payment * BigInt(net.deployment.params.feeBps)) / 10_000n
      expect(event?.args).toMatchObject({
        jobId,
        provider: alice.address,
        outputHash: receipt.outputHash,
        payment,
        fee,
      })
      expect(await view.job(jobId)).toMatchObject({
        status: JobStatus.COMPLETED,
        provider: alice.address,
        outputHash: receipt.outputHash,
        completedAt: await minedAt(net, hash),
        payment,
      })
      expect(await view.nonceUsed(alice.address, receipt.nonce)).toBe(true)
    })
  })
})
