/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Overview($order: Provider_orderBy!) {\n    _meta { block { number timestamp } hasIndexingErrors }\n    network(id: \"network\") {\n      totalStake totalSlashed activeProviderCount providerCount jobCount jobsCompleted\n      totalPayments totalFees totalRewardsClaimed currentEpoch\n    }\n    providers(first: 25, orderBy: $order, orderDirection: desc) {\n      id stake jobsCompleted jobsFailed rewardsEarned slashedTotal\n    }\n  }\n": typeof types.OverviewDocument,
    "\n  query NetworkStats($interval: Aggregation_interval!) {\n    networkStats(interval: $interval, first: 1000, current: include) {\n      timestamp jobsCreated jobsCompleted payments fees rewardsPaid rewardsClaimed\n      totalStake maxTotalStake activeProviders\n    }\n  }\n": typeof types.NetworkStatsDocument,
    "\n  query ProviderStats($interval: Aggregation_interval!, $provider: String!) {\n    providerStats(interval: $interval, first: 1000, current: include, where: { provider: $provider }) {\n      timestamp jobsCompleted rewards fees rewardsEarned stake lowestStake\n    }\n  }\n": typeof types.ProviderStatsDocument,
    "\n  query Workers {\n    workers {\n      id provider device { kind name memoryBytes } runtime models { id name } concurrency pricePerUnit stake\n      outstanding queuedRows latencyMs pingMs completed failed suspended connectedAt\n    }\n  }\n": typeof types.WorkersDocument,
    "\n  fragment JobFields on Job {\n    id status kind payment createdAt completedAt receiptDigest outputHash\n    client { id } provider { id } model { id uri }\n  }\n": typeof types.JobFieldsFragmentDoc,
    "\n  query RecentJobs($first: Int!) {\n    jobs(first: $first, orderBy: createdAt, orderDirection: desc) { ...JobFields }\n  }\n": typeof types.RecentJobsDocument,
    "\n  subscription JobChanged {\n    jobChanged { id previousStatus reorged job { ...JobFields } }\n  }\n": typeof types.JobChangedDocument,
    "\n  subscription NewBlock { newBlock { number timestamp } }\n": typeof types.NewBlockDocument,
    "\n  subscription Reorg { reorg { ancestor orphanedHead } }\n": typeof types.ReorgDocument,
    "\n  subscription StatsRolledUp { statsRolledUp { interval timestamp reorged } }\n": typeof types.StatsRolledUpDocument,
    "\n  fragment ReceiptVerificationFields on ReceiptVerification {\n    valid signer verification attester { address trusted } checks { name status reason }\n  }\n": typeof types.ReceiptVerificationFieldsFragmentDoc,
};
const documents: Documents = {
    "\n  query Overview($order: Provider_orderBy!) {\n    _meta { block { number timestamp } hasIndexingErrors }\n    network(id: \"network\") {\n      totalStake totalSlashed activeProviderCount providerCount jobCount jobsCompleted\n      totalPayments totalFees totalRewardsClaimed currentEpoch\n    }\n    providers(first: 25, orderBy: $order, orderDirection: desc) {\n      id stake jobsCompleted jobsFailed rewardsEarned slashedTotal\n    }\n  }\n": types.OverviewDocument,
    "\n  query NetworkStats($interval: Aggregation_interval!) {\n    networkStats(interval: $interval, first: 1000, current: include) {\n      timestamp jobsCreated jobsCompleted payments fees rewardsPaid rewardsClaimed\n      totalStake maxTotalStake activeProviders\n    }\n  }\n": types.NetworkStatsDocument,
    "\n  query ProviderStats($interval: Aggregation_interval!, $provider: String!) {\n    providerStats(interval: $interval, first: 1000, current: include, where: { provider: $provider }) {\n      timestamp jobsCompleted rewards fees rewardsEarned stake lowestStake\n    }\n  }\n": types.ProviderStatsDocument,
    "\n  query Workers {\n    workers {\n      id provider device { kind name memoryBytes } runtime models { id name } concurrency pricePerUnit stake\n      outstanding queuedRows latencyMs pingMs completed failed suspended connectedAt\n    }\n  }\n": types.WorkersDocument,
    "\n  fragment JobFields on Job {\n    id status kind payment createdAt completedAt receiptDigest outputHash\n    client { id } provider { id } model { id uri }\n  }\n": types.JobFieldsFragmentDoc,
    "\n  query RecentJobs($first: Int!) {\n    jobs(first: $first, orderBy: createdAt, orderDirection: desc) { ...JobFields }\n  }\n": types.RecentJobsDocument,
    "\n  subscription JobChanged {\n    jobChanged { id previousStatus reorged job { ...JobFields } }\n  }\n": types.JobChangedDocument,
    "\n  subscription NewBlock { newBlock { number timestamp } }\n": types.NewBlockDocument,
    "\n  subscription Reorg { reorg { ancestor orphanedHead } }\n": types.ReorgDocument,
    "\n  subscription StatsRolledUp { statsRolledUp { interval timestamp reorged } }\n": types.StatsRolledUpDocument,
    "\n  fragment ReceiptVerificationFields on ReceiptVerification {\n    valid signer verification attester { address trusted } checks { name status reason }\n  }\n": types.ReceiptVerificationFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Overview($order: Provider_orderBy!) {\n    _meta { block { number timestamp } hasIndexingErrors }\n    network(id: \"network\") {\n      totalStake totalSlashed activeProviderCount providerCount jobCount jobsCompleted\n      totalPayments totalFees totalRewardsClaimed currentEpoch\n    }\n    providers(first: 25, orderBy: $order, orderDirection: desc) {\n      id stake jobsCompleted jobsFailed rewardsEarned slashedTotal\n    }\n  }\n"): typeof import('./graphql').OverviewDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query NetworkStats($interval: Aggregation_interval!) {\n    networkStats(interval: $interval, first: 1000, current: include) {\n      timestamp jobsCreated jobsCompleted payments fees rewardsPaid rewardsClaimed\n      totalStake maxTotalStake activeProviders\n    }\n  }\n"): typeof import('./graphql').NetworkStatsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProviderStats($interval: Aggregation_interval!, $provider: String!) {\n    providerStats(interval: $interval, first: 1000, current: include, where: { provider: $provider }) {\n      timestamp jobsCompleted rewards fees rewardsEarned stake lowestStake\n    }\n  }\n"): typeof import('./graphql').ProviderStatsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Workers {\n    workers {\n      id provider device { kind name memoryBytes } runtime models { id name } concurrency pricePerUnit stake\n      outstanding queuedRows latencyMs pingMs completed failed suspended connectedAt\n    }\n  }\n"): typeof import('./graphql').WorkersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobFields on Job {\n    id status kind payment createdAt completedAt receiptDigest outputHash\n    client { id } provider { id } model { id uri }\n  }\n"): typeof import('./graphql').JobFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RecentJobs($first: Int!) {\n    jobs(first: $first, orderBy: createdAt, orderDirection: desc) { ...JobFields }\n  }\n"): typeof import('./graphql').RecentJobsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobChanged {\n    jobChanged { id previousStatus reorged job { ...JobFields } }\n  }\n"): typeof import('./graphql').JobChangedDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription NewBlock { newBlock { number timestamp } }\n"): typeof import('./graphql').NewBlockDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription Reorg { reorg { ancestor orphanedHead } }\n"): typeof import('./graphql').ReorgDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription StatsRolledUp { statsRolledUp { interval timestamp reorged } }\n"): typeof import('./graphql').StatsRolledUpDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ReceiptVerificationFields on ReceiptVerification {\n    valid signer verification attester { address trusted } checks { name status reason }\n  }\n"): typeof import('./graphql').ReceiptVerificationFieldsFragmentDoc;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
