import {
  type Account,
  type Hex,
  keccak256,
  parseEther,
  parseEventLogs,
  parseSignature,
  serializeSignature,
  sliceHex,
  toHex,
  zeroAddress,
} from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { jobMarketAbi, rewardPoolAbi } from '../generated/abis'
import {
  actions,
  advanceTime,
  JobStatus,
  type LocalNetwork,
  logsOf,
  reads,
  revertOf,
  startLocalNetwork,
} from '../src/fixture'
import { type ComputeReceipt, hashReceipt, receiptDomain, recoverReceiptSigner, signReceipt } from '../src/receipts'

// secp256k1's group order: s and n - s are both valid ECDSA, so contracts accept only the lower one.
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

describe('JobMarket.submitResult verifies the provider signed receipt', () => {
  let net: LocalNetwork
  let act: ReturnType<typeof actions>
  let view: ReturnType<typeof reads>
  let admin: Account
  let alice: Account
  let bob: Account
  let client: Account
  let relayer: Account
  let snapshot: Hex
  const modelId = keccak256(toHex('model bytes'))
  const inputHash = keccak256(toHex('request bytes'))
  const payment = parseEther('10')
  const outsider = privateKeyToAccount(generatePrivateKey())

  beforeAll(async () => {
    net = await startLocalNetwork()
    act = actions(net)
    view = reads(net)
    ;[admin, alice, bob, client, relayer] = net.accounts as [Account, Account, Account, Account, Account]
    await act.onboardProvider(alice)
    await act.onboardProvider(bob)
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

  /** A job assigned to alice, and the receipt fields that must match it. */
  async function assignedJob() {
    const now = await act.latestTimestamp()
    await act.createJob(client, { modelId, inputHash, payment, deadline: now + 3600n })
    const jobId = await view.jobCount()
    await act.assignJob(alice, jobId, alice.address)
    return { jobId, requester: client.address, modelId, requestHash: inputHash, price: payment }
  }

  const submit = (receipt: ComputeReceipt, signature: Hex) => act.submitResult(relayer, receipt, signature)

  it('pays the assigned provider net of the fee when anyone relays its receipt', async () => {
    const fields = await assignedJob()
    const { receipt, signature } = await act.signedReceipt(alice, fields)
    const before = await view.balanceOf(alice.address)
    const hash = await submit(receipt, signature)
    const fee = (payment * BigInt(net.deployment.params.feeBps)) / 10_000n
    expect((await view.balanceOf(alice.address)) - before).toBe(payment - fee)
    const [paid] = parseEventLogs({ abi: rewardPoolAbi, eventName: 'RewardPaid', logs: await logsOf(net, hash) })
    expect(paid?.args).toEqual({
      provider: alice.address,
      jobId: fields.jobId,
      amount: payment - fee,
      fee,
      epoch: 0n,
      work: payment,
    })
    expect((await view.job(fields.jobId)).status).toBe(JobStatus.COMPLETED)
  })

  it('JobCompleted carries the EIP-712 digest that the TypeScript receipts module computes', async () => {
    const fields = await assignedJob()
    const { receipt, signature } = await act.signedReceipt(alice, fields)
    const hash = await submit(receipt, signature)
    const [event] = parseEventLogs({ abi: jobMarketAbi, eventName: 'JobCompleted', logs: await logsOf(net, hash) })
    expect(event?.args.receiptDigest).toBe(hashReceipt({ domain: net.domain, receipt }))
  })

  describe('rejects a receipt signed by any key but the assigned provider', () => {
    it.each([
      ['another staked provider', () => bob],
      ['the client', () => client],
      ['the arbiter', () => admin],
      ['a key nobody registered', () => outsider],
    ])('signed by %s', async (_, signerOf) => {
      const signer = signerOf()
      const fields = await assignedJob()
      const { receipt, signature } = await act.signedReceipt(signer, { ...fields, worker: alice.address })
      expect(await revertOf(submit(receipt, signature))).toEqual({
        errorName: 'InvalidSigner',
        args: [signer.address, alice.address],
      })
      expect((await view.job(fields.jobId)).status).toBe(JobStatus.ASSIGNED)
    })
  })

  it('rejects a receipt whose job id was changed to another job with the same terms', async () => {
    const first = await assignedJob()
    const second = await assignedJob()
    const { receipt, signature } = await act.signedReceipt(alice, first)
    const moved = { ...receipt, jobId: second.jobId }
    expect(await revertOf(submit(moved, signature))).toEqual({
      errorName: 'InvalidSigner',
      args: [await recoverReceiptSigner({ domain: net.domain, receipt: moved, signature }), alice.address],
    })
    expect((await view.job(second.jobId)).status).toBe(JobStatus.ASSIGNED)
  })

  it.each([
    ['another chain id', () => receiptDomain({ chainId: 1, jobMarket: net.addresses.jobMarket })],
    ['another verifying contract', () => receiptDomain({ chainId: net.chain.id, jobMarket: net.addresses.staking })],
  ])('rejects a receipt signed for %s', async (_, domain) => {
    const fields = await assignedJob()
    const { receipt, signature } = await act.signedReceipt(alice, fields, domain())
    const recovered = await recoverReceiptSigner({ domain: net.domain, receipt, signature })
    expect(recovered).not.toBe(alice.address)
    expect(await revertOf(submit(receipt, signature))).toEqual({
      errorName: 'InvalidSigner',
      args: [recovered, alice.address],
    })
  })

  it('rejects a receipt that expired before the block', async () => {
    const fields = await assignedJob()
    const now = await act.latestTimestamp()
    const { receipt, signature } = await act.signedReceipt(alice, {
      ...fields,
      issuedAt: now - 600n,
      expiresAt: now - 1n,
    })
    expect(await revertOf(submit(receipt, signature))).toEqual({
      errorName: 'ReceiptExpired',
      args: [now - 1n],
    })
  })

  it('rejects a receipt issued further ahead of the block than the allowed clock skew', async () => {
    const fields = await assignedJob()
    const issuedAt = (await act.latestTimestamp()) + 3600n
    const { receipt, signature } = await act.signedReceipt(alice, { ...fields, issuedAt, expiresAt: issuedAt + 60n })
    expect(await revertOf(submit(receipt, signature))).toEqual({ errorName: 'ReceiptFromFuture', args: [issuedAt] })
  })

  it('accepts a receipt issued slightly ahead of the block, within the clock skew', async () => {
    const fields = await assignedJob()
    const issuedAt = (await act.latestTimestamp()) + 200n
    const { receipt, signature } = await act.signedReceipt(alice, { ...fields, issuedAt, expiresAt: issuedAt + 60n })
    await submit(receipt, signature)
    expect((await view.job(fields.jobId)).status).toBe(JobStatus.COMPLETED)
  })

  it('rejects the same receipt submitted twice', async () => {
    const fields = await assignedJob()
    const { receipt, signature } = await act.signedReceipt(alice, fields)
    await submit(receipt, signature)
    expect(await revertOf(submit(receipt, signature))).toEqual({
      errorName: 'WrongStatus',
      args: [fields.jobId, JobStatus.COMPLETED],
    })
  })

  it('rejects a nonce the provider already used on another job', async () => {
    const first = await assignedJob()
    const second = await assignedJob()
    const used = await act.signedReceipt(alice, { ...first, nonce: 7n })
    await submit(used.receipt, used.signature)
    const { receipt, signature } = await act.signedReceipt(alice, { ...second, nonce: 7n })
    expect(await revertOf(submit(receipt, signature))).toEqual({
      errorName: 'NonceUsed',
      args: [alice.address, 7n],
    })
  })

  it('lets two providers use the same nonce, since nonces are per worker', async () => {
    const first = await assignedJob()
    const now = await act.latestTimestamp()
    await act.createJob(client, { modelId, inputHash, payment, deadline: now + 3600n })
    const secondId = await view.jobCount()
    await act.assignJob(bob, secondId, bob.address)
    const a = await act.signedReceipt(alice, { ...first, nonce: 7n })
    await submit(a.receipt, a.signature)
    const b = await act.signedReceipt(bob, { ...first, jobId: secondId, nonce: 7n })
    await submit(b.receipt, b.signature)
    expect((await view.job(secondId)).status).toBe(JobStatus.COMPLETED)
  })

  it.each([
    ['worker', () => ({ worker: bob.address })],
    ['requester', () => ({ requester: relayer.address })],
    ['modelId', () => ({ modelId: keccak256(toHex('another model')) })],
    ['requestHash', () => ({ requestHash: keccak256(toHex('another request')) })],
    ['price', () => ({ price: payment - 1n })],
  ] as const)(
    'rejects a receipt whose %s does not match the job, even when the provider signed it',
    async (field, change) => {
      const fields = await assignedJob()
      const receipt: ComputeReceipt = { ...(await act.signedReceipt(alice, fields)).receipt, ...change() }
      const signature = await signReceipt({ account: alice, domain: net.domain, receipt })
      expect(await revertOf(submit(receipt, signature))).toEqual({ errorName: 'ReceiptMismatch', args: [field] })
    },
  )

  describe('rejects a malformed signature', () => {
    it.each([
      ['empty', () => '0x' as Hex],
      ['truncated to 64 bytes', (sig: Hex) => sliceHex(sig, 0, 64)],
      ['65 zero bytes', () => `0x${'00'.repeat(65)}` as Hex],
      ['with v = 29', (sig: Hex) => `${sliceHex(sig, 0, 64)}1d` as Hex],
      [
        'with the high-s twin of a valid signature',
        (sig: Hex) => {
          const { r, s, yParity } = parseSignature(sig)
          return serializeSignature({ r, s: toHex(SECP256K1_N - BigInt(s), { size: 32 }), yParity: 1 - (yParity ?? 0) })
        },
      ],
    ])('%s', async (_, malform) => {
      const fields = await assignedJob()
      const { receipt, signature } = await act.signedReceipt(alice, fields)
      expect(await revertOf(submit(receipt, malform(signature)))).toEqual({
        errorName: 'InvalidSigner',
        args: [zeroAddress, alice.address],
      })
    })
  })

  it('rejects a receipt for a job nobody is assigned to', async () => {
    const now = await act.latestTimestamp()
    await act.createJob(client, { modelId, inputHash, payment, deadline: now + 3600n })
    const jobId = await view.jobCount()
    const { receipt, signature } = await act.signedReceipt(alice, {
      jobId,
      requester: client.address,
      modelId,
      requestHash: inputHash,
      price: payment,
    })
    expect(await revertOf(submit(receipt, signature))).toEqual({
      errorName: 'WrongStatus',
      args: [jobId, JobStatus.OPEN],
    })
  })

  it('rejects an off-chain receipt (job id 0)', async () => {
    const fields = await assignedJob()
    const { receipt, signature } = await act.signedReceipt(alice, { ...fields, jobId: 0n })
    expect(await revertOf(submit(receipt, signature))).toEqual({ errorName: 'UnknownJob', args: [0n] })
  })

  it('rejects a receipt submitted after the job deadline, however long the receipt is valid', async () => {
    const fields = await assignedJob()
    const { deadline } = await view.job(fields.jobId)
    const { receipt, signature } = await act.signedReceipt(alice, { ...fields, expiresAt: deadline + 86_400n })
    await advanceTime(net, 3601n)
    expect(await revertOf(submit(receipt, signature))).toEqual({ errorName: 'DeadlinePassed', args: [deadline] })
  })

  it('rejects a receipt from a provider that unbonded below the minimum stake after assignment', async () => {
    const fields = await assignedJob()
    const { receipt, signature } = await act.signedReceipt(alice, fields)
    await act.requestUnstake(alice, parseEther('4500'))
    expect(await revertOf(submit(receipt, signature))).toEqual({
      errorName: 'ProviderNotEligible',
      args: [alice.address],
    })
  })
})
