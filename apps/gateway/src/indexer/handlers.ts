import type { EntityStore, Row } from './entity-store'
import type { ChainEvent } from './events'

/** Network-wide constants handlers need that events do not carry. */
export interface HandlerEnv {
  minStake: bigint
}

// Decoded arguments differ per event; each handler reads the ones its event declares in the ABI.
// biome-ignore lint/suspicious/noExplicitAny: typed by the ABI, not by TypeScript, at this point
type Args = Record<string, any>
type Key = [entity: string, id: string]
interface Handler {
  /** Entities the handler reads, so the sync loop can load them all in one query per table first. */
  keys(a: Args): Key[]
  /** Entities reached through loaded ones (a job's client), prefetched in a second pass. */
  deps?(a: Args, peek: Peek): Key[]
  run(ctx: Ctx, a: Args): void
}
type Peek = (entity: string, id: string) => Row | undefined

export const NETWORK_ID = 'network'

/**
 * Hands out timeseries ids as graph-node does: the block number in the upper 32 bits and a sequence within the block
 * below, so ids increase in write order (which `first` and `last` aggregates follow) and never depend on batching.
 */
export class DataPointIds {
  private block = -1n
  private seq = 0n

  next(block: bigint): string {
    if (block !== this.block) {
      this.block = block
      this.seq = 0n
    }
    return ((block << 32n) + this.seq++).toString()
  }
}

/** Timestamp values are microseconds since the epoch; block times are seconds. */
export const MICROS = 1_000_000n
const JOB_KINDS = ['INFERENCE', 'TRAINING'] as const

class Ctx {
  constructor(
    readonly store: EntityStore,
    readonly event: ChainEvent,
    readonly env: HandlerEnv,
    readonly ids: DataPointIds,
    readonly bucketTime: bigint,
  ) {}
  get block() {
    return this.event.blockNumber
  }
  get ts() {
    return this.event.timestamp
  }
  /** tx hash + log index, the id of immutable per-event entities (as the subgraph forms it). */
  get eventId() {
    return `${this.event.transactionHash}${this.event.logIndex.toString(16).padStart(8, '0')}`
  }
  get(entity: string, id: string) {
    return this.store.get(entity, id)
  }
  must(entity: string, id: string): Row {
    const row = this.store.get(entity, id)
    if (!row) {
      throw new Error(`${this.event.name} at block ${this.block} log ${this.event.logIndex}: ${entity} ${id} missing`)
    }
    return row
  }
  save(entity: string, row: Row) {
    this.store.set(entity, row, this.block)
  }
  /**
   * Appends a data point to a timeseries; its id and timestamp are set here, as graph-node sets them, the timestamp
   * from the bucket clock rather than the block's own time (see bucketClock).
   */
  dataPoint(entity: string, values: Record<string, unknown>) {
    const timestamp = this.bucketTime * MICROS
    this.store.set(entity, { ...values, id: this.ids.next(this.block), timestamp }, this.block)
  }
  network(): Row {
    return (
      this.get('Network', NETWORK_ID) ?? {
        id: NETWORK_ID,
        minStake: this.env.minStake,
        totalStake: 0n,
        totalPendingUnstake: 0n,
        totalSlashed: 0n,
        providerCount: 0n,
        activeProviderCount: 0n,
        modelCount: 0n,
        clientCount: 0n,
        jobCount: 0n,
        jobsCompleted: 0n,
        jobsCancelled: 0n,
        jobsExpired: 0n,
        jobsDisputed: 0n,
        totalPayments: 0n,
        totalFees: 0n,
        totalRefunds: 0n,
        totalRewardsClaimed: 0n,
        totalFunded: 0n,
        currentEpoch: 0n,
      }
    )
  }
  epoch(n: bigint): Row {
    return (
      this.get('Epoch', n.toString()) ?? {
        id: n.toString(),
        number: n,
        fees: 0n,
        funded: 0n,
        totalWork: 0n,
        rewards: 0n,
        claimed: 0n,
        finalized: false,
        startedAt: null,
        finalizedAt: null,
      }
    )
  }
}

const net: Key = ['Network', NETWORK_ID]
const job = (a: Args): Key => ['Job', a.jobId.toString()]
const jobClient = (a: Args, peek: Peek): Key[] => {
  const j = peek('Job', a.jobId.toString())
  return j ? [['Client', j.client as string]] : []
}
const jobProvider = (a: Args, peek: Peek): Key[] => {
  const j = peek('Job', a.jobId.toString())
  return j?.provider ? [['Provider', j.provider as string]] : []
}

/** Applies a stake change to the provider and the network's totals, keeping the active-provider count. */
function stakeChange(ctx: Ctx, provider: Row, stake: bigint, pending: bigint, totalStaked: bigint) {
  const n = ctx.network()
  const min = n.minStake as bigint
  const wasActive = (provider.stake as bigint) >= min
  const isActive = stake >= min
  n.totalPendingUnstake = (n.totalPendingUnstake as bigint) + pending - (provider.pendingUnstake as bigint)
  n.totalStake = totalStaked
  if (wasActive !== isActive) n.activeProviderCount = (n.activeProviderCount as bigint) + (isActive ? 1n : -1n)
  provider.stake = stake
  provider.pendingUnstake = pending
  ctx.save('Network', n)
}

const NO_NETWORK_CHANGE = {
  jobsCreated: 0n,
  jobsCompleted: 0n,
  payments: 0n,
  fees: 0n,
  rewardsPaid: 0n,
  rewardsClaimed: 0n,
}

/** Records what the event adds to the network's statistics and the totals it leaves (NetworkDataPoint). */
function networkPoint(ctx: Ctx, delta: Partial<typeof NO_NETWORK_CHANGE> = {}) {
  const n = ctx.network()
  ctx.dataPoint('NetworkDataPoint', {
    ...NO_NETWORK_CHANGE,
    ...delta,
    totalStake: n.totalStake,
    activeProviders: n.activeProviderCount,
  })
}

/** Records what the event adds to a provider's statistics and its stake after it (ProviderDataPoint). */
function providerPoint(ctx: Ctx, provider: Row, delta: { jobsCompleted?: bigint; rewards?: bigint; fees?: bigint }) {
  ctx.dataPoint('ProviderDataPoint', {
    provider: provider.id,
    jobsCompleted: 0n,
    rewards: 0n,
    fees: 0n,
    ...delta,
    stake: provider.stake,
  })
}

/** A stake change moves the network's total stake and maybe its active providers, and the provider's stake. */
function stakePoints(ctx: Ctx, provider: Row) {
  networkPoint(ctx)
  providerPoint(ctx, provider, {})
}

function stakeEvent(ctx: Ctx, provider: Row, type: string, amount: bigint, reason: string | null) {
  ctx.save('StakeEvent', {
    id: ctx.eventId,
    provider: provider.id,
    type,
    amount,
    stakeAfter: provider.stake,
    pendingUnstakeAfter: provider.pendingUnstake,
    reason,
    timestamp: ctx.ts,
    blockNumber: ctx.block,
    transactionHash: ctx.event.transactionHash,
  })
}

const HANDLERS: Record<string, Handler> = {
  ProviderRegistered: {
    keys: (a) => [['Provider', a.provider], net],
    run(ctx, a) {
      ctx.save('Provider', {
        id: a.provider,
        metadataURI: a.metadataURI,
        stake: 0n,
        pendingUnstake: 0n,
        unlockAt: 0n,
        slashedTotal: 0n,
        jobsAssigned: 0n,
        jobsCompleted: 0n,
        jobsFailed: 0n,
        rewardsEarned: 0n,
        registeredAt: ctx.ts,
        registeredAtBlock: ctx.block,
      })
      const n = ctx.network()
      n.providerCount = (n.providerCount as bigint) + 1n
      // A zero minimum stake makes a provider active the moment it registers.
      if ((n.minStake as bigint) === 0n) n.activeProviderCount = (n.activeProviderCount as bigint) + 1n
      ctx.save('Network', n)
      if ((n.minStake as bigint) === 0n) networkPoint(ctx)
    },
  },
  ProviderUpdated: {
    keys: (a) => [['Provider', a.provider]],
    run(ctx, a) {
      const p = ctx.must('Provider', a.provider)
      p.metadataURI = a.metadataURI
      ctx.save('Provider', p)
    },
  },
  Staked: {
    keys: (a) => [['Provider', a.provider], net],
    run(ctx, a) {
      const p = ctx.must('Provider', a.provider)
      stakeChange(ctx, p, a.newStake, p.pendingUnstake as bigint, a.totalStaked)
      ctx.save('Provider', p)
      stakeEvent(ctx, p, 'STAKED', a.amount, null)
      stakePoints(ctx, p)
    },
  },
  UnstakeRequested: {
    keys: (a) => [['Provider', a.provider], net],
    run(ctx, a) {
      const p = ctx.must('Provider', a.provider)
      stakeChange(ctx, p, a.newStake, a.pendingUnstake, a.totalStaked)
      p.unlockAt = BigInt(a.unlockAt)
      ctx.save('Provider', p)
      stakeEvent(ctx, p, 'UNSTAKE_REQUESTED', a.amount, null)
      stakePoints(ctx, p)
    },
  },
  Unstaked: {
    keys: (a) => [['Provider', a.provider], net],
    run(ctx, a) {
      const p = ctx.must('Provider', a.provider)
      const n = ctx.network()
      n.totalPendingUnstake = (n.totalPendingUnstake as bigint) - (p.pendingUnstake as bigint)
      ctx.save('Network', n)
      p.pendingUnstake = 0n
      p.unlockAt = 0n
      ctx.save('Provider', p)
      stakeEvent(ctx, p, 'WITHDRAWN', a.amount, null)
    },
  },
  Slashed: {
    keys: (a) => [['Provider', a.provider], net],
    run(ctx, a) {
      const p = ctx.must('Provider', a.provider)
      stakeChange(ctx, p, a.newStake, a.pendingUnstake, a.totalStaked)
      p.slashedTotal = a.slashedTotal
      ctx.save('Provider', p)
      const n = ctx.network()
      n.totalSlashed = (n.totalSlashed as bigint) + a.amount
      ctx.save('Network', n)
      stakeEvent(ctx, p, 'SLASHED', a.amount, a.reason)
      stakePoints(ctx, p)
    },
  },
  ModelRegistered: {
    keys: (a) => [['Model', a.modelId], net],
    run(ctx, a) {
      ctx.save('Model', { id: a.modelId, owner: a.owner, uri: a.uri, jobCount: 0n, registeredAt: ctx.ts })
      const n = ctx.network()
      n.modelCount = (n.modelCount as bigint) + 1n
      ctx.save('Network', n)
    },
  },
  JobCreated: {
    keys: (a) => [job(a), ['Client', a.client], ['Model', a.modelId], net],
    run(ctx, a) {
      const n = ctx.network()
      const client = ctx.get('Client', a.client) ?? {
        id: a.client,
        jobsCreated: 0n,
        totalEscrowed: 0n,
        totalPaid: 0n,
        totalRefunded: 0n,
      }
      if (client.jobsCreated === 0n) n.clientCount = (n.clientCount as bigint) + 1n
      client.jobsCreated = (client.jobsCreated as bigint) + 1n
      client.totalEscrowed = (client.totalEscrowed as bigint) + a.payment
      ctx.save('Client', client)
      const model = ctx.must('Model', a.modelId)
      model.jobCount = (model.jobCount as bigint) + 1n
      ctx.save('Model', model)
      n.jobCount = (n.jobCount as bigint) + 1n
      ctx.save('Network', n)
      ctx.save('Job', {
        id: a.jobId.toString(),
        client: a.client,
        model: a.modelId,
        kind: JOB_KINDS[a.kind] ?? 'INFERENCE',
        status: 'OPEN',
        provider: null,
        payment: a.payment,
        fee: null,
        refund: null,
        inputHash: a.inputHash,
        outputHash: null,
        receiptDigest: null,
        deadline: BigInt(a.deadline),
        createdAt: ctx.ts,
        createdAtBlock: ctx.block,
        assignedAt: null,
        completedAt: null,
        updatedAt: ctx.ts,
      })
      networkPoint(ctx, { jobsCreated: 1n })
    },
  },
  JobAssigned: {
    keys: (a) => [job(a), ['Provider', a.provider]],
    run(ctx, a) {
      const j = ctx.must('Job', a.jobId.toString())
      j.status = 'ASSIGNED'
      j.provider = a.provider
      j.assignedAt = ctx.ts
      j.updatedAt = ctx.ts
      ctx.save('Job', j)
      const p = ctx.must('Provider', a.provider)
      p.jobsAssigned = (p.jobsAssigned as bigint) + 1n
      ctx.save('Provider', p)
    },
  },
  JobCompleted: {
    keys: (a) => [job(a), ['Provider', a.provider], net],
    deps: jobClient,
    run(ctx, a) {
      const j = ctx.must('Job', a.jobId.toString())
      j.status = 'COMPLETED'
      j.outputHash = a.outputHash
      j.receiptDigest = a.receiptDigest
      j.fee = a.fee
      j.completedAt = ctx.ts
      j.updatedAt = ctx.ts
      ctx.save('Job', j)
      const p = ctx.must('Provider', a.provider)
      p.jobsCompleted = (p.jobsCompleted as bigint) + 1n
      ctx.save('Provider', p)
      const c = ctx.must('Client', j.client as string)
      c.totalPaid = (c.totalPaid as bigint) + a.payment
      ctx.save('Client', c)
      const n = ctx.network()
      n.jobsCompleted = (n.jobsCompleted as bigint) + 1n
      n.totalPayments = (n.totalPayments as bigint) + a.payment
      n.totalFees = (n.totalFees as bigint) + a.fee
      ctx.save('Network', n)
      networkPoint(ctx, { jobsCompleted: 1n, payments: a.payment, fees: a.fee })
      providerPoint(ctx, p, { jobsCompleted: 1n })
    },
  },
  JobCancelled: {
    keys: (a) => [job(a), ['Client', a.client], net],
    run(ctx, a) {
      refundJob(ctx, a, 'CANCELLED', 'jobsCancelled')
    },
  },
  JobExpired: {
    keys: (a) => [job(a), ['Client', a.client], net],
    deps: jobProvider,
    run(ctx, a) {
      const j = refundJob(ctx, a, 'EXPIRED', 'jobsExpired')
      if (j.provider) {
        const p = ctx.must('Provider', j.provider as string)
        p.jobsFailed = (p.jobsFailed as bigint) + 1n
        ctx.save('Provider', p)
      }
    },
  },
  JobDisputed: {
    keys: (a) => [job(a), ['Dispute', a.jobId.toString()], net],
    run(ctx, a) {
      const j = ctx.must('Job', a.jobId.toString())
      j.status = 'DISPUTED'
      j.updatedAt = ctx.ts
      ctx.save('Job', j)
      ctx.save('Dispute', {
        id: a.jobId.toString(),
        job: a.jobId.toString(),
        raisedBy: a.by,
        evidenceHash: a.evidenceHash,
        status: 'OPEN',
        slashed: 0n,
        refund: 0n,
        raisedAt: ctx.ts,
        resolvedAt: null,
      })
      const n = ctx.network()
      n.jobsDisputed = (n.jobsDisputed as bigint) + 1n
      ctx.save('Network', n)
    },
  },
  DisputeResolved: {
    keys: (a) => [job(a), ['Dispute', a.jobId.toString()], ['Provider', a.provider], net],
    deps: jobClient,
    run(ctx, a) {
      const id = a.jobId.toString()
      const j = ctx.must('Job', id)
      const d = ctx.must('Dispute', id)
      d.status = a.providerAtFault ? 'UPHELD' : 'REJECTED'
      d.slashed = a.slashed
      d.refund = a.refund
      d.resolvedAt = ctx.ts
      ctx.save('Dispute', d)
      if (a.providerAtFault) {
        j.refund = a.refund
        const p = ctx.must('Provider', a.provider)
        p.jobsFailed = (p.jobsFailed as bigint) + 1n
        ctx.save('Provider', p)
        const c = ctx.must('Client', j.client as string)
        c.totalRefunded = (c.totalRefunded as bigint) + a.refund
        ctx.save('Client', c)
        const n = ctx.network()
        n.totalRefunds = (n.totalRefunds as bigint) + a.refund
        ctx.save('Network', n)
      } else {
        j.status = 'COMPLETED'
      }
      j.updatedAt = ctx.ts
      ctx.save('Job', j)
    },
  },
  RewardPaid: {
    keys: (a) => [['Provider', a.provider], ['Epoch', a.epoch.toString()], net],
    run(ctx, a) {
      const p = ctx.must('Provider', a.provider)
      p.rewardsEarned = (p.rewardsEarned as bigint) + a.amount
      ctx.save('Provider', p)
      const e = ctx.epoch(a.epoch)
      e.fees = (e.fees as bigint) + a.fee
      e.totalWork = (e.totalWork as bigint) + a.amount + a.fee
      ctx.save('Epoch', e)
      ctx.save('Reward', {
        id: ctx.eventId,
        provider: a.provider,
        kind: 'JOB_PAYMENT',
        amount: a.amount,
        fee: a.fee,
        job: a.jobId.toString(),
        epoch: a.epoch.toString(),
        timestamp: ctx.ts,
        blockNumber: ctx.block,
        transactionHash: ctx.event.transactionHash,
      })
      networkPoint(ctx, { rewardsPaid: a.amount })
      providerPoint(ctx, p, { rewards: a.amount, fees: a.fee })
    },
  },
  RewardsFunded: {
    keys: (a) => [['Epoch', a.epoch.toString()], net],
    run(ctx, a) {
      const e = ctx.epoch(a.epoch)
      e.funded = (e.funded as bigint) + a.amount
      ctx.save('Epoch', e)
      const n = ctx.network()
      n.totalFunded = (n.totalFunded as bigint) + a.amount
      ctx.save('Network', n)
    },
  },
  EpochFinalized: {
    keys: (a) => [['Epoch', a.epoch.toString()], ['Epoch', (a.epoch + 1n).toString()], net],
    run(ctx, a) {
      const e = ctx.epoch(a.epoch)
      e.rewards = a.rewards
      e.totalWork = a.totalWork
      e.startedAt = BigInt(a.startedAt)
      e.finalizedAt = BigInt(a.finalizedAt)
      e.finalized = true
      ctx.save('Epoch', e)
      const next = ctx.epoch(a.epoch + 1n)
      next.startedAt = BigInt(a.finalizedAt)
      ctx.save('Epoch', next)
      const n = ctx.network()
      n.currentEpoch = a.epoch + 1n
      ctx.save('Network', n)
    },
  },
  RewardClaimed: {
    keys: (a) => [['Provider', a.provider], ['Epoch', a.epoch.toString()], net],
    run(ctx, a) {
      const p = ctx.must('Provider', a.provider)
      p.rewardsEarned = (p.rewardsEarned as bigint) + a.amount
      ctx.save('Provider', p)
      const e = ctx.epoch(a.epoch)
      e.claimed = (e.claimed as bigint) + a.amount
      ctx.save('Epoch', e)
      const n = ctx.network()
      n.totalRewardsClaimed = (n.totalRewardsClaimed as bigint) + a.amount
      ctx.save('Network', n)
      ctx.save('Reward', {
        id: ctx.eventId,
        provider: a.provider,
        kind: 'EPOCH_CLAIM',
        amount: a.amount,
        fee: 0n,
        job: null,
        epoch: a.epoch.toString(),
        timestamp: ctx.ts,
        blockNumber: ctx.block,
        transactionHash: ctx.event.transactionHash,
      })
      networkPoint(ctx, { rewardsClaimed: a.amount })
      providerPoint(ctx, p, { rewards: a.amount })
    },
  },
}

function refundJob(ctx: Ctx, a: Args, status: string, counter: string): Row {
  const j = ctx.must('Job', a.jobId.toString())
  j.status = status
  j.refund = a.refund
  j.updatedAt = ctx.ts
  ctx.save('Job', j)
  const c = ctx.must('Client', a.client)
  c.totalRefunded = (c.totalRefunded as bigint) + a.refund
  ctx.save('Client', c)
  const n = ctx.network()
  n[counter] = (n[counter] as bigint) + 1n
  n.totalRefunds = (n.totalRefunds as bigint) + a.refund
  ctx.save('Network', n)
  return j
}

/** The entities an event's handler may read; events without a handler read none. */
export function entityKeys(event: ChainEvent): Key[] {
  return HANDLERS[event.name]?.keys(event.args) ?? []
}

/** Entities an event's handler reaches through others; call once the `entityKeys` are loaded. */
export function dependentKeys(event: ChainEvent, peek: Peek): Key[] {
  return HANDLERS[event.name]?.deps?.(event.args, peek) ?? []
}

/** Applies one event to the store. Events without a handler (e.g. JobMarketSet) only go to the event table. */
export function applyEvent({
  store,
  event,
  env,
  ids,
  bucketTime,
}: {
  store: EntityStore
  event: ChainEvent
  env: HandlerEnv
  ids: DataPointIds
  /** The time the event's data points count at in statistics buckets (rollup.ts's bucketClock at its block). */
  bucketTime: bigint
}): void {
  HANDLERS[event.name]?.run(new Ctx(store, event, env, ids, bucketTime), event.args)
}
