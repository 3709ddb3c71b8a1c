import { runActivity } from '@computegraph/contracts/activity'
import { type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../config/config'
import { missingQueryIndexes } from '../db/query-index-builder'
import { queryIndexes } from '../db/query-indexes'
import { loadIndexDeclaration, loadSchemaModel } from '../db/schema-file'
import { type DatabaseKind, openTestDatabase } from '../db/testing'
import { createIndexer } from './indexer.factory'
import { buildQueryIndexesAfterCatchUp, type QueryIndexStatus } from './query-index-build'

const indexes = queryIndexes({ model: loadSchemaModel(), declaration: loadIndexDeclaration() })
const silent = { log() {}, warn() {}, error() {} }

describe.each<DatabaseKind>(['postgres', 'pglite'])('query indexes on %s', (kind) => {
  let net: LocalNetwork
  let db: Awaited<ReturnType<typeof openTestDatabase>>

  beforeAll(async () => {
    net = await startLocalNetwork({ anvil: { accounts: 12 } })
    db = await openTestDatabase(kind)
    await runActivity(net, { seed: 11, steps: 120, providers: [1, 2, 3], clients: [7, 8] })
  }, 120_000)
  afterAll(async () => {
    await db?.database.close()
    await db?.cleanup()
    await net?.stop()
  })

  // Small ranges: the backfill commits many batches before it reaches the head.
  const config = () =>
    loadConfig({ RPC_URL: net.anvil.rpcUrl, FINALITY: '3', POLL_INTERVAL_MS: '20', GETLOGS_INITIAL_RANGE: '10' })
      .indexer

  it('are not built during the backfill', async () => {
    const indexer = createIndexer({
      db: db.database.db,
      deployment: net.deployment,
      config: { ...config(), getLogs: { ...config().getLogs, maxRange: 10 } },
    })
    const controller = new AbortController()
    const statuses: QueryIndexStatus[] = []
    const building = buildQueryIndexesAfterCatchUp({
      indexer,
      database: db.database,
      indexes,
      signal: controller.signal,
      logger: silent,
      onStatus: (s) => statuses.push(s),
    })
    // Stop at the first committed batch, long before the head.
    indexer.once('block', () => controller.abort())
    await indexer.run(controller.signal)
    await building
    expect(indexer.state?.blockNumber).toBeLessThan(await net.publicClient.getBlockNumber())
    expect(statuses.map((s) => s.state)).toEqual(['waiting for catch-up'])
    expect((await missingQueryIndexes({ database: db.database, indexes })).length).toBe(indexes.length)
  })

  it('are all built once the indexer has caught up with the head', async () => {
    const indexer = createIndexer({ db: db.database.db, deployment: net.deployment, config: config() })
    const controller = new AbortController()
    const statuses: QueryIndexStatus[] = []
    const building = buildQueryIndexesAfterCatchUp({
      indexer,
      database: db.database,
      indexes,
      signal: controller.signal,
      logger: silent,
      onStatus: (s) => statuses.push(s),
    })
    const running = indexer.run(controller.signal)
    try {
      await building
    } finally {
      controller.abort()
      await running
    }
    expect(statuses.at(-1)).toEqual({ state: 'ready', built: indexes.length, total: indexes.length })
    expect(statuses.some((s) => s.state === 'building')).toBe(true)
    expect(await missingQueryIndexes({ database: db.database, indexes })).toEqual([])
  })
})
