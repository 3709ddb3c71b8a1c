import { anvilAccount, runActivity } from '@computegraph/contracts/activity'
import { type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../config/config'
import type { Database } from '../db/database'
import { loadSchemaModel } from '../db/schema-file'
import { type DatabaseKind, openTestDatabase } from '../db/testing'
import type { Indexer } from './indexer'
import { createIndexer } from './indexer.factory'
import { IndexerRepository } from './indexer.repository'
import { compareWithChain } from './testing/chain-truth'

const PROVIDERS = [1, 2, 3, 4, 5, 6]
const CLIENTS = [7, 8, 9, 10, 11]

/** Runs the indexer until its cursor reaches `block`. */
async function indexUntil(indexer: Indexer, block: bigint, timeoutMs = 60_000) {
  const controller = new AbortController()
  const running = indexer.run(controller.signal)
  const deadline = Date.now() + timeoutMs
  while ((indexer.state?.blockNumber ?? -1n) < block) {
    if (Date.now() > deadline) throw new Error(`indexer stuck at ${indexer.state?.blockNumber}, wanted ${block}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  controller.abort()
  await running
}

describe.each<DatabaseKind>(['pglite', 'postgres'])('indexing from scratch on %s', (kind) => {
  let net: LocalNetwork
  let db: Awaited<ReturnType<typeof openTestDatabase>>
  let database: Database

  beforeAll(async () => {
    net = await startLocalNetwork({ anvil: { accounts: 12 } })
    db = await openTestDatabase(kind)
    database = db.database
    await runActivity(net, { seed: 7, steps: 400, providers: PROVIDERS, clients: CLIENTS })
  }, 120_000)
  afterAll(async () => {
    await database?.close()
    await db?.cleanup()
    await net?.stop()
  })

  it('ends equal to the contracts’ own state at the head, and at earlier blocks', async () => {
    const config = loadConfig({
      RPC_URL: net.anvil.rpcUrl,
      FINALITY: '3',
      POLL_INTERVAL_MS: '20',
      GETLOGS_INITIAL_RANGE: '50',
    })
    const indexer = createIndexer({ db: database.db, deployment: net.deployment, config: config.indexer })
    const head = await net.publicClient.getBlockNumber()
    await indexUntil(indexer, head)
    const model = loadSchemaModel()
    const repository = new IndexerRepository(database.db, model)
    const providers = PROVIDERS.map((i) => anvilAccount(i).address)
    expect(await compareWithChain({ net, repository, model, block: head, providers })).toEqual([])
    // Time travel: versions by block range reproduce the state at any indexed block.
    for (const block of [head / 4n, head / 2n, (head * 3n) / 4n]) {
      expect(await compareWithChain({ net, repository, model, block, providers })).toEqual([])
    }
    const jobs = await database.query<{ n: string }>(
      (await import('drizzle-orm')).sql`select count(*)::text as n from job where block_to is null`,
    )
    expect(Number(jobs[0]?.n)).toBeGreaterThan(50)
  })
})
