import { keccak256, parseEther, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeTokenAbi, jobMarketAbi } from '../generated/abis'
import { actions, type LocalNetwork, startLocalNetwork } from '../src/fixture'

describe('a job from creation to payment', () => {
  let net: LocalNetwork
  beforeAll(async () => {
    net = await startLocalNetwork()
  })
  afterAll(() => net?.stop())

  it('pays the provider net of the fee once its signed receipt verifies on-chain', async () => {
    const act = actions(net)
    const [, provider, client] = net.accounts as [never, (typeof net.accounts)[0], (typeof net.accounts)[0]]
    await act.onboardProvider(provider)
    await act.fundClient(client)
    const modelId = keccak256(toHex('model bytes'))
    await act.registerModel(client, modelId)
    const inputHash = keccak256(toHex('request bytes'))
    const payment = parseEther('10')
    const now = await act.latestTimestamp()
    await act.createJob(client, { modelId, inputHash, payment, deadline: now + 3600n })
    await act.assignJob(provider, 1n, provider.address)
    const { receipt, signature } = await act.signedReceipt(provider, {
      jobId: 1n,
      requester: client.address,
      modelId,
      requestHash: inputHash,
      price: payment,
    })
    const before = await net.publicClient.readContract({
      address: net.addresses.token,
      abi: computeTokenAbi,
      functionName: 'balanceOf',
      args: [provider.address],
    })
    await act.submitResult(client, receipt, signature)
    const after = await net.publicClient.readContract({
      address: net.addresses.token,
      abi: computeTokenAbi,
      functionName: 'balanceOf',
      args: [provider.address],
    })
    expect(after - before).toBe(payment - (payment * 500n) / 10_000n)
    const job = await net.publicClient.readContract({
      address: net.addresses.jobMarket,
      abi: jobMarketAbi,
      functionName: 'getJob',
      args: [1n],
    })
    expect(job.status).toBe(2)
    expect(job.outputHash).toBe(receipt.outputHash)
  })
})
