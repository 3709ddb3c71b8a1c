/**
 * The documents the page sends, typed by GraphQL Code Generator from the gateway's checked-in schema
 * (apps/gateway/schema.graphql; `npm run codegen` after changing a document, `npm run typecheck` checks both).
 */
import { graphql } from './gql'
import type {
  JobChangedSubscription,
  JobFieldsFragment,
  NetworkStatsQuery,
  NewBlockSubscription,
  OverviewQuery,
  ProviderStatsQuery,
  ReceiptVerificationFieldsFragment,
  StatsRolledUpSubscription,
  WorkersQuery,
} from './gql/graphql'

export type Interval = 'hour' | 'day'
export type LeaderboardOrder = 'rewardsEarned' | 'stake' | 'jobsCompleted'

export type OverviewData = OverviewQuery
export type NetworkTotals = NonNullable<OverviewQuery['network']>
export type ProviderRow = OverviewQuery['providers'][number]

export const OVERVIEW = graphql(`
  query Overview($order: Provider_orderBy!) {
    _meta { block { number timestamp } hasIndexingErrors }
    network(id: "network") {
      totalStake totalSlashed activeProviderCount providerCount jobCount jobsCompleted
      totalPayments totalFees totalRewardsClaimed currentEpoch
    }
    providers(first: 25, orderBy: $order, orderDirection: desc) {
      id stake jobsCompleted jobsFailed rewardsEarned slashedTotal
    }
  }
`)

export type NetworkStatRow = NetworkStatsQuery['networkStats'][number]

// graph-node's cap on `first`; the newest buckets come first, the current (still filling) one included.
export const NETWORK_STATS = graphql(`
  query NetworkStats($interval: Aggregation_interval!) {
    networkStats(interval: $interval, first: 1000, current: include) {
      timestamp jobsCreated jobsCompleted payments fees rewardsPaid rewardsClaimed
      totalStake maxTotalStake activeProviders
    }
  }
`)

export type ProviderStatRow = ProviderStatsQuery['providerStats'][number]

export const PROVIDER_STATS = graphql(`
  query ProviderStats($interval: Aggregation_interval!, $provider: String!) {
    providerStats(interval: $interval, first: 1000, current: include, where: { provider: $provider }) {
      timestamp jobsCompleted rewards fees rewardsEarned stake lowestStake
    }
  }
`)

export type WorkerRow = WorkersQuery['workers'][number]

export const WORKERS = graphql(`
  query Workers {
    workers {
      id provider device { kind name memoryBytes } runtime models { id name } concurrency pricePerUnit stake
      outstanding queuedRows latencyMs pingMs completed failed suspended connectedAt
    }
  }
`)

export type JobRow = JobFieldsFragment

graphql(`
  fragment JobFields on Job {
    id status kind payment createdAt completedAt receiptDigest outputHash
    client { id } provider { id } model { id uri }
  }
`)

export const RECENT_JOBS = graphql(`
  query RecentJobs($first: Int!) {
    jobs(first: $first, orderBy: createdAt, orderDirection: desc) { ...JobFields }
  }
`)

export type JobChangeEvent = JobChangedSubscription

export const JOB_CHANGED = graphql(`
  subscription JobChanged {
    jobChanged { id previousStatus reorged job { ...JobFields } }
  }
`)

export type NewBlockEvent = NewBlockSubscription

export const NEW_BLOCK = graphql(`
  subscription NewBlock { newBlock { number timestamp } }
`)

export const REORG = graphql(`
  subscription Reorg { reorg { ancestor orphanedHead } }
`)

export type StatsRolledUpEvent = StatsRolledUpSubscription

export const STATS_ROLLED_UP = graphql(`
  subscription StatsRolledUp { statsRolledUp { interval timestamp reorged } }
`)

/** The receipt bundle this gateway handed out for a digest (verification module; absent on older gateways). */
export const STORED_RECEIPT = (aliases: number) => `
  query StoredReceipts(${range(aliases, (i) => `$d${i}: Bytes!`)}) {
    ${range(aliases, (i) => `r${i}: receipt(digest: $d${i})`)}
  }
`

export type ReceiptVerification = ReceiptVerificationFieldsFragment

/** What the page shows of a verdict; the aliased queries below spread it, so it is checked against the schema. */
const RECEIPT_VERIFICATION_FIELDS = graphql(`
  fragment ReceiptVerificationFields on ReceiptVerification {
    valid signer verification attester { address trusted } checks { name status reason }
  }
`)

export const VERIFY_RECEIPTS = (aliases: number) => `
  query VerifyReceipts(${range(aliases, (i) => `$b${i}: String!, $t${i}: BigInt`)}) {
    ${range(aliases, (i) => `v${i}: verifyReceipt(bundle: $b${i}, at: $t${i}) { ...ReceiptVerificationFields }`)}
  }
  ${RECEIPT_VERIFICATION_FIELDS}
`

const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(' ')
