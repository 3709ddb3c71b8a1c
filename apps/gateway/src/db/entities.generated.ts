// Generated from subgraph/schema.graphql by apps/gateway/scripts/generate-entities.ts. Do not edit.
import { sql } from 'drizzle-orm'
import { bigint, bigserial, boolean, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { uint256 } from './columns'

const int8 = (name: string) => bigint(name, { mode: 'bigint' })

export const providerTable = pgTable(
  'provider',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: text('id').notNull(),
    metadataURI: text('metadata_uri').notNull(),
    stake: uint256('stake').notNull(),
    pendingUnstake: uint256('pending_unstake').notNull(),
    unlockAt: uint256('unlock_at').notNull(),
    slashedTotal: uint256('slashed_total').notNull(),
    jobsAssigned: uint256('jobs_assigned').notNull(),
    jobsCompleted: uint256('jobs_completed').notNull(),
    jobsFailed: uint256('jobs_failed').notNull(),
    rewardsEarned: uint256('rewards_earned').notNull(),
    registeredAt: uint256('registered_at').notNull(),
    registeredAtBlock: uint256('registered_at_block').notNull(),
    blockFrom: int8('block_from').notNull(),
    /** Null while this is the current version. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('provider_current').on(t.id).where(sql`${t.blockTo} is null`),
    index('provider_id_block_to').on(t.id, t.blockTo).where(sql`${t.blockTo} is not null`),
    index('provider_block_from').using('brin', t.blockFrom),
    index('provider_block_to').using('brin', t.blockTo),
  ],
)

export const stakeEventTable = pgTable(
  'stake_event',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: text('id').notNull(),
    provider: text('provider').notNull(),
    type: text('type').notNull(),
    amount: uint256('amount').notNull(),
    stakeAfter: uint256('stake_after').notNull(),
    pendingUnstakeAfter: uint256('pending_unstake_after').notNull(),
    reason: text('reason'),
    timestamp: uint256('timestamp').notNull(),
    blockNumber: uint256('block_number').notNull(),
    transactionHash: text('transaction_hash').notNull(),
    blockFrom: int8('block_from').notNull(),
    /** Null while this is the current version. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('stake_event_current').on(t.id).where(sql`${t.blockTo} is null`),
    index('stake_event_block_from').using('brin', t.blockFrom),
  ],
)

export const modelTable = pgTable(
  'model',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: text('id').notNull(),
    owner: text('owner').notNull(),
    uri: text('uri').notNull(),
    jobCount: uint256('job_count').notNull(),
    registeredAt: uint256('registered_at').notNull(),
    blockFrom: int8('block_from').notNull(),
    /** Null while this is the current version. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('model_current').on(t.id).where(sql`${t.blockTo} is null`),
    index('model_id_block_to').on(t.id, t.blockTo).where(sql`${t.blockTo} is not null`),
    index('model_block_from').using('brin', t.blockFrom),
    index('model_block_to').using('brin', t.blockTo),
  ],
)

export const clientTable = pgTable(
  'client',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: text('id').notNull(),
    jobsCreated: uint256('jobs_created').notNull(),
    totalEscrowed: uint256('total_escrowed').notNull(),
    totalPaid: uint256('total_paid').notNull(),
    totalRefunded: uint256('total_refunded').notNull(),
    blockFrom: int8('block_from').notNull(),
    /** Null while this is the current version. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('client_current').on(t.id).where(sql`${t.blockTo} is null`),
    index('client_id_block_to').on(t.id, t.blockTo).where(sql`${t.blockTo} is not null`),
    index('client_block_from').using('brin', t.blockFrom),
    index('client_block_to').using('brin', t.blockTo),
  ],
)

export const jobTable = pgTable(
  'job',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: text('id').notNull(),
    client: text('client').notNull(),
    model: text('model').notNull(),
    kind: text('kind').notNull(),
    status: text('status').notNull(),
    provider: text('provider'),
    payment: uint256('payment').notNull(),
    fee: uint256('fee'),
    refund: uint256('refund'),
    inputHash: text('input_hash').notNull(),
    outputHash: text('output_hash'),
    receiptDigest: text('receipt_digest'),
    deadline: uint256('deadline').notNull(),
    createdAt: uint256('created_at').notNull(),
    createdAtBlock: uint256('created_at_block').notNull(),
    assignedAt: uint256('assigned_at'),
    completedAt: uint256('completed_at'),
    updatedAt: uint256('updated_at').notNull(),
    blockFrom: int8('block_from').notNull(),
    /** Null while this is the current version. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('job_current').on(t.id).where(sql`${t.blockTo} is null`),
    index('job_id_block_to').on(t.id, t.blockTo).where(sql`${t.blockTo} is not null`),
    index('job_block_from').using('brin', t.blockFrom),
    index('job_block_to').using('brin', t.blockTo),
  ],
)

export const disputeTable = pgTable(
  'dispute',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: text('id').notNull(),
    job: text('job').notNull(),
    raisedBy: text('raised_by').notNull(),
    evidenceHash: text('evidence_hash').notNull(),
    status: text('status').notNull(),
    slashed: uint256('slashed').notNull(),
    refund: uint256('refund').notNull(),
    raisedAt: uint256('raised_at').notNull(),
    resolvedAt: uint256('resolved_at'),
    blockFrom: int8('block_from').notNull(),
    /** Null while this is the current version. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('dispute_current').on(t.id).where(sql`${t.blockTo} is null`),
    index('dispute_id_block_to').on(t.id, t.blockTo).where(sql`${t.blockTo} is not null`),
    index('dispute_block_from').using('brin', t.blockFrom),
    index('dispute_block_to').using('brin', t.blockTo),
  ],
)

export const rewardTable = pgTable(
  'reward',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: text('id').notNull(),
    provider: text('provider').notNull(),
    kind: text('kind').notNull(),
    amount: uint256('amount').notNull(),
    fee: uint256('fee').notNull(),
    job: text('job'),
    epoch: text('epoch').notNull(),
    timestamp: uint256('timestamp').notNull(),
    blockNumber: uint256('block_number').notNull(),
    transactionHash: text('transaction_hash').notNull(),
    blockFrom: int8('block_from').notNull(),
    /** Null while this is the current version. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('reward_current').on(t.id).where(sql`${t.blockTo} is null`),
    index('reward_block_from').using('brin', t.blockFrom),
  ],
)

export const epochTable = pgTable(
  'epoch',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: text('id').notNull(),
    number: uint256('number').notNull(),
    fees: uint256('fees').notNull(),
    funded: uint256('funded').notNull(),
    totalWork: uint256('total_work').notNull(),
    rewards: uint256('rewards').notNull(),
    claimed: uint256('claimed').notNull(),
    finalized: boolean('finalized').notNull(),
    startedAt: uint256('started_at'),
    finalizedAt: uint256('finalized_at'),
    blockFrom: int8('block_from').notNull(),
    /** Null while this is the current version. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('epoch_current').on(t.id).where(sql`${t.blockTo} is null`),
    index('epoch_id_block_to').on(t.id, t.blockTo).where(sql`${t.blockTo} is not null`),
    index('epoch_block_from').using('brin', t.blockFrom),
    index('epoch_block_to').using('brin', t.blockTo),
  ],
)

export const networkTable = pgTable(
  'network',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: text('id').notNull(),
    minStake: uint256('min_stake').notNull(),
    totalStake: uint256('total_stake').notNull(),
    totalPendingUnstake: uint256('total_pending_unstake').notNull(),
    totalSlashed: uint256('total_slashed').notNull(),
    providerCount: uint256('provider_count').notNull(),
    activeProviderCount: uint256('active_provider_count').notNull(),
    modelCount: uint256('model_count').notNull(),
    clientCount: uint256('client_count').notNull(),
    jobCount: uint256('job_count').notNull(),
    jobsCompleted: uint256('jobs_completed').notNull(),
    jobsCancelled: uint256('jobs_cancelled').notNull(),
    jobsExpired: uint256('jobs_expired').notNull(),
    jobsDisputed: uint256('jobs_disputed').notNull(),
    totalPayments: uint256('total_payments').notNull(),
    totalFees: uint256('total_fees').notNull(),
    totalRefunds: uint256('total_refunds').notNull(),
    totalRewardsClaimed: uint256('total_rewards_claimed').notNull(),
    totalFunded: uint256('total_funded').notNull(),
    currentEpoch: uint256('current_epoch').notNull(),
    blockFrom: int8('block_from').notNull(),
    /** Null while this is the current version. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('network_current').on(t.id).where(sql`${t.blockTo} is null`),
    index('network_id_block_to').on(t.id, t.blockTo).where(sql`${t.blockTo} is not null`),
    index('network_block_from').using('brin', t.blockFrom),
    index('network_block_to').using('brin', t.blockTo),
  ],
)

export const networkDataPointTable = pgTable(
  'network_data_point',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: int8('id').notNull(),
    timestamp: int8('timestamp').notNull(),
    jobsCreated: uint256('jobs_created').notNull(),
    jobsCompleted: uint256('jobs_completed').notNull(),
    payments: uint256('payments').notNull(),
    fees: uint256('fees').notNull(),
    rewardsPaid: uint256('rewards_paid').notNull(),
    rewardsClaimed: uint256('rewards_claimed').notNull(),
    totalStake: uint256('total_stake').notNull(),
    activeProviders: uint256('active_providers').notNull(),
    blockFrom: int8('block_from').notNull(),
    /** Null while this is the current version. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('network_data_point_current').on(t.id).where(sql`${t.blockTo} is null`),
    index('network_data_point_block_from').using('brin', t.blockFrom),
    index('network_data_point_timestamp').on(t.timestamp),
  ],
)

export const providerDataPointTable = pgTable(
  'provider_data_point',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: int8('id').notNull(),
    timestamp: int8('timestamp').notNull(),
    provider: text('provider').notNull(),
    jobsCompleted: uint256('jobs_completed').notNull(),
    rewards: uint256('rewards').notNull(),
    fees: uint256('fees').notNull(),
    stake: uint256('stake').notNull(),
    blockFrom: int8('block_from').notNull(),
    /** Null while this is the current version. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('provider_data_point_current').on(t.id).where(sql`${t.blockTo} is null`),
    index('provider_data_point_block_from').using('brin', t.blockFrom),
    index('provider_data_point_provider').on(t.provider),
    index('provider_data_point_timestamp').on(t.timestamp),
  ],
)

export const networkStatHourTable = pgTable(
  'network_stat_hour',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: int8('id').notNull(),
    timestamp: int8('timestamp').notNull(),
    jobsCreated: uint256('jobs_created').notNull(),
    jobsCompleted: uint256('jobs_completed').notNull(),
    payments: uint256('payments').notNull(),
    fees: uint256('fees').notNull(),
    rewardsPaid: uint256('rewards_paid').notNull(),
    rewardsClaimed: uint256('rewards_claimed').notNull(),
    totalJobsCreated: uint256('total_jobs_created').notNull(),
    totalFees: uint256('total_fees').notNull(),
    totalStake: uint256('total_stake').notNull(),
    maxTotalStake: uint256('max_total_stake').notNull(),
    activeProviders: uint256('active_providers').notNull(),
    /** The block whose time closed the bucket: a reorg that orphans it removes the row. */
    blockFrom: int8('block_from').notNull(),
    /** Always null: buckets are never updated; kept so that queries read them as immutable entities. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('network_stat_hour_bucket').on(t.timestamp),
    index('network_stat_hour_block_from').using('brin', t.blockFrom),
  ],
)

export const networkStatDayTable = pgTable(
  'network_stat_day',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: int8('id').notNull(),
    timestamp: int8('timestamp').notNull(),
    jobsCreated: uint256('jobs_created').notNull(),
    jobsCompleted: uint256('jobs_completed').notNull(),
    payments: uint256('payments').notNull(),
    fees: uint256('fees').notNull(),
    rewardsPaid: uint256('rewards_paid').notNull(),
    rewardsClaimed: uint256('rewards_claimed').notNull(),
    totalJobsCreated: uint256('total_jobs_created').notNull(),
    totalFees: uint256('total_fees').notNull(),
    totalStake: uint256('total_stake').notNull(),
    maxTotalStake: uint256('max_total_stake').notNull(),
    activeProviders: uint256('active_providers').notNull(),
    /** The block whose time closed the bucket: a reorg that orphans it removes the row. */
    blockFrom: int8('block_from').notNull(),
    /** Always null: buckets are never updated; kept so that queries read them as immutable entities. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('network_stat_day_bucket').on(t.timestamp),
    index('network_stat_day_block_from').using('brin', t.blockFrom),
  ],
)

export const providerStatHourTable = pgTable(
  'provider_stat_hour',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: int8('id').notNull(),
    timestamp: int8('timestamp').notNull(),
    provider: text('provider').notNull(),
    jobsCompleted: uint256('jobs_completed').notNull(),
    rewards: uint256('rewards').notNull(),
    fees: uint256('fees').notNull(),
    rewardsEarned: uint256('rewards_earned').notNull(),
    stake: uint256('stake').notNull(),
    lowestStake: uint256('lowest_stake').notNull(),
    /** The block whose time closed the bucket: a reorg that orphans it removes the row. */
    blockFrom: int8('block_from').notNull(),
    /** Always null: buckets are never updated; kept so that queries read them as immutable entities. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('provider_stat_hour_bucket').on(t.provider, t.timestamp),
    index('provider_stat_hour_block_from').using('brin', t.blockFrom),
  ],
)

export const providerStatDayTable = pgTable(
  'provider_stat_day',
  {
    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),
    id: int8('id').notNull(),
    timestamp: int8('timestamp').notNull(),
    provider: text('provider').notNull(),
    jobsCompleted: uint256('jobs_completed').notNull(),
    rewards: uint256('rewards').notNull(),
    fees: uint256('fees').notNull(),
    rewardsEarned: uint256('rewards_earned').notNull(),
    stake: uint256('stake').notNull(),
    lowestStake: uint256('lowest_stake').notNull(),
    /** The block whose time closed the bucket: a reorg that orphans it removes the row. */
    blockFrom: int8('block_from').notNull(),
    /** Always null: buckets are never updated; kept so that queries read them as immutable entities. */
    blockTo: int8('block_to'),
  },
  (t) => [
    uniqueIndex('provider_stat_day_bucket').on(t.provider, t.timestamp),
    index('provider_stat_day_block_from').using('brin', t.blockFrom),
  ],
)

export const entityTables = {
  Provider: providerTable,
  StakeEvent: stakeEventTable,
  Model: modelTable,
  Client: clientTable,
  Job: jobTable,
  Dispute: disputeTable,
  Reward: rewardTable,
  Epoch: epochTable,
  Network: networkTable,
  NetworkDataPoint: networkDataPointTable,
  ProviderDataPoint: providerDataPointTable,
} as const

export const aggregationTables = {
  NetworkStat: { hour: networkStatHourTable, day: networkStatDayTable },
  ProviderStat: { hour: providerStatHourTable, day: providerStatDayTable },
} as const
