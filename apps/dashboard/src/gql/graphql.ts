/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** The period each bucket of an aggregation covers */
export type Aggregation_Interval =
  | 'day'
  | 'hour';

export type JobKind =
  | 'INFERENCE'
  | 'TRAINING';

export type JobStatus =
  | 'ASSIGNED'
  | 'CANCELLED'
  | 'COMPLETED'
  | 'DISPUTED'
  | 'EXPIRED'
  | 'OPEN';

export type Provider_OrderBy =
  | 'id'
  | 'jobs'
  | 'jobsAssigned'
  | 'jobsCompleted'
  | 'jobsFailed'
  | 'metadataURI'
  | 'pendingUnstake'
  | 'registeredAt'
  | 'registeredAtBlock'
  | 'rewards'
  | 'rewardsEarned'
  | 'slashedTotal'
  | 'stake'
  | 'stakeEvents'
  | 'unlockAt';

/** How one property of a receipt fared: SKIPPED when what it needs (a body, an attestation, the indexed state) is missing */
export type ReceiptCheckStatus =
  | 'FAIL'
  | 'PASS'
  | 'SKIPPED';

/** What the gateway's attestation says was checked about a receipt */
export type ReceiptVerificationMode =
  | 'DISPUTED'
  | 'REEXECUTED_MATCH'
  | 'SIGNATURE_ONLY';

export type OverviewQueryVariables = Exact<{
  order: Provider_OrderBy;
}>;


export type OverviewQuery = { _meta: { hasIndexingErrors: boolean, block: { number: number, timestamp: number | null } } | null, network: { totalStake: string, totalSlashed: string, activeProviderCount: string, providerCount: string, jobCount: string, jobsCompleted: string, totalPayments: string, totalFees: string, totalRewardsClaimed: string, currentEpoch: string } | null, providers: Array<{ id: string, stake: string, jobsCompleted: string, jobsFailed: string, rewardsEarned: string, slashedTotal: string }> };

export type NetworkStatsQueryVariables = Exact<{
  interval: Aggregation_Interval;
}>;


export type NetworkStatsQuery = { networkStats: Array<{ timestamp: string, jobsCreated: string, jobsCompleted: string, payments: string, fees: string, rewardsPaid: string, rewardsClaimed: string, totalStake: string, maxTotalStake: string, activeProviders: string }> };

export type ProviderStatsQueryVariables = Exact<{
  interval: Aggregation_Interval;
  provider: string;
}>;


export type ProviderStatsQuery = { providerStats: Array<{ timestamp: string, jobsCompleted: string, rewards: string, fees: string, rewardsEarned: string, stake: string, lowestStake: string }> };

export type WorkersQueryVariables = Exact<{ [key: string]: never; }>;


export type WorkersQuery = { workers: Array<{ id: string, provider: string, runtime: string, concurrency: number, pricePerUnit: string, stake: string, outstanding: number, queuedRows: number, latencyMs: number | null, pingMs: number | null, completed: number, failed: number, suspended: boolean, connectedAt: string, device: { kind: string, name: string, memoryBytes: number }, models: Array<{ id: string, name: string }> }> };

export type JobFieldsFragment = { id: string, status: JobStatus, kind: JobKind, payment: string, createdAt: string, completedAt: string | null, receiptDigest: string | null, outputHash: string | null, client: { id: string }, provider: { id: string } | null, model: { id: string, uri: string } };

export type RecentJobsQueryVariables = Exact<{
  first: number;
}>;


export type RecentJobsQuery = { jobs: Array<{ id: string, status: JobStatus, kind: JobKind, payment: string, createdAt: string, completedAt: string | null, receiptDigest: string | null, outputHash: string | null, client: { id: string }, provider: { id: string } | null, model: { id: string, uri: string } }> };

export type JobChangedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type JobChangedSubscription = { jobChanged: { id: string, previousStatus: JobStatus | null, reorged: boolean, job: { id: string, status: JobStatus, kind: JobKind, payment: string, createdAt: string, completedAt: string | null, receiptDigest: string | null, outputHash: string | null, client: { id: string }, provider: { id: string } | null, model: { id: string, uri: string } } | null } };

export type NewBlockSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type NewBlockSubscription = { newBlock: { number: number, timestamp: number | null } };

export type ReorgSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type ReorgSubscription = { reorg: { ancestor: number, orphanedHead: number } };

export type StatsRolledUpSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type StatsRolledUpSubscription = { statsRolledUp: { interval: Aggregation_Interval, timestamp: string, reorged: boolean } };

export type ReceiptVerificationFieldsFragment = { valid: boolean, signer: string | null, verification: ReceiptVerificationMode | null, attester: { address: string, trusted: boolean } | null, checks: Array<{ name: string, status: ReceiptCheckStatus, reason: string }> };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const JobFieldsFragmentDoc = new TypedDocumentString(`
    fragment JobFields on Job {
  id
  status
  kind
  payment
  createdAt
  completedAt
  receiptDigest
  outputHash
  client {
    id
  }
  provider {
    id
  }
  model {
    id
    uri
  }
}
    `, {"fragmentName":"JobFields"}) as unknown as TypedDocumentString<JobFieldsFragment, unknown>;
export const ReceiptVerificationFieldsFragmentDoc = new TypedDocumentString(`
    fragment ReceiptVerificationFields on ReceiptVerification {
  valid
  signer
  verification
  attester {
    address
    trusted
  }
  checks {
    name
    status
    reason
  }
}
    `, {"fragmentName":"ReceiptVerificationFields"}) as unknown as TypedDocumentString<ReceiptVerificationFieldsFragment, unknown>;
export const OverviewDocument = new TypedDocumentString(`
    query Overview($order: Provider_orderBy!) {
  _meta {
    block {
      number
      timestamp
    }
    hasIndexingErrors
  }
  network(id: "network") {
    totalStake
    totalSlashed
    activeProviderCount
    providerCount
    jobCount
    jobsCompleted
    totalPayments
    totalFees
    totalRewardsClaimed
    currentEpoch
  }
  providers(first: 25, orderBy: $order, orderDirection: desc) {
    id
    stake
    jobsCompleted
    jobsFailed
    rewardsEarned
    slashedTotal
  }
}
    `) as unknown as TypedDocumentString<OverviewQuery, OverviewQueryVariables>;
export const NetworkStatsDocument = new TypedDocumentString(`
    query NetworkStats($interval: Aggregation_interval!) {
  networkStats(interval: $interval, first: 1000, current: include) {
    timestamp
    jobsCreated
    jobsCompleted
    payments
    fees
    rewardsPaid
    rewardsClaimed
    totalStake
    maxTotalStake
    activeProviders
  }
}
    `) as unknown as TypedDocumentString<NetworkStatsQuery, NetworkStatsQueryVariables>;
export const ProviderStatsDocument = new TypedDocumentString(`
    query ProviderStats($interval: Aggregation_interval!, $provider: String!) {
  providerStats(
    interval: $interval
    first: 1000
    current: include
    where: {provider: $provider}
  ) {
    timestamp
    jobsCompleted
    rewards
    fees
    rewardsEarned
    stake
    lowestStake
  }
}
    `) as unknown as TypedDocumentString<ProviderStatsQuery, ProviderStatsQueryVariables>;
export const WorkersDocument = new TypedDocumentString(`
    query Workers {
  workers {
    id
    provider
    device {
      kind
      name
      memoryBytes
    }
    runtime
    models {
      id
      name
    }
    concurrency
    pricePerUnit
    stake
    outstanding
    queuedRows
    latencyMs
    pingMs
    completed
    failed
    suspended
    connectedAt
  }
}
    `) as unknown as TypedDocumentString<WorkersQuery, WorkersQueryVariables>;
export const RecentJobsDocument = new TypedDocumentString(`
    query RecentJobs($first: Int!) {
  jobs(first: $first, orderBy: createdAt, orderDirection: desc) {
    ...JobFields
  }
}
    fragment JobFields on Job {
  id
  status
  kind
  payment
  createdAt
  completedAt
  receiptDigest
  outputHash
  client {
    id
  }
  provider {
    id
  }
  model {
    id
    uri
  }
}`) as unknown as TypedDocumentString<RecentJobsQuery, RecentJobsQueryVariables>;
export const JobChangedDocument = new TypedDocumentString(`
    subscription JobChanged {
  jobChanged {
    id
    previousStatus
    reorged
    job {
      ...JobFields
    }
  }
}
    fragment JobFields on Job {
  id
  status
  kind
  payment
  createdAt
  completedAt
  receiptDigest
  outputHash
  client {
    id
  }
  provider {
    id
  }
  model {
    id
    uri
  }
}`) as unknown as TypedDocumentString<JobChangedSubscription, JobChangedSubscriptionVariables>;
export const NewBlockDocument = new TypedDocumentString(`
    subscription NewBlock {
  newBlock {
    number
    timestamp
  }
}
    `) as unknown as TypedDocumentString<NewBlockSubscription, NewBlockSubscriptionVariables>;
export const ReorgDocument = new TypedDocumentString(`
    subscription Reorg {
  reorg {
    ancestor
    orphanedHead
  }
}
    `) as unknown as TypedDocumentString<ReorgSubscription, ReorgSubscriptionVariables>;
export const StatsRolledUpDocument = new TypedDocumentString(`
    subscription StatsRolledUp {
  statsRolledUp {
    interval
    timestamp
    reorged
  }
}
    `) as unknown as TypedDocumentString<StatsRolledUpSubscription, StatsRolledUpSubscriptionVariables>;