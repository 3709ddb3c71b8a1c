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
