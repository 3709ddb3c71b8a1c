/** The live-update part of the API: `Subscription` and the types it delivers, over graphql-ws on /graphql. */
export const SUBSCRIPTION_SDL = `
"Live updates over graphql-ws (protocol graphql-transport-ws) on the same path as queries"
type Subscription {
  "Each block the gateway indexes, in block order"
  newBlock: _Block_!
  "Each rollback of indexed blocks: the chain reorganised, and what was shown for the orphaned blocks is void"
  reorg: Reorg!
  "Each new version of a matching job, in block order; after a reorg, the canonical state of the jobs it touched"
  jobChanged(where: JobChanged_filter): JobChange!
  """
  Each statistics bucket as it is rolled up (the first indexed block at or past the end of its period closes it), of
  one interval or both; after a reorg that orphaned the block that closed a bucket, the bucket reopened
  """
  statsRolledUp(interval: Aggregation_interval): StatsBucket!
}

"A statistics bucket just rolled up, or (reorged) reopened by a reorg; its rows are read at the block given"
type StatsBucket {
  interval: Aggregation_interval!
  "Start of the period, microseconds since the epoch"
  timestamp: Timestamp!
  "The block whose time closed the bucket; for a reorg correction, the common ancestor"
  block: _Block_!
  "The network's statistics for the period; null when the bucket is reopened (or no event moved them)"
  network: NetworkStat
  "Each provider's statistics for the period: the period's leaderboard, in the order asked for"
  providers(skip: Int = 0, first: Int = 100, orderBy: ProviderStat_orderBy, orderDirection: OrderDirection): [ProviderStat!]!
  "True when a reorg orphaned the block that closed this bucket: what was delivered for it is void until it closes again"
  reorged: Boolean!
}

"Blocks ancestor + 1 to orphanedHead were rolled back; newBlock resumes from ancestor + 1 on the canonical chain."
type Reorg {
  "The newest block on both chains"
  ancestor: Int!
  "The newest orphaned block the gateway had indexed"
  orphanedHead: Int!
  "The block the gateway stands at after the rollback: the ancestor"
  newHead: _Block_
}

type JobChange {
  "The job's id"
  id: ID!
  "The job at the block of the change; null when a reorg removed it (it was created in an orphaned block)"
  job: Job
  "Status before this change (for a reorg correction: the status last delivered); null for a new job"
  previousStatus: JobStatus
  "The block of the change; for a reorg correction, the common ancestor"
  block: _Block_!
  "True when this corrects a change delivered for a block that a reorg orphaned"
  reorged: Boolean!
}

"All given conditions must hold"
input JobChanged_filter {
  id: ID
  id_in: [ID!]
  "Client address"
  client: String
  "Provider address"
  provider: String
  status_in: [JobStatus!]
}
`
