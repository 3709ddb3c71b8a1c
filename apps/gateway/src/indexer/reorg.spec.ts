import { anvilAccount, prng, runActivity } from '@computegraph/contracts/activity'
import { actions, type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { sql } from 'drizzle-orm'
import { type Hex, keccak256, parseEther, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../config/config'
import { loadSchemaModel } from '../db/schema-file'
import { openTestDatabase } from '../db/testing'
import { createIndexer } from './indexer.factory'
import { IndexerRepository } from './indexer.repository'
import { compareWithChain } from './testing/chain-truth'
import { dumpIndex, orphansLeft, waitForCursor, waitForHead } from './testing/harness'

const PROVIDERS = [1, 2, 3, 4]
const CLIENTS = [5, 6, 7]
const model = loadSchemaModel()

/** Sends `blocks` transactions, one per block, that create and change entities; `variant` makes them differ. */
async function burst(
  net: LocalNetwork,
  { blocks, variant, modelId, jobsOnly = false }: { blocks: number; variant: number; modelId: Hex; jobsOnly?: boolean },
) {
  const act = actions(net)
  const rnd = prng(variant)
  for (let i = 0; i < blocks; i++) {
    if (!jobsOnly && rnd.chance(0.5)) {
      const p = anvilAccount(rnd.pick(PROVIDERS))
      const amount = parseEther(String(1 + rnd.int(1000)))
      await act.mint(p.address, amount)
      // mint and approve add blocks too; what matters is that the orphaned blocks carry indexed events.
      await act.approve(p, net.addresses.staking, amount)
      await act.stake(p, amount)
    } else {
      const c = anvilAccount(rnd.pick(CLIENTS))
      await act.createJob(c, {
        modelId,
        inputHash: keccak256(toHex(`reorg ${variant} ${i}`)),
        payment: parseEther(String(1 + rnd.int(90))),
        deadline: (await act.latestTimestamp()) + 7200n,
      })
    }
  }
}

describe('reorgs', () => {
  let net: LocalNetwork
  let db: Awaited<ReturnType<typeof openTestDatabase>>
  let modelId: Hex

  beforeAll(async () => {
    net = await startLocalNetwork({ anvil: { accounts: 8 } })
    db = await openTestDatabase('postgres')
    const log = await runActivity(net, { seed: 11, steps: 120, providers: PROVIDERS, clients: CLIENTS })
    modelId = log.modelIds[0] as Hex
  }, 120_000)
  afterAll(async () => {
    await db?.database.close()
    await db?.cleanup()
    await net?.stop()
  })

  it('rolls back everything derived from orphaned blocks, for reorgs of depth 1 to 20 at the head', async () => {
    const config = loadConfig({ RPC_URL: net.anvil.rpcUrl, FINALITY: '64', POLL_INTERVAL_MS: '20' })
    const indexer = createIndexer({ db: db.database.db, deployment: net.deployment, config: config.indexer })
    const reorgs: bigint[] = []
    indexer.on('reorg', (r) => reorgs.push(r.orphanedHead - r.ancestor))
    const controller = new AbortController()
    const running = indexer.run(controller.signal)
    const repository = new IndexerRepository(db.database.db, model)
    const providers = PROVIDERS.map((i) => anvilAccount(i).address)
    try {
      await waitForHead(indexer, net)
      for (const depth of [1, 2, 3, 5, 8, 13, 20]) {
        const snapshot = await net.testClient.snapshot()
        const forkBase = await net.publicClient.getBlockNumber()
        // Blocks that will be orphaned: indexed before the reorg happens.
        while ((await net.publicClient.getBlockNumber()) < forkBase + BigInt(depth)) {
          await burst(net, { blocks: 1, variant: depth * 1000 + 1, modelId })
        }
        await waitForHead(indexer, net)
        await net.testClient.revert({ id: snapshot })
        // The canonical chain: different transactions, as long or longer than the orphaned one.
        while ((await net.publicClient.getBlockNumber()) < forkBase + BigInt(depth) + 1n) {
          await burst(net, { blocks: 1, variant: depth * 1000 + 2, modelId })
        }
        const head = await waitForHead(indexer, net)
        expect(await compareWithChain({ net, repository, model, block: head, providers }), `depth ${depth}`).toEqual([])
        expect(await orphansLeft(db.database, net), `depth ${depth}`).toEqual([])
      }
      expect(reorgs.length).toBeGreaterThanOrEqual(7)
      expect(reorgs.some((d) => d >= 20n)).toBe(true)
    } finally {
      controller.abort()
      await running
    }
  })

  it('stays exact when a reorg lands while backfill hands over to following the head', async () => {
    const fresh = await openTestDatabase('pglite')
    try {
      const finality = 10
      const snapshot = await net.testClient.snapshot()
      const forkBase = await net.publicClient.getBlockNumber()
      // One transaction per block, so the orphaned tail is 6 blocks: inside the finality depth, as real reorgs are.
      await burst(net, { blocks: 6, variant: 77, modelId, jobsOnly: true })
      const config = loadConfig({
        RPC_URL: net.anvil.rpcUrl,
        FINALITY: String(finality),
        POLL_INTERVAL_MS: '20',
        GETLOGS_INITIAL_RANGE: '7',
      })
      const trace: string[] = []
      const indexer = createIndexer({
        db: fresh.database.db,
        deployment: net.deployment,
        config: config.indexer,
        logger: { log: (m) => trace.push(m), warn: (m) => trace.push(m), error: (m) => trace.push(m) },
      })
      indexer.on('block', (b) => trace.push(`commit ${b.blockNumber} ${b.blockHash.slice(0, 10)}`))
      let reorged = 0
      indexer.on('reorg', () => reorged++)
      const controller = new AbortController()
      const running = indexer.run(controller.signal)
      try {
        const top = await net.publicClient.getBlockNumber()
        expect(top - forkBase).toBeLessThan(finality)
        // Backfill stops at top - finality, below the fork; the first blocks followed after the hand-off are the
        // tail about to be orphaned. Replace it as soon as the indexer has taken one of them.
        await waitForCursor(indexer, (n) => n > forkBase)
        await net.testClient.revert({ id: snapshot })
        await burst(net, { blocks: 9, variant: 78, modelId, jobsOnly: true })
        const canonicalHead = await waitForHead(indexer, net)
        expect(forkBase).toBeLessThan(canonicalHead)
        const repository = new IndexerRepository(fresh.database.db, model)
        const providers = PROVIDERS.map((i) => anvilAccount(i).address)
        const problems = await compareWithChain({ net, repository, model, block: canonicalHead, providers })
        if (problems.length) console.log(trace.join('\n'), `\ntop ${top} head ${canonicalHead}`)
        expect(problems).toEqual([])
        expect(await orphansLeft(fresh.database, net)).toEqual([])
        expect(reorged).toBeGreaterThanOrEqual(1)
      } finally {
        controller.abort()
        await running
      }
    } finally {
      await fresh.database.close()
      await fresh.cleanup()
    }
  })

  it('detects a reorg deeper than the finality depth during backfill and ends exact', async () => {
    const fresh = await openTestDatabase('postgres')
    try {
      const finality = 2
      const snapshot = await net.testClient.snapshot()
      const forkBase = await net.publicClient.getBlockNumber()
      await burst(net, { blocks: 14, variant: 91, modelId, jobsOnly: true })
      const config = loadConfig({
        RPC_URL: net.anvil.rpcUrl,
        FINALITY: String(finality),
        POLL_INTERVAL_MS: '20',
        GETLOGS_INITIAL_RANGE: '1',
        GETLOGS_MAX_RANGE: '1',
        GETLOGS_CONCURRENCY: '1',
        INDEXER_BATCH_EVENTS: '1',
      })
      const indexer = createIndexer({ db: fresh.database.db, deployment: net.deployment, config: config.indexer })
      const controller = new AbortController()
      const running = indexer.run(controller.signal)
      try {
        // Backfill has committed blocks past the fork when 14 blocks, far beyond the 2-block finality, are replaced.
        await waitForCursor(indexer, (n) => n > forkBase + 3n)
        await net.testClient.revert({ id: snapshot })
        await burst(net, { blocks: 16, variant: 92, modelId, jobsOnly: true })
        const head = await waitForHead(indexer, net)
        const repository = new IndexerRepository(fresh.database.db, model)
        const providers = PROVIDERS.map((i) => anvilAccount(i).address)
        expect(await compareWithChain({ net, repository, model, block: head, providers })).toEqual([])
        expect(await orphansLeft(fresh.database, net)).toEqual([])
      } finally {
        controller.abort()
        await running
      }
    } finally {
      await fresh.database.close()
      await fresh.cleanup()
    }
  })

  it('corrects a rolled-up statistics bucket when a reorg orphans blocks inside it, as indexing afresh would', async () => {
    const HOUR = 3600n
    const live = await openTestDatabase('postgres')
    const fresh = await openTestDatabase('pglite')
    const act = actions(net)
    const at = async (timestamp: bigint, send: () => Promise<unknown>) => {
      await net.testClient.setNextBlockTimestamp({ timestamp })
      await send()
    }
    const job = async (variant: string) =>
      act.createJob(anvilAccount(CLIENTS[0] as number), {
        modelId,
        inputHash: keccak256(toHex(variant)),
        payment: parseEther('3'),
        deadline: (await act.latestTimestamp()) + 86_400n,
      })
    const config = loadConfig({ RPC_URL: net.anvil.rpcUrl, FINALITY: '64', POLL_INTERVAL_MS: '20' })
    const indexer = createIndexer({ db: live.database.db, deployment: net.deployment, config: config.indexer })
    const controller = new AbortController()
    const running = indexer.run(controller.signal)
    const hourBucket = async (database: typeof live.database, start: bigint) =>
      database.query<{ jobs_created: string }>(
        sql`select jobs_created::text from network_stat_hour where timestamp = ${(start * 1_000_000n).toString()}::int8`,
      )
    try {
      const hour = ((await act.latestTimestamp()) / HOUR) * HOUR + HOUR
      await at(hour + 10n, () => job('stats kept'))
      const snapshot = await net.testClient.snapshot()
      // Orphaned: three jobs inside the hour, then a block past its end that rolls it up.
      for (let i = 0; i < 3; i++) await at(hour + 20n + BigInt(i), () => job(`stats orphaned ${i}`))
      await at(hour + HOUR + 1n, () => net.testClient.mine({ blocks: 1 }))
      await waitForHead(indexer, net)
      expect(await hourBucket(live.database, hour)).toEqual([{ jobs_created: '4' }])

      await net.testClient.revert({ id: snapshot })
      // Canonical: one job inside the hour, and a longer chain that closes it again.
      await at(hour + 30n, () => job('stats canonical'))
      for (let i = 0; i < 4; i++) await at(hour + HOUR + 2n + BigInt(i), () => net.testClient.mine({ blocks: 1 }))
      const head = await waitForHead(indexer, net)
      expect(await hourBucket(live.database, hour)).toEqual([{ jobs_created: '2' }])
      expect(await orphansLeft(live.database, net)).toEqual([])

      const again = createIndexer({ db: fresh.database.db, deployment: net.deployment, config: config.indexer })
      const stop = new AbortController()
      const other = again.run(stop.signal)
      await waitForCursor(again, (n) => n === head)
      stop.abort()
      await other
      // Buckets may be closed at different blocks (a backfill stores fewer of them), never with different values.
      const stats = async (database: typeof live.database) =>
        (await dumpIndex(database, model, { closingBlocks: false })).filter((line) =>
          /^(Network|Provider)Stat_/.test(line),
        )
      const expected = await stats(fresh.database)
      expect(expected.length).toBeGreaterThan(10)
      expect(await stats(live.database)).toEqual(expected)
    } finally {
      controller.abort()
      await running
      for (const d of [live, fresh]) {
        await d.database.close()
        await d.cleanup()
      }
    }
  })
})
