import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { anvilAccount, runActivity } from '@computegraph/contracts/activity'
import { writeDeployment } from '@computegraph/contracts/deploy'
import { type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadSchemaModel } from '../db/schema-file'
import { openTestDatabase } from '../db/testing'
import { IndexerRepository } from './indexer.repository'
import { INDEXER_LOCK_KEY } from './indexer-lock'
import { compareWithChain } from './testing/chain-truth'
import { spawnIndexer } from './testing/indexer-process'

const PROVIDERS = [1, 2, 3]
const CLIENTS = [4, 5]

describe('two indexers on one database', () => {
  let net: LocalNetwork
  let dir: string
  let deploymentFile: string

  beforeAll(async () => {
    net = await startLocalNetwork({ anvil: { accounts: 6 } })
    dir = await mkdtemp(path.join(tmpdir(), 'cg-lock-'))
    deploymentFile = path.join(dir, 'deployment.json')
    await writeDeployment(deploymentFile, net.deployment)
    await runActivity(net, { seed: 41, steps: 80, providers: PROVIDERS, clients: CLIENTS })
  }, 120_000)
  afterAll(async () => {
    await net?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('the second writes nothing until the first is gone, then takes over', async () => {
    const db = await openTestDatabase('postgres')
    const env = {
      RPC_URL: net.anvil.rpcUrl,
      DATABASE_URL: db.url as string,
      DEPLOYMENT_FILE: deploymentFile,
      FINALITY: '2',
      POLL_INTERVAL_MS: '20',
      INDEXER_LOG_BLOCKS: '1',
    }
    const holders = async () =>
      db.database.query<{ pid: number }>(
        // pg_locks is server-wide: indexers of other databases on the same server hold the same key.
        sql`select pid from pg_locks where locktype = 'advisory' and granted
            and database = (select oid from pg_database where datname = current_database())
            and ((classid::int8 << 32) | objid::int8) = ${INDEXER_LOCK_KEY.toString()}::int8`,
      )
    const first = spawnIndexer(env)
    await first.waitFor(/lock acquired/)
    const second = spawnIndexer(env)
    try {
      await second.waitFor(/another indexer holds the lock/)
      await first.waitFor(/committed block/)
      // More activity: only the first indexes it; the second keeps waiting and commits nothing.
      await runActivity(net, { seed: 42, steps: 20, providers: PROVIDERS, clients: CLIENTS })
      await new Promise((r) => setTimeout(r, 500))
      expect(second.lines.filter((l) => /lock acquired|committed block/.test(l))).toEqual([])
      expect((await holders()).length).toBe(1)

      await first.kill('SIGKILL')
      await second.waitFor(/lock acquired/, 20_000)
      await runActivity(net, { seed: 43, steps: 20, providers: PROVIDERS, clients: CLIENTS })
      const head = await net.publicClient.getBlockNumber()
      await second.waitFor(new RegExp(`committed block ${head}$`), 30_000)
      const model = loadSchemaModel()
      const repository = new IndexerRepository(db.database.db, model)
      const providers = PROVIDERS.map((i) => anvilAccount(i).address)
      expect(await compareWithChain({ net, repository, model, block: head, providers })).toEqual([])
    } finally {
      await first.kill('SIGKILL')
      await second.kill('SIGTERM')
      await db.database.close()
      await db.cleanup()
    }
  }, 180_000) // two indexer processes start, one is killed and the other takes over: slow on a loaded machine
})
