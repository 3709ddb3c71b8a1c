import { anvilAccount, runActivity } from '@computegraph/contracts/activity'
import { type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../config/config'
import { loadSchemaModel } from '../db/schema-file'
import { openTestDatabase } from '../db/testing'
import { createIndexer } from './indexer.factory'
import { IndexerRepository } from './indexer.repository'
import { compareWithChain } from './testing/chain-truth'
import { startFaultyProxy } from './testing/faulty-rpc-proxy'
import { waitForHead } from './testing/harness'

const PROVIDERS = [1, 2, 3, 4, 5]
const CLIENTS = [6, 7, 8]

describe('a failing RPC', () => {
  let net: LocalNetwork
  let db: Awaited<ReturnType<typeof openTestDatabase>>

  beforeAll(async () => {
    net = await startLocalNetwork({ anvil: { accounts: 9 } })
    db = await openTestDatabase('postgres')
    await runActivity(net, { seed: 21, steps: 250, providers: PROVIDERS, clients: CLIENTS })
  }, 120_000)
  afterAll(async () => {
    await db?.database.close()
    await db?.cleanup()
    await net?.stop()
  })

  it('indexes exactly when a third of requests fail, stall past the timeout or come back truncated', async () => {
    const proxy = await startFaultyProxy({ target: net.anvil.rpcUrl, faultRate: 1 / 3, delayMs: 600, maxLogRange: 40 })
    const config = loadConfig({
      RPC_URL: proxy.url,
      FINALITY: '5',
      POLL_INTERVAL_MS: '20',
      RPC_TIMEOUT_MS: '300',
      RPC_MAX_ATTEMPTS: '20',
      GETLOGS_INITIAL_RANGE: '500',
      INDEXER_BATCH_EVENTS: '100',
    })
    const warnings: string[] = []
    const indexer = createIndexer({
      db: db.database.db,
      deployment: net.deployment,
      config: config.indexer,
      logger: { log() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    })
    const controller = new AbortController()
    const running = indexer.run(controller.signal)
    try {
      const head = await waitForHead(indexer, net, 120_000)
      const model = loadSchemaModel()
      const repository = new IndexerRepository(db.database.db, model)
      const providers = PROVIDERS.map((i) => anvilAccount(i).address)
      expect(await compareWithChain({ net, repository, model, block: head, providers })).toEqual([])
      // Every kind of fault really happened, and wide ranges were refused and split.
      expect(proxy.stats.failed).toBeGreaterThan(0)
      expect(proxy.stats.delayed).toBeGreaterThan(0)
      expect(proxy.stats.truncated).toBeGreaterThan(0)
      expect(proxy.stats.rangeRefused).toBeGreaterThan(0)
    } finally {
      controller.abort()
      await running
      await proxy.stop()
    }
  })

  it('keeps trying while the RPC is dead, and resumes when it comes back', async () => {
    const fresh = await openTestDatabase('pglite')
    const dead = await startFaultyProxy({ target: net.anvil.rpcUrl, faultRate: 0, delayMs: 0 })
    const port = Number(new URL(dead.url).port)
    await dead.stop()
    const config = loadConfig({
      RPC_URL: dead.url,
      FINALITY: '5',
      POLL_INTERVAL_MS: '20',
      RPC_TIMEOUT_MS: '200',
      RPC_MAX_ATTEMPTS: '2',
    })
    const warnings: string[] = []
    const indexer = createIndexer({
      db: fresh.database.db,
      deployment: net.deployment,
      config: config.indexer,
      logger: { log() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    })
    const controller = new AbortController()
    const running = indexer.run(controller.signal)
    let revived: Awaited<ReturnType<typeof startFaultyProxy>> | undefined
    try {
      while (warnings.length < 2) await new Promise((r) => setTimeout(r, 20))
      expect(warnings[0]).toMatch(/failed after 2 attempts/)
      expect(indexer.state).toBeUndefined()
      revived = await startFaultyProxy({ target: net.anvil.rpcUrl, faultRate: 0, delayMs: 0, port })
      const head = await waitForHead(indexer, net, 60_000)
      const model = loadSchemaModel()
      const repository = new IndexerRepository(fresh.database.db, model)
      const providers = PROVIDERS.map((i) => anvilAccount(i).address)
      expect(await compareWithChain({ net, repository, model, block: head, providers })).toEqual([])
    } finally {
      controller.abort()
      await running
      await revived?.stop()
      await fresh.database.close()
      await fresh.cleanup()
    }
  })
})
