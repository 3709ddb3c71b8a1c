import type { Deployment } from '@computegraph/contracts'
import type { IndexerConfig } from '../config/config'
import type { Db } from '../db/database'
import type { SchemaModel } from '../db/entity-model'
import { loadSchemaModel } from '../db/schema-file'
import { Indexer, type Logger } from './indexer'
import { IndexerRepository } from './indexer.repository'
import { ChainRpc } from './rpc'

/** Wires an Indexer for the contracts of a deployment file. */
export function createIndexer({
  db,
  deployment,
  config,
  logger,
  model = loadSchemaModel(),
  signal,
}: {
  db: Db
  deployment: Deployment
  config: IndexerConfig
  logger?: Logger
  model?: SchemaModel
  signal?: AbortSignal
}): Indexer {
  const rpc = new ChainRpc({
    urls: config.rpcUrls,
    timeoutMs: config.getLogs.timeoutMs,
    maxAttempts: config.getLogs.maxAttempts,
    signal,
    onRetry: ({ method, attempt, error }) =>
      attempt > 1 && logger?.warn(`rpc ${method} attempt ${attempt + 1} failed: ${error.message}`),
  })
  const contracts = (['ProviderStaking', 'JobMarket', 'RewardPool'] as const).map((name) => ({
    name,
    address: deployment.contracts[name].address,
    startBlock: BigInt(deployment.contracts[name].startBlock),
  }))
  return new Indexer({
    repository: new IndexerRepository(db, model),
    rpc,
    chainId: deployment.chainId,
    contracts,
    env: { minStake: BigInt(deployment.params.minStake) },
    config,
    model,
    logger,
  })
}
