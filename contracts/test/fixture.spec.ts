import { type Account, keccak256, parseEther, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { actions, type LocalNetwork, startLocalNetwork, withLateMiner } from '../src/fixture'

describe('fixture.send on a transaction that reverts in its block', () => {
  let net: LocalNetwork
  let late: LocalNetwork
  let provider: Account
  let client: Account
  const modelId = keccak256(toHex('fixture model'))

  beforeAll(async () => {
    net = await startLocalNetwork()
    ;[, provider, client] = net.accounts as [Account, Account, Account]
    const act = actions(net)
    await act.onboardProvider(provider)
    await act.fundClient(client)
    await act.registerModel(client, modelId)
    late = await withLateMiner(net, 600n)
  })
  afterAll(() => net?.stop())

  it('names the custom error of a call that was valid at the latest block but not at its own', async () => {
    const deadline = (await actions(net).latestTimestamp()) + 60n
    const sent = actions(late).createJob(client, { modelId, inputHash: modelId, payment: parseEther('1'), deadline })
    await expect(sent).rejects.toThrow(`DeadlinePassed(${deadline})`)
  })

  it('says when a transaction ran out of the gas estimated for an earlier block time', async () => {
    const act = actions(late)
    // Gas for requestUnstake is estimated while the unlock time it writes is unchanged, then mined later.
    await act.requestUnstake(provider, parseEther('1'))
    await expect(act.requestUnstake(provider, parseEther('1'))).rejects.toThrow(/out of gas/)
  })
})

describe('the local network client', () => {
  it('reads the head at once after a block is mined (no cached block number)', async () => {
    const net = await startLocalNetwork()
    try {
      // accounting.spec read its last block range this way and missed the two newest blocks.
      const before = await net.publicClient.getBlockNumber()
      await net.testClient.mine({ blocks: 1 })
      expect(await net.publicClient.getBlockNumber()).toBe(before + 1n)
    } finally {
      await net.stop()
    }
  })
})
