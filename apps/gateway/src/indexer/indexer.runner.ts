import { readDeployment } from '@computegraph/contracts/deploy'
import { NonRetryableError } from '../common/errors'
import type { Config } from '../config/config'
import { type Database, type Db, openDatabase } from '../db/database'
import { type QueryIndex, queryIndexes } from '../db/query-indexes'
import { loadIndexDeclaration, loadSchemaModel } from '../db/schema-file'
import type { Indexer, Logger } from './indexer'
import { createIndexer } from './indexer.factory'
import { acquirePostgresIndexerLock } from './indexer-lock'
import { buildQueryIndexesAfterCatchUp, type QueryIndexStatus } from './query-index-build'
import { ChainRpc } from './rpc'

/** The indexer cannot start with this configuration (a missing or wrong deployment file, another chain). */
export class StartupError extends NonRetryableError {
  override name = 'StartupError'
}

/**
 * Opens the database, takes the one-indexer lock (waiting for another holder to go), checks the chain and runs the
 * indexer until `signal` aborts or the lock is lost.
 */
export async function runIndexer({
  config,
  logger,
  signal,
  database: given,
  onIndexer,
  onQueryIndexes,
}: {
  config: Config
  logger: Logger
  signal: AbortSignal
  /** An already open database (the gateway's); opened here when omitted. */
  database?: Database
  onIndexer?: (indexer: Indexer) => void
  /** Progress of the query indexes built once the indexer has caught up. */
  onQueryIndexes?: (status: QueryIndexStatus) => void
}): Promise<void> {
  const file = config.indexer.deploymentFile
  if (!file) throw new StartupError('DEPLOYMENT_FILE is required to index: the contracts deploy command writes it')
  if (config.indexer.rpcUrls.length === 0) throw new StartupError('RPC_URL is required to index')
  let indexes: QueryIndex[]
  try {
    indexes = queryIndexes({ model: loadSchemaModel(), declaration: loadIndexDeclaration(config.indexer.indexesFile) })
  } catch (error) {
    throw new StartupError((error as Error).message, { cause: error })
  }
  const deployment = await readDeployment(file).catch((error: Error) => {
    throw new StartupError(error.message, { cause: error })
  })
  const probe = new ChainRpc({
    urls: config.indexer.rpcUrls,
    timeoutMs: config.indexer.getLogs.timeoutMs,
    maxAttempts: 3,
    signal,
  })
  const chainId = await probe.chainId()
  if (chainId !== deployment.chainId || (config.indexer.chainId && config.indexer.chainId !== chainId)) {
    throw new StartupError(`RPC chain id ${chainId} does not match the deployment's ${deployment.chainId} (${file})`)
  }
  const database =
    given ??
    (await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      signal,
      onWait: () => logger.log(`waiting: another process holds ${config.dataDir}`),
    }))
  let writer: Db = database.db
  const controller = new AbortController()
  signal.addEventListener('abort', () => controller.abort(), { once: true })
  let release = async () => {}
  let building: Promise<void> | undefined
  try {
    if (database.kind === 'postgres' && config.databaseUrl) {
      const lock = await acquirePostgresIndexerLock({
        databaseUrl: config.databaseUrl,
        signal,
        onWait: () => logger.log('waiting: another indexer holds the lock on this database'),
      })
      writer = lock.db
      release = lock.release
      void lock.lost.then((e) => {
        if (!controller.signal.aborted) logger.error(`indexer lock lost: ${e.message}; stopping`)
        controller.abort()
      })
    }
    if (signal.aborted) return
    logger.log(`indexer lock acquired; indexing chain ${chainId}`)
    const indexer = createIndexer({ db: writer, deployment, config: config.indexer, logger, signal: controller.signal })
    onIndexer?.(indexer)
    building = buildQueryIndexesAfterCatchUp({
      indexer,
      database,
      indexes,
      signal: controller.signal,
      logger,
      onStatus: onQueryIndexes,
    })
    await indexer.run(controller.signal)
  } finally {
    // A build in progress ends with the statement it is running: the database must stay open until then.
    controller.abort()
    await building
    await release()
    if (!given) await database.close()
  }
}
