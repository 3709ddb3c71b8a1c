import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { jobMarketAbi } from '@computegraph/contracts/abis'
import { anvilAccount, runActivity } from '@computegraph/contracts/activity'
import { startAnvil } from '@computegraph/contracts/anvil'
import { actions, connectLocalNetwork, type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { sql } from 'drizzle-orm'
import { keccak256, parseEther, parseEventLogs, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../config/config'
import type { Database } from '../db/database'
import { loadSchemaModel } from '../db/schema-file'
import { openTestDatabase } from '../db/testing'
import type { Indexer } from './indexer'
import { createIndexer } from './indexer.factory'
import { rebuildEntities } from './rebuild'
import { dumpIndex, orphansLeft, waitForHead } from './testing/harness'

const HOUR = 3600n
const DAY = 24n * HOUR
const PROVIDERS = [1, 2, 3]
const CLIENTS = [4, 5]

/** Block timestamps and JobCreated blocks of [from, to], read from the chain. */
async function readChain(net: LocalNetwork, from: bigint, to: bigint) {
  const times = new Map<bigint, bigint>()
  for (let n = from; n <= to; n++) times.set(n, (await net.publicClient.getBlock({ blockNumber: n })).timestamp)
  const logs = await net.publicClient.getLogs({ address: net.addresses.jobMarket, fromBlock: from, toBlock: to })
  const created = parseEventLogs({ abi: jobMarketAbi, eventName: 'JobCreated', logs }).map((l) => l.blockNumber)
  return { times, created }
}

/**
 * The documented rule (rollup.ts, bucketClock): a block counts at the latest block time up to it. Jobs created per
 * closed bucket and the running total at each, for buckets with jobs.
 */
function expectedBuckets(times: Map<bigint, bigint>, created: bigint[], length: bigint): string[] {
  let clock = 0n
  const clockAt = new Map<bigint, bigint>()
  for (const [n, t] of [...times].sort(([a], [b]) => (a < b ? -1 : 1))) {
    clock = t > clock ? t : clock
    clockAt.set(n, clock)
  }
  const counts = new Map<bigint, bigint>()
  for (const n of created) {
    const at = clockAt.get(n) as bigint
    counts.set(at - (at % length), (counts.get(at - (at % length)) ?? 0n) + 1n)
  }
  const out: string[] = []
  let total = 0n
  for (const [start, n] of [...counts].sort(([a], [b]) => (a < b ? -1 : 1))) {
    total += n
    if (start + length <= clock) out.push(`${start} ${n} ${total}`)
  }
  return out
}

async function indexedBuckets(database: Database, table: string): Promise<string[]> {
  const rows = await database.query<{ t: string; n: string; total: string }>(
    sql`select (timestamp / 1000000)::text as t, jobs_created::text as n, total_jobs_created::text as total
      from ${sql.raw(`"${table}"`)} where jobs_created > 0 order by timestamp`,
  )
  return rows.map((r) => `${r.t} ${r.n} ${r.total}`)
}

/** Runs the indexer until it has the chain's head; returns how many reorgs it rolled back on the way. */
async function follow(indexer: Indexer, net: LocalNetwork): Promise<number> {
  let reorgs = 0
  indexer.on('reorg', () => reorgs++)
  const controller = new AbortController()
  const running = indexer.run(controller.signal)
  try {
    await waitForHead(indexer, net, 120_000)
  } finally {
    controller.abort()
    await running
  }
  return reorgs
}

describe('a chain whose block times repeat and go back (anvil restarted from its state file)', () => {
  let dir: string
  let db: Awaited<ReturnType<typeof openTestDatabase>>
  let net: LocalNetwork | undefined
  let times: Map<bigint, bigint>
  let created: bigint[]
  let chainId: number
  let minStake: bigint

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cg-timestamps-'))
    const stateFile = path.join(dir, 'state.json')
    db = await openTestDatabase('pglite')
    net = await startLocalNetwork({ anvil: { accounts: 6, args: ['--state', stateFile] } })
    const deployment = net.deployment
    chainId = deployment.chainId
    minStake = BigInt(deployment.params.minStake)
    const indexerFor = (n: LocalNetwork) =>
      createIndexer({
        db: db.database.db,
        deployment,
        // A finality depth above the chain's length: every block is followed and stored, as at a demo's head.
        config: loadConfig({ RPC_URL: n.anvil.rpcUrl, FINALITY: '100000', POLL_INTERVAL_MS: '20' }).indexer,
      })
    const client = anvilAccount(CLIENTS[0] as number)
    const modelId = keccak256(toHex('timestamps model'))
    await actions(net).fundClient(client, parseEther('1000'))
    await actions(net).registerModel(client, modelId)
    const job = (on: LocalNetwork, variant: string, deadline: bigint, at?: bigint) =>
      (at === undefined ? Promise.resolve() : on.testClient.setNextBlockTimestamp({ timestamp: at })).then(() =>
        actions(on).createJob(client, {
          modelId,
          inputHash: keccak256(toHex(variant)),
          payment: parseEther('1'),
          deadline,
        }),
      )
    // Jobs in the wall-clock hour and the next, so that whichever hour the restarted chain mines in below is one that
    // has data and was closed when the clock jumped ahead.
    const hour = ((await actions(net).latestTimestamp()) / HOUR) * HOUR
    await job(net, 'this hour', hour + 2n * DAY)
    await job(net, 'next hour', hour + 2n * DAY, hour + HOUR + 1n)
    await runActivity(net, { seed: 61, steps: 60, providers: PROVIDERS, clients: CLIENTS })
    // The latest time before the restart is a block without events: a rebuild must count it like the live index.
    await net.testClient.setNextBlockTimestamp({ timestamp: (await actions(net).latestTimestamp()) + 2n * HOUR })
    await net.testClient.mine({ blocks: 1 })
    const headBefore = await net.publicClient.getBlockNumber()
    const before = await readChain(net, 0n, headBefore)
    await follow(indexerFor(net), net)
    await net.stop()

    // anvil restarted from its state file keeps the blocks but not the clock's offset: it mines at wall time, a day
    // or more before the last block.
    net = connectLocalNetwork({ anvil: await startAnvil({ accounts: 6, args: ['--state', stateFile] }), deployment })
    const last = before.times.get(headBefore) as bigint
    await job(net, 'back in time', last)
    const back = (await net.publicClient.getBlock()).timestamp
    expect(back).toBeLessThan(last - HOUR)
    await job(net, 'same time again', last, back)
    // Past the end of the hour the back-dated blocks were mined in: that hour was closed before the restart.
    await job(net, 'next hour, still back in time', last, (back / HOUR) * HOUR + HOUR + 5n)
    await follow(indexerFor(net), net)
    // A reorg over the back-dated blocks: an orphaned block past the latest time closes the bucket they count in.
    const snapshot = await net.testClient.snapshot()
    await job(net, 'orphaned', last + DAY, last + HOUR)
    await follow(indexerFor(net), net)
    const orphan = await net.publicClient.getBlockNumber()
    const closedByOrphan = await db.database.query(sql`select 1 from network_stat_hour where block_from = ${orphan}`)
    expect(closedByOrphan).toHaveLength(1)
    await net.testClient.revert({ id: snapshot })
    await runActivity(net, { seed: 62, steps: 60, providers: PROVIDERS, clients: CLIENTS })
    // A block a day past both clocks closes the buckets that hold the latest data points.
    const latest = (await net.publicClient.getBlock()).timestamp
    await net.testClient.setNextBlockTimestamp({ timestamp: (latest > last ? latest : last) + DAY })
    await net.testClient.mine({ blocks: 1 })
    const after = await readChain(net, headBefore + 1n, await net.publicClient.getBlockNumber())
    expect(await follow(indexerFor(net), net)).toBe(1)
    times = new Map([...before.times, ...after.times])
    created = [...before.created, ...after.created]
  }, 300_000)

  afterAll(async () => {
    await net?.stop()
    await db?.database.close()
    await db?.cleanup()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('keeps indexing, each block counted in statistics at the latest block time up to it', async () => {
    expect(created.length).toBeGreaterThan(10)
    for (const [interval, length] of [
      ['hour', HOUR],
      ['day', DAY],
    ] as const) {
      const expected = expectedBuckets(times, created, length)
      expect(expected.length, interval).toBeGreaterThan(1)
      expect(await indexedBuckets(db.database, `network_stat_${interval}`), interval).toEqual(expected)
    }
    expect(await orphansLeft(db.database, net as LocalNetwork)).toEqual([])
  })

  it('rebuilds the same entities and buckets from the stored events and blocks', async () => {
    const model = loadSchemaModel()
    const live = await dumpIndex(db.database, model)
    await rebuildEntities({ db: db.database.db, model, chainId, env: { minStake }, pageSize: 5 })
    expect(await dumpIndex(db.database, model)).toEqual(live)
  })
})
