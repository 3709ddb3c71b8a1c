import { anvilAccount, runActivity } from '@computegraph/contracts/activity'
import { type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../config/config'
import { loadSchemaModel } from '../db/schema-file'
import { openTestDatabase } from '../db/testing'
import { createIndexer } from './indexer.factory'
import { IndexerRepository } from './indexer.repository'
import { rebuildEntities } from './rebuild'
import { compareWithChain } from './testing/chain-truth'
import { dumpIndex, waitForHead } from './testing/harness'

const PROVIDERS = [1, 2, 3, 4]
const CLIENTS = [5, 6]
const model = loadSchemaModel()

describe('rebuilding entities from stored events', () => {
  let net: LocalNetwork
  let db: Awaited<ReturnType<typeof openTestDatabase>>

  beforeAll(async () => {
    net = await startLocalNetwork({ anvil: { accounts: 7 } })
    db = await openTestDatabase('pglite')
    await runActivity(net, { seed: 51, steps: 200, providers: PROVIDERS, clients: CLIENTS })
    const config = loadConfig({
      RPC_URL: net.anvil.rpcUrl,
      FINALITY: '3',
      POLL_INTERVAL_MS: '20',
      GETLOGS_INITIAL_RANGE: '20',
    })
    const indexer = createIndexer({ db: db.database.db, deployment: net.deployment, config: config.indexer })
    const controller = new AbortController()
    const running = indexer.run(controller.signal)
    await waitForHead(indexer, net)
    controller.abort()
    await running
  }, 120_000)
  afterAll(async () => {
    await db?.database.close()
    await db?.cleanup()
    await net?.stop()
  })

  it('reproduces every entity version and statistics bucket from the event table, even with pages that split blocks', async () => {
    const before = await dumpIndex(db.database, model)
    // The activity's clock jumps span days: there are closed hourly and daily buckets to regenerate.
    for (const table of ['NetworkStat_hour', 'NetworkStat_day', 'ProviderStat_hour', 'ProviderStat_day']) {
      expect(before.filter((line) => line.startsWith(`${table} `)).length, table).toBeGreaterThan(1)
    }
    // rebuildEntities is given no RPC at all: the event table is its only input.
    const { events } = await rebuildEntities({
      db: db.database.db,
      model,
      chainId: net.deployment.chainId,
      env: { minStake: BigInt(net.deployment.params.minStake) },
      pageSize: 7,
    })
    expect(events).toBeGreaterThan(100)
    const after = await dumpIndex(db.database, model)
    expect(after.length).toBe(before.length)
    expect(after).toEqual(before)
    const repository = new IndexerRepository(db.database.db, model)
    const state = await repository.getSyncState(net.deployment.chainId)
    const providers = PROVIDERS.map((i) => anvilAccount(i).address)
    expect(await compareWithChain({ net, repository, model, block: state?.blockNumber ?? 0n, providers })).toEqual([])
  })
})
