// `npm run rebuild -w @computegraph/gateway`: rebuilds the entity tables from the stored events, without the RPC.
import { readDeployment } from '@computegraph/contracts/deploy'
import { ConfigError, loadConfig } from '../config/config'
import { type Db, openDatabase } from '../db/database'
import { loadSchemaModel } from '../db/schema-file'
import { acquirePostgresIndexerLock } from './indexer-lock'
import { rebuildEntities } from './rebuild'

let config: ReturnType<typeof loadConfig>
try {
  config = loadConfig()
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(`[rebuild] ${error.message}`)
  process.exit(2)
}
if (!config.indexer.deploymentFile) {
  console.error('DEPLOYMENT_FILE is required: the rebuild takes the chain id and minimum stake from it')
  process.exit(2)
}
const deployment = await readDeployment(config.indexer.deploymentFile).catch((error: Error) => {
  console.error(`[rebuild] ${error.message}`)
  process.exit(2)
})
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
let db: Db = database.db
let release = async () => {}
if (config.databaseUrl) {
  const lock = await acquirePostgresIndexerLock({
    databaseUrl: config.databaseUrl,
    onWait: () => console.log('[rebuild] waiting: an indexer holds the lock on this database; stop it first'),
  })
  db = lock.db
  release = lock.release
}
const started = Date.now()
try {
  const { events } = await rebuildEntities({
    db,
    model: loadSchemaModel(),
    chainId: deployment.chainId,
    env: { minStake: BigInt(deployment.params.minStake) },
    onProgress: ({ events, block }) => console.log(`[rebuild] ${events} events applied, at block ${block}`),
  })
  console.log(
    `[rebuild] rebuilt entities from ${events} stored events in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
} finally {
  await release()
  await database.close()
}
