// GraphQL throughput and latency of the running gateway under concurrent load, on loopback: three queries a dApp
// and an analyst page send (a job list, a provider profile, daily statistics with a provider leaderboard), each at
// 1, 16 and 64 concurrent clients for a fixed time (and a bounded request count).
// Seeds a realistic network on anvil, lets the gateway (its own process, production settings, Postgres) index it,
// then measures. Then the same database grows to a busy month's size (BENCH_LARGE_JOBS jobs and as many stake events
// of one provider, written by SQL beside the chain's rows, over as many mined blocks), the gateway restarts, catches
// up, builds its query indexes, and the three queries plus three of that month's typical ones are measured with the
// indexes and again after dropping them, in the same run. `npm run bench -- graphql` (BENCH_SECONDS per cell,
// BENCH_STEPS of seeded activity, BENCH_LARGE_JOBS (0 skips the large set), BENCH_NODE_ARGS for the gateway's node,
// e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it).
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runActivity } from '@computegraph/contracts/activity'
import { freePort } from '@computegraph/contracts/anvil'
import { writeDeployment } from '@computegraph/contracts/deploy'
import { startLocalNetwork } from '@computegraph/contracts/fixture'
import { createScratchDatabase, openDatabase, sql } from '../apps/gateway/src/db/database'
import { queryIndexes } from '../apps/gateway/src/db/query-indexes'
import { loadIndexDeclaration, loadSchemaModel } from '../apps/gateway/src/db/schema-file'
import { TEST_POSTGRES_URL } from '../apps/gateway/src/db/testing'
import { seedLargeIndex } from '../apps/gateway/src/graphql/testing/large-index'

const here = path.dirname(fileURLToPath(import.meta.url))
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const STEPS = Number(process.env.BENCH_STEPS ?? 1_000)
const MAX_REQUESTS = 100_000 // per row, so a very fast run still ends
const CONCURRENCY = [1, 16, 64]
const LARGE_JOBS = Number(process.env.BENCH_LARGE_JOBS ?? 100_000)
const BUSY = `0x${'11'.repeat(20)}`

const QUERIES: { name: string; query: string; variables?: (i: number) => Record<string, unknown> }[] = [
  {
    name: 'job list with providers',
    query: `{ jobs(first: 20, orderBy: createdAt, orderDirection: desc, where: { status_in: [OPEN, ASSIGNED, COMPLETED] }) {
      id status kind payment createdAt client { id } model { id uri } provider { id stake jobsCompleted } } }`,
  },
  {
    name: 'provider profile with nested jobs',
    query: `query Profile($id: ID!) { provider(id: $id) { id metadataURI stake pendingUnstake jobsCompleted rewardsEarned
      jobs(first: 20, orderBy: createdAt, orderDirection: desc) { id status payment createdAt client { id } }
      stakeEvents(first: 5, orderBy: timestamp, orderDirection: desc) { type amount timestamp } } }`,
  },
  {
    name: 'analyst daily statistics',
    query: `query Daily($since: Timestamp!) {
      days: networkStats(interval: day, first: 30, current: include) { timestamp jobsCreated jobsCompleted payments
        fees rewardsPaid rewardsClaimed totalStake activeProviders }
      leaders: providerStats(interval: day, first: 10, orderBy: rewards, orderDirection: desc,
        where: { timestamp_gte: $since }) { timestamp rewards jobsCompleted stake provider { id metadataURI } } }`,
  },
]

type Query = (typeof QUERIES)[number]

// A busy month's typical queries, as the issue "GraphQL whose cost does not grow with the data" measured them.
const LARGE_QUERIES: Query[] = [
  {
    name: '100 newest jobs with relations',
    query: `{ jobs(first: 100, orderBy: createdAt, orderDirection: desc) {
      id status kind payment createdAt client { id } model { id uri } provider { id stake } } }`,
  },
  {
    name: "a provider's 20 latest stake events",
    query: `{ provider(id: "${BUSY}") { id stake
      stakeEvents(first: 20, orderBy: timestamp, orderDirection: desc) { id type amount timestamp } } }`,
  },
  {
    name: '100 newest open jobs in a payment range',
    query: `{ jobs(first: 100, orderBy: createdAt, orderDirection: desc,
      where: { status: OPEN, payment_gte: "10000000", payment_lt: "90000000" }) { id payment createdAt } }`,
  },
]

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN
}

async function waitReady(base: string, child: ChildProcess) {
  const deadline = Date.now() + 180_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}`)
    const ok = await fetch(`${base}/ready`)
      .then((r) => r.ok)
      .catch(() => false)
    if (ok) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('gateway not ready after 180 s')
}

async function load({ url, body, clients }: { url: string; body: (i: number) => string; clients: number }) {
  const latencies: number[] = []
  let errors = 0
  let sent = 0
  const started = performance.now()
  const until = started + SECONDS * 1000
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until && sent < MAX_REQUESTS) {
        const i = sent++
        const t0 = performance.now()
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(i) })
        const json = (await res.json()) as { errors?: unknown[] }
        latencies.push(performance.now() - t0)
        if (!res.ok || json.errors) errors++
      }
    }),
  )
  const elapsed = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return {
    requests: latencies.length,
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  }
}

async function post(url: string, query: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  })
  return ((await res.json()) as { data: Record<string, unknown> }).data
}

function startGateway({ port, env }: { port: number; env: Record<string, string> }): ChildProcess {
  return spawn(
    process.execPath,
    [
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      '--import',
      'tsx',
      path.join(here, '../apps/gateway/src/main.ts'),
    ],
    { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] },
  )
}

async function stopGateway(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await exited
}

async function measure({ url, label, queries }: { url: string; label: string; queries: Query[] }): Promise<string[]> {
  const rows: string[] = []
  for (const q of queries) {
    for (const clients of CONCURRENCY) {
      const r = await load({
        url,
        clients,
        body: (i) => JSON.stringify({ query: q.query, variables: q.variables?.(i) }),
      })
      rows.push(
        `| ${label} | ${q.name} | ${clients} | ${r.requests} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} |`,
      )
    }
  }
  return rows
}

const loadAverage = async () =>
  (await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')

const net = await startLocalNetwork({ anvil: { accounts: 12 } })
const dir = await mkdtemp(path.join(tmpdir(), 'cg-bench-graphql-'))
const scratch = await createScratchDatabase(TEST_POSTGRES_URL)
let gateway: ChildProcess | undefined
try {
  await runActivity(net, { seed: 3, steps: STEPS, providers: [1, 2, 3, 4, 5, 6], clients: [7, 8, 9, 10, 11] })
  const deploymentFile = path.join(dir, 'deployment.json')
  await writeDeployment(deploymentFile, net.deployment)
  const port = await freePort()
  const env = {
    NODE_ENV: 'production',
    RPC_URL: net.anvil.rpcUrl,
    DEPLOYMENT_FILE: deploymentFile,
    DATABASE_URL: scratch.url,
    DATA_DIR: path.join(dir, 'data'),
    FINALITY: '3',
    // The load comes from one address; every other limit stays at its production default.
    GRAPHQL_RATE_LIMIT_PER_SECOND: '0',
  }
  gateway = startGateway({ port, env })
  const base = `http://127.0.0.1:${port}`
  await waitReady(base, gateway)
  const url = `${base}/graphql`
  const providers = ((await post(url, '{ providers { id } }')).providers as { id: string }[]).map((p) => p.id)
  const jobs = ((await post(url, '{ network(id: "network") { jobCount } }')).network as { jobCount: string }).jobCount
  QUERIES[1] = { ...(QUERIES[1] as Query), variables: (i) => ({ id: providers[i % providers.length] }) }
  // The leaderboard covers the last 7 closed days of the seeded activity, whose clock jumps span weeks.
  const week = (await post(url, '{ networkStats(interval: day, first: 7) { timestamp } }')).networkStats as {
    timestamp: string
  }[]
  const since = week.at(-1)?.timestamp
  if (!since) throw new Error('the seeded activity closed no day; raise BENCH_STEPS')
  QUERIES[2] = { ...(QUERIES[2] as Query), variables: () => ({ since }) }

  const loads = [`small: ${await loadAverage()}`]
  const rows = await measure({ url, label: `${jobs} jobs`, queries: QUERIES })
  const notes: string[] = []
  if (LARGE_JOBS > 0) {
    await stopGateway(gateway)
    const head = Number(await net.publicClient.getBlockNumber())
    const firstJob = Number(jobs) + 1
    const database = await openDatabase({ databaseUrl: scratch.url, dataDir: path.join(dir, 'data') })
    // Dropped so that the seed writes as a backfill would and the gateway builds them over the whole data again.
    const indexes = queryIndexes({ model: loadSchemaModel(), declaration: loadIndexDeclaration() })
    const dropQueryIndexes = async () => {
      for (const index of indexes) await database.query(sql.raw(`drop index if exists "${index.name}"`))
    }
    await dropQueryIndexes()
    const t0 = performance.now()
    await seedLargeIndex({ database, jobs: LARGE_JOBS, stakeEvents: LARGE_JOBS, busy: BUSY, firstJob, head })
    notes.push(`seeded ${LARGE_JOBS} jobs and stake events in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    gateway = startGateway({ port, env })
    await waitReady(base, gateway)
    const t1 = performance.now()
    for (;;) {
      const ready = (await (await fetch(`${base}/ready`)).json()) as { indexer: { queryIndexes?: { state: string } } }
      if (ready.indexer.queryIndexes?.state === 'ready') break
      if (ready.indexer.queryIndexes?.state === 'failed') throw new Error('query index build failed')
      await new Promise((r) => setTimeout(r, 200))
    }
    notes.push(`query indexes built after catch-up in ${((performance.now() - t1) / 1000).toFixed(1)} s`)
    const label = `${firstJob - 1 + LARGE_JOBS} jobs`
    loads.push(`large, indexed: ${await loadAverage()}`)
    rows.push(...(await measure({ url, label: `${label}, indexed`, queries: [...QUERIES, ...LARGE_QUERIES] })))
    await dropQueryIndexes()
    await database.close()
    loads.push(`large, without query indexes: ${await loadAverage()}`)
    rows.push(...(await measure({ url, label: `${label}, no query indexes`, queries: [...QUERIES, ...LARGE_QUERIES] })))
  }
  console.log(
    `${jobs} jobs, ${providers.length} providers, ${week.length}+ closed days indexed from ${STEPS} seeded steps; ` +
      `${SECONDS} s per row, Postgres; ${notes.join('; ')}; load average (1, 5, 15 min) before each part: ${loads.join(', ')}\n`,
  )
  console.log('| data | query | clients | requests | req/s | p50 ms | p99 ms | errors |')
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const row of rows) console.log(row)
} finally {
  await stopGateway(gateway)
  await scratch.drop()
  await net.stop()
  await rm(dir, { recursive: true, force: true })
}
