import { type Account, type Address, type Hex, keccak256, parseEther, toHex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { jobMarketAbi, providerStakingAbi, rewardPoolAbi } from '../generated/abis'
import { actions, type LocalNetwork } from './fixture'

/** anvil's default mnemonic; `--accounts N` funds its first N accounts with ether. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk'

export const anvilAccount = (index: number): Account => mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index })

/** A small seeded PRNG (mulberry32), so a test's "random" activity is the same on every run. */
export function prng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T,
    chance: (p: number) => next() < p,
  }
}

export interface ActivityOptions {
  seed: number
  /** Operations to perform (each one or a few transactions). */
  steps: number
  /** anvil account indexes used as providers and clients; anvil must fund them (`accounts` option). */
  providers: number[]
  clients: number[]
  /** Called after every step, e.g. to inject a reorg or a crash at a chosen point. */
  onStep?: (step: number) => Promise<void> | void
}

export interface ActivityLog {
  counts: Record<string, number>
  modelIds: Hex[]
}

/**
 * Drives a local network like a live one: providers register, stake, unbond, withdraw and get slashed; clients post
 * jobs that are assigned, completed with signed receipts, cancelled, expired or disputed; epochs are funded,
 * finalized and claimed. Every operation is valid at the moment it is sent (reverts would be a test bug).
 */
export async function runActivity(net: LocalNetwork, o: ActivityOptions): Promise<ActivityLog> {
  const rnd = prng(o.seed)
  const act = actions(net)
  const arbiter = net.accounts[0] as Account
  const counts: Record<string, number> = {}
  const count = (k: string) => {
    counts[k] = (counts[k] ?? 0) + 1
  }
  const read = <T>(address: Address, abi: unknown, functionName: string, args: unknown[] = []) =>
    net.publicClient.readContract({ address, abi, functionName, args } as never) as Promise<T>
  const minStake = BigInt(net.deployment.params.minStake)
  const providers = o.providers.map(anvilAccount)
  const clients = o.clients.map(anvilAccount)
  const registered = new Set<Address>()
  const resolved = new Set<bigint>()
  const modelIds: Hex[] = []
  const jobs: { id: bigint; client: Account; modelId: Hex; inputHash: Hex; payment: bigint; deadline: bigint }[] = []

  const provider = async (p: Account) =>
    read<{ registered: boolean; stake: bigint; pendingUnstake: bigint; unlockAt: bigint }>(
      net.addresses.staking,
      providerStakingAbi,
      'getProvider',
      [p.address],
    )
  for (const p of providers) if ((await provider(p)).registered) registered.add(p.address)
  for (const c of clients) await act.fundClient(c, parseEther('1000000'))
  for (let i = 0; i < 3; i++) {
    const id = keccak256(toHex(`model ${o.seed} ${i}`))
    await act.registerModel(rnd.pick(clients), id, `ipfs://model-${i}`)
    modelIds.push(id)
  }
  await act.mint(arbiter.address, parseEther('1000000'))
  await act.approve(arbiter, net.addresses.rewardPool, parseEther('1000000'))

  const eligible = async () => {
    const out: Account[] = []
    for (const p of providers) if (registered.has(p.address) && (await provider(p)).stake >= minStake) out.push(p)
    return out
  }
  const jobStatus = async (id: bigint) =>
    (await read<{ status: number; provider: Address }>(net.addresses.jobMarket, jobMarketAbi, 'getJob', [id])).status

  for (let step = 0; step < o.steps; step++) {
    const r = rnd.next()
    if (r < 0.12) {
      const p = rnd.pick(providers)
      const amount = parseEther(String(500 + rnd.int(3000)))
      await act.mint(p.address, amount)
      await act.approve(p, net.addresses.staking, amount)
      if (!registered.has(p.address)) {
        await act.register(p, `ipfs://provider-${p.address.slice(2, 8)}`)
        registered.add(p.address)
        count('register')
      }
      await act.stake(p, amount)
      count('stake')
    } else if (r < 0.17) {
      const candidates = providers.filter((p) => registered.has(p.address))
      if (candidates.length === 0) continue
      const p = rnd.pick(candidates)
      const info = await provider(p)
      if (info.stake === 0n) continue
      await act.requestUnstake(p, info.stake / BigInt(2 + rnd.int(4)) + 1n)
      count('requestUnstake')
    } else if (r < 0.2) {
      const candidates = providers.filter((p) => registered.has(p.address))
      if (candidates.length === 0) continue
      const p = rnd.pick(candidates)
      const info = await provider(p)
      if (info.pendingUnstake === 0n) continue
      const now = await act.latestTimestamp()
      if (info.unlockAt > now) await net.testClient.increaseTime({ seconds: Number(info.unlockAt - now) + 1 })
      await act.withdraw(p)
      count('withdraw')
    } else if (r < 0.23) {
      const candidates = providers.filter((p) => registered.has(p.address))
      if (candidates.length === 0) continue
      const p = rnd.pick(candidates)
      const info = await provider(p)
      if (info.stake + info.pendingUnstake === 0n) continue
      await act.slash(
        arbiter,
        p.address,
        parseEther(String(1 + rnd.int(300))),
        keccak256(toHex(`slash ${step}`)),
        net.addresses.rewardPool,
      )
      count('slash')
    } else if (r < 0.55) {
      const client = rnd.pick(clients)
      const modelId = rnd.pick(modelIds)
      const inputHash = keccak256(toHex(`input ${o.seed} ${step}`))
      const payment = parseEther(String(1 + rnd.int(50)))
      // Most jobs outlive the activity's own clock jumps (7-day unbonding, 1-day epochs) and can complete; a share
      // gets an hour or two, so expiry happens too.
      const ttl = rnd.chance(0.25) ? 3600n + BigInt(rnd.int(3600)) : 30n * 86_400n + BigInt(rnd.int(86_400))
      const deadline = (await act.latestTimestamp()) + ttl
      await act.createJob(client, { modelId, kind: rnd.chance(0.2) ? 1 : 0, inputHash, payment, deadline })
      const id = await read<bigint>(net.addresses.jobMarket, jobMarketAbi, 'jobCount')
      jobs.push({ id, client, modelId, inputHash, payment, deadline })
      count('createJob')
    } else if (r < 0.85) {
      // Move a random live job one step along its life.
      if (jobs.length === 0) continue
      const j = rnd.pick(jobs)
      const status = await jobStatus(j.id)
      if (status === 0) {
        const now = await act.latestTimestamp()
        if (rnd.chance(0.1)) {
          await act.cancelJob(j.client, j.id)
          count('cancelJob')
        } else if (now >= j.deadline) {
          await act.expireJob(arbiter, j.id)
          count('expireJob')
        } else {
          const ps = await eligible()
          if (ps.length === 0) continue
          const p = rnd.pick(ps)
          await act.assignJob(rnd.chance(0.5) ? p : arbiter, j.id, p.address)
          count('assignJob')
        }
      } else if (status === 1) {
        const job = await read<{ provider: Address }>(net.addresses.jobMarket, jobMarketAbi, 'getJob', [j.id])
        const p = providers.find((x) => x.address === job.provider) as Account
        const now = await act.latestTimestamp()
        if (now > j.deadline || (await provider(p)).stake < minStake) {
          if (now <= j.deadline) await net.testClient.increaseTime({ seconds: Number(j.deadline - now) + 1 })
          await act.expireJob(arbiter, j.id)
          count('expireJob')
          continue
        }
        const { receipt, signature } = await act.signedReceipt(p, {
          jobId: j.id,
          requester: j.client.address,
          modelId: j.modelId,
          requestHash: j.inputHash,
          price: j.payment,
          nonce: BigInt(step) * 1_000_003n + j.id,
        })
        await act.submitResult(rnd.chance(0.5) ? p : j.client, receipt, signature)
        count('submitResult')
      } else if (status === 2 && rnd.chance(0.15)) {
        await act.disputeJob(arbiter, j.id, keccak256(toHex(`evidence ${step}`)))
        count('disputeJob')
      } else if (status === 5 && !resolved.has(j.id)) {
        // An upheld dispute leaves the job DISPUTED for good; only the first resolution is valid.
        resolved.add(j.id)
        const atFault = rnd.chance(0.6)
        await act.resolveDispute(arbiter, j.id, atFault, atFault ? parseEther(String(1 + rnd.int(80))) : 0n)
        count('resolveDispute')
      }
    } else if (r < 0.9) {
      await act.fundRewards(arbiter, parseEther(String(10 + rnd.int(500))))
      count('fundRewards')
    } else if (r < 0.95) {
      const epoch = await read<bigint>(net.addresses.rewardPool, rewardPoolAbi, 'currentEpoch')
      const e = await read<{ startedAt: bigint }>(net.addresses.rewardPool, rewardPoolAbi, 'getEpoch', [epoch])
      const endsAt = e.startedAt + BigInt(net.deployment.params.epochDuration)
      const now = await act.latestTimestamp()
      if (now < endsAt) await net.testClient.increaseTime({ seconds: Number(endsAt - now) + 1 })
      await act.finalizeEpoch(arbiter)
      count('finalizeEpoch')
    } else {
      const epoch = await read<bigint>(net.addresses.rewardPool, rewardPoolAbi, 'currentEpoch')
      if (epoch === 0n) continue
      const e = BigInt(rnd.int(Number(epoch)))
      for (const p of providers) {
        const owed = await read<bigint>(net.addresses.rewardPool, rewardPoolAbi, 'pendingReward', [e, p.address])
        if (owed > 0n) {
          await act.claim(p, e)
          count('claim')
          break
        }
      }
    }
    await o.onStep?.(step)
  }
  return { counts, modelIds }
}
