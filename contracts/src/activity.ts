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
  /**
   * Whether the activity may move the chain's clock forward to do what needs time to pass: withdraw after unbonding,
   * expire a job, finalize an epoch (default true). With false, blocks are mined no later than the chain's clock
   * would mine them anyway, and those actions are only chosen once that clock allows them.
   */
  timeTravel?: boolean
}

export interface ActivityLog {
  counts: Record<string, number>
  modelIds: Hex[]
}

/**
 * The activity's view of the chain's clock. Each transaction it sends is mined at a timestamp chosen before sending
 * (anvil's evm_setNextBlockTimestamp), so what it checked against that time (deadlines, unlock times, epoch ends)
 * and the gas estimated at it hold for the block that mines it, however late that block comes: requestUnstake,
 * for one, costs less gas when the unlock time it writes does not change, which it does not within one second.
 * Exact while the activity is the only sender; another sender's transaction between a pin and ours (the demo's
 * gateway and job loop) takes the pinned time, and ours mines a moment later at the chain's clock.
 */
function pinnedClock(net: LocalNetwork) {
  // A lower bound on how far the chain's clock is from this machine's. A block pinned in one wall-clock second and
  // mined in the next sets anvil's clock a second back; pinning no earlier than wall time plus this bound keeps such
  // slips from adding up, and never later than the time anvil would mine at anyway.
  let offset: bigint | undefined
  return {
    /** The timestamp of a block mined now: the chain's clock, never before the latest block. */
    async next(): Promise<bigint> {
      const pending = (await net.publicClient.getBlock({ blockTag: 'pending' })).timestamp
      const wall = BigInt(Math.floor(Date.now() / 1000))
      if (offset === undefined || pending - wall > offset) offset = pending - wall
      return wall + offset
    },
    /** Mines the next transaction at `timestamp`. */
    pin: (timestamp: bigint) =>
      net.testClient.setNextBlockTimestamp({ timestamp }).catch((error: Error) => {
        // anvil refuses a time before the latest block's: another sender's block came after the activity chose it.
        throw new Error(
          `cannot mine the activity's next transaction at ${timestamp}: ${error.message.split('\n')[0]}`,
          {
            cause: error,
          },
        )
      }),
  }
}

/**
 * Drives a local network like a live one: providers register, stake, unbond, withdraw and get slashed; clients post
 * jobs that are assigned, completed with signed receipts, cancelled, expired or disputed; epochs are funded,
 * finalized and claimed. Every operation is valid in the block that mines it (reverts would be a test bug): the
 * activity chooses that block's timestamp before deciding.
 */
export async function runActivity(net: LocalNetwork, o: ActivityOptions): Promise<ActivityLog> {
  const rnd = prng(o.seed)
  const act = actions(net)
  const clock = pinnedClock(net)
  const timeTravel = o.timeTravel ?? true
  const arbiter = net.accounts[0] as Account
  const counts: Record<string, number> = {}
  const count = (k: string) => {
    counts[k] = (counts[k] ?? 0) + 1
  }
  const read = <T>(address: Address, abi: unknown, functionName: string, args: unknown[] = []) =>
    net.publicClient.readContract({ address, abi, functionName, args } as never) as Promise<T>
  /** Sends one transaction, mined at `at` (the clock's next time when omitted). */
  const tx = async (send: () => Promise<Hex>, at?: bigint) => {
    await clock.pin(at ?? (await clock.next()))
    return send()
  }
  /**
   * The time to mine an action at that needs the chain's clock at `notBefore` or later: now if the clock is there,
   * `notBefore` if the activity may move the clock, otherwise undefined (the action waits for a later step).
   */
  const timeFor = async (notBefore: bigint) => {
    const now = await clock.next()
    if (now >= notBefore) return now
    return timeTravel ? notBefore : undefined
  }
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
  for (const c of clients) {
    await tx(() => act.mint(c.address, parseEther('1000000')))
    await tx(() => act.approve(c, net.addresses.jobMarket, parseEther('1000000')))
  }
  for (let i = 0; i < 3; i++) {
    const id = keccak256(toHex(`model ${o.seed} ${i}`))
    const owner = rnd.pick(clients)
    await tx(() => act.registerModel(owner, id, `ipfs://model-${i}`))
    modelIds.push(id)
  }
  await tx(() => act.mint(arbiter.address, parseEther('1000000')))
  await tx(() => act.approve(arbiter, net.addresses.rewardPool, parseEther('1000000')))

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
      await tx(() => act.mint(p.address, amount))
      await tx(() => act.approve(p, net.addresses.staking, amount))
      if (!registered.has(p.address)) {
        await tx(() => act.register(p, `ipfs://provider-${p.address.slice(2, 8)}`))
        registered.add(p.address)
        count('register')
      }
      await tx(() => act.stake(p, amount))
      count('stake')
    } else if (r < 0.17) {
      const candidates = providers.filter((p) => registered.has(p.address))
      if (candidates.length === 0) continue
      const p = rnd.pick(candidates)
      const info = await provider(p)
      if (info.stake === 0n) continue
      const amount = info.stake / BigInt(2 + rnd.int(4)) + 1n
      await tx(() => act.requestUnstake(p, amount))
      count('requestUnstake')
    } else if (r < 0.2) {
      const candidates = providers.filter((p) => registered.has(p.address))
      if (candidates.length === 0) continue
      const p = rnd.pick(candidates)
      const info = await provider(p)
      if (info.pendingUnstake === 0n) continue
      // ProviderStaking.withdraw: block.timestamp >= unlockAt.
      const at = await timeFor(info.unlockAt)
      if (at === undefined) continue
      await tx(() => act.withdraw(p), at)
      count('withdraw')
    } else if (r < 0.23) {
      const candidates = providers.filter((p) => registered.has(p.address))
      if (candidates.length === 0) continue
      const p = rnd.pick(candidates)
      const info = await provider(p)
      if (info.stake + info.pendingUnstake === 0n) continue
      const amount = parseEther(String(1 + rnd.int(300)))
      await tx(() => act.slash(arbiter, p.address, amount, keccak256(toHex(`slash ${step}`)), net.addresses.rewardPool))
      count('slash')
    } else if (r < 0.55) {
      const client = rnd.pick(clients)
      const modelId = rnd.pick(modelIds)
      const inputHash = keccak256(toHex(`input ${o.seed} ${step}`))
      const payment = parseEther(String(1 + rnd.int(50)))
      // Most jobs outlive the activity's own clock jumps (7-day unbonding, 1-day epochs) and can complete; a share
      // gets an hour or two, so expiry happens too.
      const ttl = rnd.chance(0.25) ? 3600n + BigInt(rnd.int(3600)) : 30n * 86_400n + BigInt(rnd.int(86_400))
      const kind = rnd.chance(0.2) ? 1 : 0
      const at = await clock.next()
      const deadline = at + ttl
      await tx(() => act.createJob(client, { modelId, kind, inputHash, payment, deadline }), at)
      const id = await read<bigint>(net.addresses.jobMarket, jobMarketAbi, 'jobCount')
      jobs.push({ id, client, modelId, inputHash, payment, deadline })
      count('createJob')
    } else if (r < 0.85) {
      // Move a random live job one step along its life.
      if (jobs.length === 0) continue
      const j = rnd.pick(jobs)
      const status = await jobStatus(j.id)
      if (status === 0) {
        const at = await clock.next()
        if (rnd.chance(0.1)) {
          await tx(() => act.cancelJob(j.client, j.id), at)
          count('cancelJob')
        } else if (at > j.deadline) {
          // JobMarket.expireJob: block.timestamp > deadline.
          await tx(() => act.expireJob(arbiter, j.id), at)
          count('expireJob')
        } else if (at < j.deadline) {
          // JobMarket.assignJob: block.timestamp < deadline.
          const ps = await eligible()
          if (ps.length === 0) continue
          const p = rnd.pick(ps)
          const caller = rnd.chance(0.5) ? p : arbiter
          await tx(() => act.assignJob(caller, j.id, p.address), at)
          count('assignJob')
        }
      } else if (status === 1) {
        const job = await read<{ provider: Address }>(net.addresses.jobMarket, jobMarketAbi, 'getJob', [j.id])
        const p = providers.find((x) => x.address === job.provider) as Account
        const now = await clock.next()
        if (now > j.deadline || (await provider(p)).stake < minStake) {
          // An assigned job its provider can no longer complete (deadline passed or stake gone) is expired.
          const at = await timeFor(j.deadline + 1n)
          if (at === undefined) continue
          await tx(() => act.expireJob(arbiter, j.id), at)
          count('expireJob')
          continue
        }
        // JobMarket.submitResult: block.timestamp <= deadline and <= expiresAt, issuedAt <= block.timestamp + skew.
        const { receipt, signature } = await act.signedReceipt(p, {
          jobId: j.id,
          requester: j.client.address,
          modelId: j.modelId,
          requestHash: j.inputHash,
          price: j.payment,
          issuedAt: now,
          expiresAt: now + 3600n,
          nonce: BigInt(step) * 1_000_003n + j.id,
        })
        const relayer = rnd.chance(0.5) ? p : j.client
        await tx(() => act.submitResult(relayer, receipt, signature), now)
        count('submitResult')
      } else if (status === 2 && rnd.chance(0.15)) {
        await tx(() => act.disputeJob(arbiter, j.id, keccak256(toHex(`evidence ${step}`))))
        count('disputeJob')
      } else if (status === 5 && !resolved.has(j.id)) {
        // An upheld dispute leaves the job DISPUTED for good; only the first resolution is valid.
        resolved.add(j.id)
        const atFault = rnd.chance(0.6)
        const amount = atFault ? parseEther(String(1 + rnd.int(80))) : 0n
        await tx(() => act.resolveDispute(arbiter, j.id, atFault, amount))
        count('resolveDispute')
      }
    } else if (r < 0.9) {
      const amount = parseEther(String(10 + rnd.int(500)))
      await tx(() => act.fundRewards(arbiter, amount))
      count('fundRewards')
    } else if (r < 0.95) {
      const epoch = await read<bigint>(net.addresses.rewardPool, rewardPoolAbi, 'currentEpoch')
      const e = await read<{ startedAt: bigint }>(net.addresses.rewardPool, rewardPoolAbi, 'getEpoch', [epoch])
      // RewardPool.finalizeEpoch: block.timestamp >= startedAt + epochDuration.
      const at = await timeFor(e.startedAt + BigInt(net.deployment.params.epochDuration))
      if (at === undefined) continue
      await tx(() => act.finalizeEpoch(arbiter), at)
      count('finalizeEpoch')
    } else {
      const epoch = await read<bigint>(net.addresses.rewardPool, rewardPoolAbi, 'currentEpoch')
      if (epoch === 0n) continue
      const e = BigInt(rnd.int(Number(epoch)))
      for (const p of providers) {
        const owed = await read<bigint>(net.addresses.rewardPool, rewardPoolAbi, 'pendingReward', [e, p.address])
        if (owed > 0n) {
          await tx(() => act.claim(p, e))
          count('claim')
          break
        }
      }
    }
    await o.onStep?.(step)
  }
  return { counts, modelIds }
}
