/** The documents the page sends; field names follow subgraph/schema.graphql and the gateway's extensions. */

export type Interval = 'hour' | 'day'
export type LeaderboardOrder = 'rewardsEarned' | 'stake' | 'jobsCompleted'

export interface NetworkTotals {
  totalStake: string
  totalSlashed: string
  activeProviderCount: string
  providerCount: string
  jobCount: string
  jobsCompleted: string
  totalPayments: string
  totalFees: string
  totalRewardsClaimed: string
  currentEpoch: string
}

export interface ProviderRow {
  id: string
  stake: string
  jobsCompleted: string
  jobsFailed: string
  rewardsEarned: string
  slashedTotal: string
}

export interface OverviewData {
  _meta: { block: { number: number; timestamp: number | null }; hasIndexingErrors: boolean }
  network: NetworkTotals | null
  providers: ProviderRow[]
}

export const OVERVIEW = /* GraphQL */ `
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
`

export interface NetworkStatRow {
  timestamp: string
  jobsCreated: string
  jobsCompleted: string
  payments: string
  fees: string
  rewardsPaid: string
  rewardsClaimed: string
  totalStake: string
  maxTotalStake: string
  activeProviders: string
}

// graph-node's cap on `first`; the newest buckets come first, the current (still filling) one included.
export const NETWORK_STATS = /* GraphQL */ `
  query NetworkStats($interval: Aggregation_interval!) {
    networkStats(interval: $interval, first: 1000, current: include) {
      timestamp jobsCreated jobsCompleted payments fees rewardsPaid rewardsClaimed
      totalStake maxTotalStake activeProviders
    }
  }
`

export interface ProviderStatRow {
  timestamp: string
  jobsCompleted: string
  rewards: string
  fees: string
  rewardsEarned: string
  stake: string
  lowestStake: string
}

export const PROVIDER_STATS = /* GraphQL */ `
  query ProviderStats($interval: Aggregation_interval!, $provider: String!) {
    providerStats(interval: $interval, first: 1000, current: include, where: { provider: $provider }) {
      timestamp jobsCompleted rewards fees rewardsEarned stake lowestStake
    }
  }
`

export interface WorkerRow {
  id: string
  provider: string
  device: { kind: string; name: string; memoryBytes: number }
  runtime: string
  models: { id: string; name: string }[]
  concurrency: number
  pricePerUnit: string
  stake: string
  outstanding: number
  queuedRows: number
  latencyMs: number | null
  pingMs: number | null
  completed: number
  failed: number
  suspended: boolean
  connectedAt: string
}

export const WORKERS = /* GraphQL */ `
  query Workers {
    workers {
      id provider device { kind name memoryBytes } runtime models { id name } concurrency pricePerUnit stake
      outstanding queuedRows latencyMs pingMs completed failed suspended connectedAt
    }
  }
`

export interface JobRow {
  id: string
  status: string
  kind: string
  payment: string
  createdAt: string
  completedAt: string | null
  receiptDigest: string | null
  outputHash: string | null
  client: { id: string }
  provider: { id: string } | null
  model: { id: string; uri: string }
}

const JOB_FIELDS = `
  id status kind payment createdAt completedAt receiptDigest outputHash
  client { id } provider { id } model { id uri }
`

export const RECENT_JOBS = /* GraphQL */ `
  query RecentJobs($first: Int!) {
    jobs(first: $first, orderBy: createdAt, orderDirection: desc) { ${JOB_FIELDS} }
  }
`

export interface JobChangeEvent {
  jobChanged: { id: string; job: JobRow | null; previousStatus: string | null; reorged: boolean }
}

export const JOB_CHANGED = /* GraphQL */ `
  subscription JobChanged {
    jobChanged { id previousStatus reorged job { ${JOB_FIELDS} } }
  }
`

export interface NewBlockEvent {
  newBlock: { number: number; timestamp: number | null }
}

export const NEW_BLOCK = /* GraphQL */ `
  subscription NewBlock { newBlock { number timestamp } }
`

export const REORG = /* GraphQL */ `
  subscription Reorg { reorg { ancestor orphanedHead } }
`

export interface StatsRolledUpEvent {
  statsRolledUp: { interval: Interval; timestamp: string; reorged: boolean }
}

export const STATS_ROLLED_UP = /* GraphQL */ `
  subscription StatsRolledUp { statsRolledUp { interval timestamp reorged } }
`

/** The receipt bundle this gateway handed out for a digest (verification module; absent on older gateways). */
export const STORED_RECEIPT = (aliases: number) => /* GraphQL */ `
  query StoredReceipts(${range(aliases, (i) => `$d${i}: Bytes!`)}) {
    ${range(aliases, (i) => `r${i}: receipt(digest: $d${i})`)}
  }
`

export interface ReceiptVerification {
  valid: boolean
  signer: string | null
  verification: string | null
  /** Who attested, and whether the gateway trusts that key (the deployment's dispatcher or arbiter). */
  attester: { address: string; trusted: boolean } | null
  checks: { name: string; status: 'PASS' | 'FAIL' | 'SKIPPED'; reason: string }[]
}

export const VERIFY_RECEIPTS = (aliases: number) => /* GraphQL */ `
  query VerifyReceipts(${range(aliases, (i) => `$b${i}: String!, $t${i}: BigInt`)}) {
    ${range(aliases, (i) => `v${i}: verifyReceipt(bundle: $b${i}, at: $t${i}) { valid signer verification attester { address trusted } checks { name status reason } }`)}
  }
`

const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(' ')
