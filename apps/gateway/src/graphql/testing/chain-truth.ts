import { jobMarketAbi, providerStakingAbi, rewardPoolAbi } from '@computegraph/contracts'
import { allContractsAbi, type LocalNetwork } from '@computegraph/contracts/fixture'
import { type Address, type Hex, parseEventLogs, zeroAddress, zeroHash } from 'viem'

/** One entity as a GraphQL response shows it: BigInt as decimal strings, Bytes as lower-case hex. */
export type TruthRow = Record<string, unknown> & { id: string }

/** The entities at one block, read from the contracts (view calls at that block) and their logs, not the indexer. */
export interface Truth {
  block: bigint
  /** The truth block's timestamp, seconds: the time that decides which statistics buckets have closed. */
  timestamp: bigint
  entities: Record<string, TruthRow[]>
  /** The block of each statistics data point, by type and id: what `current: include` at a past block may see. */
  pointBlocks: Map<string, bigint>
  /** The last block at which each job changed (any JobMarket event naming it): `_change_block`'s answer. */
  jobChangedAt: Map<string, bigint>
}

const JOB_STATUSES = ['OPEN', 'ASSIGNED', 'COMPLETED', 'CANCELLED', 'EXPIRED', 'DISPUTED']
const s = (v: bigint | number) => v.toString()
const lower = (a: string) => a.toLowerCase()
const count = <T>(xs: T[], p: (x: T) => boolean) => xs.filter(p).length

type Log = {
  eventName: string
  // biome-ignore lint/suspicious/noExplicitAny: decoded args differ per event
  args: any
  blockNumber: bigint
  logIndex: number
  transactionHash: Hex
  address: Address
}

/** Reads the state of the network at `block` from the chain itself. `timestamps` caches block times across calls. */
export async function readTruth({
  net,
  block,
  timestamps = new Map(),
}: {
  net: LocalNetwork
  block: bigint
  timestamps?: Map<bigint, bigint>
}): Promise<Truth> {
  const c = net.publicClient
  const a = net.addresses
  const raw = await c.getLogs({ address: [a.staking, a.jobMarket, a.rewardPool], fromBlock: 0n, toBlock: block })
  const logs = parseEventLogs({ abi: allContractsAbi, logs: raw }) as unknown as Log[]
  const ts = async (n: bigint) => {
    let t = timestamps.get(n)
    if (t === undefined) {
      t = (await c.getBlock({ blockNumber: n })).timestamp
      timestamps.set(n, t)
    }
    return t
  }
  const read = <T>(address: Address, abi: unknown, functionName: string, args: unknown[] = [], at = block) =>
    c.readContract({ address, abi, functionName, args, blockNumber: at } as never) as Promise<T>
  const named = (name: string) => logs.filter((l) => l.eventName === name)
  const eventId = (l: Log) => `${l.transactionHash}${l.logIndex.toString(16).padStart(8, '0')}`

  const providers: TruthRow[] = []
  for (const l of named('ProviderRegistered')) {
    const id = lower(l.args.provider)
    const p = await read<{
      stake: bigint
      pendingUnstake: bigint
      unlockAt: bigint
      slashedTotal: bigint
      metadataURI: string
    }>(a.staking, providerStakingAbi, 'getProvider', [l.args.provider])
    providers.push({
      id,
      metadataURI: p.metadataURI,
      stake: s(p.stake),
      pendingUnstake: s(p.pendingUnstake),
      unlockAt: s(p.unlockAt),
      slashedTotal: s(p.slashedTotal),
      jobsAssigned: s(count(named('JobAssigned'), (x) => lower(x.args.provider) === id)),
      jobsCompleted: s(count(named('JobCompleted'), (x) => lower(x.args.provider) === id)),
      rewardsEarned: s(
        logs
          .filter(
            (x) => (x.eventName === 'RewardPaid' || x.eventName === 'RewardClaimed') && lower(x.args.provider) === id,
          )
          .reduce((acc, x) => acc + (x.args.amount as bigint), 0n),
      ),
      registeredAt: s(await ts(l.blockNumber)),
      registeredAtBlock: s(l.blockNumber),
    })
  }

  const created = new Map(named('JobCreated').map((l) => [s(l.args.jobId), l]))
  const completed = new Map(named('JobCompleted').map((l) => [s(l.args.jobId), l]))
  const jobs: TruthRow[] = []
  const jobCount = await read<bigint>(a.jobMarket, jobMarketAbi, 'jobCount')
  for (let i = 1n; i <= jobCount; i++) {
    const j = await read<{
      client: Address
      kind: number
      status: number
      provider: Address
      deadline: bigint
      completedAt: bigint
      modelId: Hex
      inputHash: Hex
      outputHash: Hex
      payment: bigint
    }>(a.jobMarket, jobMarketAbi, 'getJob', [i])
    const made = created.get(s(i)) as Log
    const done = completed.get(s(i))
    jobs.push({
      id: s(i),
      client: lower(j.client),
      model: j.modelId,
      kind: j.kind === 0 ? 'INFERENCE' : 'TRAINING',
      status: JOB_STATUSES[j.status] as string,
      provider: j.provider === zeroAddress ? null : lower(j.provider),
      payment: s(j.payment),
      fee: done ? s(done.args.fee) : null,
      inputHash: j.inputHash,
      outputHash: j.outputHash === zeroHash ? null : j.outputHash,
      deadline: s(j.deadline),
      createdAt: s(await ts(made.blockNumber)),
      createdAtBlock: s(made.blockNumber),
      completedAt: j.completedAt === 0n ? null : s(j.completedAt),
    })
  }
  const jobChangedAt = new Map<string, bigint>()
  for (const l of logs) {
    if (lower(l.address) === lower(a.jobMarket) && l.args.jobId !== undefined)
      jobChangedAt.set(s(l.args.jobId), l.blockNumber)
  }

  const models: TruthRow[] = []
  for (const l of named('ModelRegistered')) {
    const m = await read<{ owner: Address; uri: string }>(a.jobMarket, jobMarketAbi, 'getModel', [l.args.modelId])
    models.push({
      id: l.args.modelId,
      owner: lower(m.owner),
      uri: m.uri,
      jobCount: s(count(jobs, (j) => j.model === l.args.modelId)),
      registeredAt: s(await ts(l.blockNumber)),
    })
  }

  const clients = new Map<string, TruthRow>()
  for (const l of named('JobCreated')) {
    const id = lower(l.args.client)
    const row = clients.get(id) ?? { id, jobsCreated: '0', totalEscrowed: '0' }
    row.jobsCreated = s(BigInt(row.jobsCreated as string) + 1n)
    row.totalEscrowed = s(BigInt(row.totalEscrowed as string) + l.args.payment)
    clients.set(id, row)
  }

  const STAKE_TYPES: Record<string, string> = {
    Staked: 'STAKED',
    UnstakeRequested: 'UNSTAKE_REQUESTED',
    Unstaked: 'WITHDRAWN',
    Slashed: 'SLASHED',
  }
  const stakeEvents: TruthRow[] = []
  for (const l of logs.filter((x) => STAKE_TYPES[x.eventName])) {
    // anvil mines one transaction per block, so the provider's state at the event's block is the state after it.
    const after = await read<{ stake: bigint; pendingUnstake: bigint }>(
      a.staking,
      providerStakingAbi,
      'getProvider',
      [l.args.provider],
      l.blockNumber,
    )
    stakeEvents.push({
      id: eventId(l),
      provider: lower(l.args.provider),
      type: STAKE_TYPES[l.eventName] as string,
      amount: s(l.args.amount),
      stakeAfter: s(after.stake),
      pendingUnstakeAfter: s(after.pendingUnstake),
      reason: l.eventName === 'Slashed' ? l.args.reason : null,
      timestamp: s(await ts(l.blockNumber)),
      blockNumber: s(l.blockNumber),
      transactionHash: l.transactionHash,
    })
  }

  const rewards: TruthRow[] = []
  for (const l of logs.filter((x) => x.eventName === 'RewardPaid' || x.eventName === 'RewardClaimed')) {
    const paid = l.eventName === 'RewardPaid'
    rewards.push({
      id: eventId(l),
      provider: lower(l.args.provider),
      kind: paid ? 'JOB_PAYMENT' : 'EPOCH_CLAIM',
      amount: s(l.args.amount),
      fee: paid ? s(l.args.fee) : '0',
      job: paid ? s(l.args.jobId) : null,
      epoch: s(l.args.epoch),
      timestamp: s(await ts(l.blockNumber)),
      blockNumber: s(l.blockNumber),
      transactionHash: l.transactionHash,
    })
  }

  const disputes: TruthRow[] = []
  for (const l of named('JobDisputed')) {
    const id = s(l.args.jobId)
    const resolved = named('DisputeResolved').find((r) => s(r.args.jobId) === id)
    disputes.push({
      id,
      job: id,
      raisedBy: lower(l.args.by),
      evidenceHash: l.args.evidenceHash,
      status: resolved ? (resolved.args.providerAtFault ? 'UPHELD' : 'REJECTED') : 'OPEN',
      slashed: s(resolved?.args.slashed ?? 0n),
      refund: s(resolved?.args.refund ?? 0n),
      raisedAt: s(await ts(l.blockNumber)),
      resolvedAt: resolved ? s(await ts(resolved.blockNumber)) : null,
    })
  }

  const epochIds = new Set<bigint>()
  for (const l of logs) {
    if (['RewardPaid', 'RewardsFunded', 'RewardClaimed', 'EpochFinalized'].includes(l.eventName))
      epochIds.add(l.args.epoch)
    if (l.eventName === 'EpochFinalized') epochIds.add(l.args.epoch + 1n)
  }
  const epochs: TruthRow[] = []
  for (const n of [...epochIds].sort((x, y) => (x < y ? -1 : 1))) {
    const e = await read<{ rewards: bigint; totalWork: bigint; claimed: bigint; finalizedAt: bigint }>(
      a.rewardPool,
      rewardPoolAbi,
      'getEpoch',
      [n],
    )
    const sum = (name: string, arg: string) =>
      s(named(name).reduce((acc, l) => (l.args.epoch === n ? acc + (l.args[arg] as bigint) : acc), 0n))
    epochs.push({
      id: s(n),
      number: s(n),
      fees: sum('RewardPaid', 'fee'),
      funded: sum('RewardsFunded', 'amount'),
      totalWork: s(e.totalWork),
      rewards: s(e.rewards),
      claimed: s(e.claimed),
      finalized: e.finalizedAt > 0n,
      finalizedAt: e.finalizedAt > 0n ? s(e.finalizedAt) : null,
    })
  }

  const { networkPoints, providerPoints, pointBlocks } = await dataPoints({ net, logs, block, ts, providers })

  const network: TruthRow = {
    id: 'network',
    minStake: s(await read<bigint>(a.staking, providerStakingAbi, 'minStake')),
    totalStake: s(await read<bigint>(a.staking, providerStakingAbi, 'totalStaked')),
    providerCount: s(providers.length),
    modelCount: s(models.length),
    clientCount: s(clients.size),
    jobCount: s(jobCount),
    jobsCompleted: s(named('JobCompleted').length),
    jobsCancelled: s(named('JobCancelled').length),
    jobsExpired: s(named('JobExpired').length),
    jobsDisputed: s(named('JobDisputed').length),
    totalFunded: s(named('RewardsFunded').reduce((acc, l) => acc + (l.args.amount as bigint), 0n)),
    currentEpoch: s(await read<bigint>(a.rewardPool, rewardPoolAbi, 'currentEpoch')),
  }

  return {
    block,
    timestamp: await ts(block),
    pointBlocks,
    entities: {
      NetworkDataPoint: networkPoints,
      ProviderDataPoint: providerPoints,
      Provider: providers,
      Job: jobs,
      Model: models,
      Client: [...clients.values()],
      StakeEvent: stakeEvents,
      Reward: rewards,
      Dispute: disputes,
      Epoch: epochs,
      Network: [network],
    },
    jobChangedAt,
  }
}

/**
 * The statistics data points as their specification defines them, from logs and the contracts' state after each
 * block: each event that moves a statistic writes one network point (then one provider point), with graph-node's ids,
 * (block << 32) + the point's position in the block, and the block's time in microseconds.
 */
async function dataPoints({
  net,
  logs,
  block,
  ts,
  providers,
}: {
  net: LocalNetwork
  logs: Log[]
  block: bigint
  ts: (n: bigint) => Promise<bigint>
  providers: TruthRow[]
}) {
  const c = net.publicClient
  const a = net.addresses
  const minStake = (await c.readContract({
    address: a.staking,
    abi: providerStakingAbi,
    functionName: 'minStake',
    blockNumber: block,
  })) as bigint
  // The state after a block is the state after each of its events that moves a statistic: anvil mines one
  // transaction per block, and no transaction moves a stake twice.
  const after = new Map<bigint, Promise<{ totalStaked: bigint; stakes: Map<string, bigint> }>>()
  const stateAfter = (n: bigint) => {
    let state = after.get(n)
    if (!state) {
      state = (async () => {
        const totalStaked = (await c.readContract({
          address: a.staking,
          abi: providerStakingAbi,
          functionName: 'totalStaked',
          blockNumber: n,
        })) as bigint
        const stakes = new Map<string, bigint>()
        for (const p of providers) {
          if (BigInt(p.registeredAtBlock as string) > n) continue
          const info = (await c.readContract({
            address: a.staking,
            abi: providerStakingAbi,
            functionName: 'getProvider',
            args: [p.id as Address],
            blockNumber: n,
          })) as { stake: bigint }
          stakes.set(p.id, info.stake)
        }
        return { totalStaked, stakes }
      })()
      after.set(n, state)
    }
    return state
  }
  const networkPoints: TruthRow[] = []
  const providerPoints: TruthRow[] = []
  const pointBlocks = new Map<string, bigint>()
  let seqBlock = -1n
  let seq = 0n
  const nextId = (n: bigint) => {
    if (n !== seqBlock) {
      seqBlock = n
      seq = 0n
    }
    return s((n << 32n) + seq++)
  }
  const zero = { jobsCreated: '0', jobsCompleted: '0', payments: '0', fees: '0', rewardsPaid: '0', rewardsClaimed: '0' }
  for (const l of logs) {
    const network = async (values: Record<string, string>) => {
      const state = await stateAfter(l.blockNumber)
      const active = [...state.stakes.values()].filter((x) => x >= minStake).length
      const id = nextId(l.blockNumber)
      pointBlocks.set(`NetworkDataPoint ${id}`, l.blockNumber)
      networkPoints.push({
        id,
        timestamp: s((await ts(l.blockNumber)) * 1_000_000n),
        ...zero,
        ...values,
        totalStake: s(state.totalStaked),
        activeProviders: s(active),
      })
    }
    const provider = async (values: Record<string, string>) => {
      const state = await stateAfter(l.blockNumber)
      const p = lower(l.args.provider)
      const id = nextId(l.blockNumber)
      pointBlocks.set(`ProviderDataPoint ${id}`, l.blockNumber)
      providerPoints.push({
        id,
        timestamp: s((await ts(l.blockNumber)) * 1_000_000n),
        provider: p,
        jobsCompleted: '0',
        rewards: '0',
        fees: '0',
        ...values,
        stake: s(state.stakes.get(p) ?? 0n),
      })
    }
    switch (l.eventName) {
      case 'ProviderRegistered':
        if (minStake === 0n) await network({})
        break
      case 'Staked':
      case 'UnstakeRequested':
      case 'Slashed':
        await network({})
        await provider({})
        break
      case 'JobCreated':
        await network({ jobsCreated: '1' })
        break
      case 'JobCompleted':
        await network({ jobsCompleted: '1', payments: s(l.args.payment), fees: s(l.args.fee) })
        await provider({ jobsCompleted: '1' })
        break
      case 'RewardPaid':
        await network({ rewardsPaid: s(l.args.amount) })
        await provider({ rewards: s(l.args.amount), fees: s(l.args.fee) })
        break
      case 'RewardClaimed':
        await network({ rewardsClaimed: s(l.args.amount) })
        await provider({ rewards: s(l.args.amount) })
        break
    }
  }
  return { networkPoints, providerPoints, pointBlocks }
}
