import { describe, expect, it } from 'vitest'
import { runActivity } from '../src/activity'
import { type LocalNetwork, startLocalNetwork, withLateMiner } from '../src/fixture'

const PROVIDERS = [1, 2, 3, 4]
const CLIENTS = [5, 6, 7]

async function withNetwork(run: (net: LocalNetwork) => Promise<void>) {
  const net = await startLocalNetwork({ anvil: { accounts: 8 } })
  try {
    await run(net)
  } finally {
    await net.stop()
  }
}

describe('seeded activity', () => {
  it('stays valid when each transaction is mined a second after the block it was decided on', () =>
    withNetwork(async (net) => {
      // The CI flake: a requestUnstake estimated in the second of the same provider's previous request (its unlock
      // time unchanged: a cheap storage write) and mined in the next second ran out of gas. Seed 19 with two
      // providers requests twice in a row, so the old activity hits it at block 28.
      const log = await runActivity(await withLateMiner(net, 1n), {
        seed: 19,
        steps: 120,
        providers: [1, 2],
        clients: CLIENTS,
      })
      expect(log.counts.requestUnstake).toBeGreaterThan(1)
      expect(log.counts.submitResult).toBeGreaterThan(0)
    }))

  it('stays valid when each transaction is mined hours after the block it was decided on', () =>
    withNetwork(async (net) => {
      // Past the shortest job lifetime (one hour): a deadline checked against the latest block would have passed.
      const log = await runActivity(await withLateMiner(net, 2n * 3600n), {
        seed: 5,
        steps: 80,
        providers: PROVIDERS,
        clients: CLIENTS,
      })
      expect(log.counts.createJob).toBeGreaterThan(10)
      expect(log.counts.assignJob).toBeGreaterThan(0)
      expect(log.counts.submitResult).toBeGreaterThan(0)
    }))

  it('with timeTravel false, mines no block later than wall-clock time and still runs jobs', () =>
    withNetwork(async (net) => {
      const log = await runActivity(net, {
        seed: 9,
        steps: 150,
        providers: PROVIDERS,
        clients: CLIENTS,
        timeTravel: false,
      })
      const latest = await net.publicClient.getBlock({ blockTag: 'latest' })
      expect(latest.timestamp).toBeLessThanOrEqual(BigInt(Math.floor(Date.now() / 1000)))
      // Unbonding (7 days) and epochs (1 day) cannot end during the run, so nothing waited for them.
      expect(log.counts.requestUnstake).toBeGreaterThan(0)
      expect(log.counts.withdraw).toBeUndefined()
      expect(log.counts.finalizeEpoch).toBeUndefined()
      expect(log.counts.submitResult).toBeGreaterThan(0)
    }))
})
