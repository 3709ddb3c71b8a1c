// GraphQL throughput and latency of the running gateway under concurrent load, on loopback: three queries a dApp
// and an analyst page send (a job list, a provider profile, daily statistics with a provider leaderboard), each at
// 1, 16 and 64 concurrent clients for a fixed time (and a bounded request count).
// Seeds a realistic network on anvil, lets the gateway (its own process, production settings, Postgres) index it,
// then measures. `npm run bench -- graphql` (BENCH_SECONDS per cell, BENCH_STEPS of seeded activity,
// BENCH_NODE_ARGS for the gateway's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it).
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runActivity } from '@computegraph/contracts/activity'
import { freePort } from '@computegraph/contracts/anvil'
import { writeDeployment } from '@computegraph/contracts/deploy'
import { startLocalNetwork } from '@computegraph/contracts/fixture'
import { createScratchDatabase } from '../apps/gateway/src/db/database'
import { TEST_POSTGRES_URL } from '../apps/gateway/src/db/testing'

const here = path.dirname(fileURLToPath(import.meta.url))
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const STEPS = Number(process.env.BENCH_STEPS ?? 1_000)
const MAX_REQUESTS = 100_000 // per row, so a very fast run still ends
const CONCURRENCY = [1, 16, 64]

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

const net = await startLocalNetwork({ anvil: { accounts: 12 } })
const dir = await mkdtemp(path.join(tmpdir(), 'cg-bench-graphql-'))
const scratch = await createScratchDatabase(TEST_POSTGRES_URL)
let gateway: ChildProcess | undefined
try {
  await runActivity(net, { seed: 3, steps: STEPS, providers: [1, 2, 3, 4, 5, 6], clients: [7, 8, 9, 10, 11] })
  const deploymentFile = path.join(dir, 'deployment.json')
  await writeDeployment(deploymentFile, net.deployment)
  const port = await freePort()
  gateway = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      '--import',
      'tsx',
      path.join(here, '../apps/gateway/src/main.ts'),
    ],
    {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: String(port),
        RPC_URL: net.anvil.rpcUrl,
        DEPLOYMENT_FILE: deploymentFile,
        DATABASE_URL: scratch.url,
        DATA_DIR: path.join(dir, 'data'),
        FINALITY: '3',
        // The load comes from one address; every other limit stays at its production default.
        GRAPHQL_RATE_LIMIT_PER_SECOND: '0',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
  const base = `http://127.0.0.1:${port}`
  await waitReady(base, gateway)
  const url = `${base}/graphql`
  const providers = (
    (await (
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ providers { id } }' }),
      })
    ).json()) as { data: { providers: { id: string }[] } }
  ).data.providers.map((p) => p.id)
  const jobs = (
    (await (
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ network(id: "network") { jobCount } }' }),
      })
    ).json()) as { data: { network: { jobCount: string } } }
  ).data.network.jobCount
  QUERIES[1] = {
    ...(QUERIES[1] as (typeof QUERIES)[number]),
    variables: (i) => ({ id: providers[i % providers.length] }),
  }
  // The leaderboard covers the last 7 closed days of the seeded activity, whose clock jumps span weeks.
  const week = (
    (await (
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ networkStats(interval: day, first: 7) { timestamp } }' }),
      })
    ).json()) as { data: { networkStats: { timestamp: string }[] } }
  ).data.networkStats
  const since = week.at(-1)?.timestamp
  if (!since) throw new Error('the seeded activity closed no day; raise BENCH_STEPS')
  QUERIES[2] = { ...(QUERIES[2] as (typeof QUERIES)[number]), variables: () => ({ since }) }

  const rows: string[] = []
  for (const q of QUERIES) {
    for (const clients of CONCURRENCY) {
      const r = await load({
        url,
        clients,
        body: (i) => JSON.stringify({ query: q.query, variables: q.variables?.(i) }),
      })
      rows.push(
        `| ${q.name} | ${clients} | ${r.requests} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} |`,
      )
    }
  }
  console.log(
    `${jobs} jobs, ${providers.length} providers, ${week.length}+ closed days indexed from ${STEPS} seeded steps; ` +
      `${SECONDS} s per row, Postgres\n`,
  )
  console.log('| query | clients | requests | req/s | p50 ms | p99 ms | errors |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const row of rows) console.log(row)
} finally {
  gateway?.kill('SIGTERM')
  await new Promise((r) => (gateway && gateway.exitCode === null ? gateway.once('exit', r) : r(null)))
  await scratch.drop()
  await net.stop()
  await rm(dir, { recursive: true, force: true })
}
