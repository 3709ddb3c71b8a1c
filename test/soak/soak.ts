import { type ChildProcess, execFile } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { anvilAccount, prng } from '@computegraph/contracts/activity'
import { freePort } from '@computegraph/contracts/anvil'
import type { LocalAccount } from 'viem'
import { GraphqlError, type Request } from '../../apps/dashboard/src/graphql-error'
import * as dashboard from '../../apps/dashboard/src/queries'
import { RECENT_JOB_COUNT, ReceiptVerifier } from '../../apps/dashboard/src/receipt-verifier'
import { type GatewayProcess, startDemoProcess } from '../../apps/gateway/src/compute/testing/gateway-process'
import { DASHBOARD_DIST, isBuilt } from '../../apps/gateway/src/dashboard/dashboard-files'
import { DEMO_WORKER_ACCOUNTS } from '../../apps/gateway/src/demo/demo-chain'
import { formatInvariantTable, type InvariantKey, InvariantLog, type InvariantRow } from './invariants'
import { type ProcessInfo, processTable, processTree, residentBytes, survivors } from './process-table'
import { connectRogueWorker, type RogueWorker } from './rogue-workers'
import { type SoakEvent, soakSchedule } from './schedule'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const VERIFY_CLI = path.join(REPO, 'apps/gateway/src/compute/verification/verify-receipt.cli.ts')
const execFileAsync = promisify(execFile)

/** The demo indexes to this depth below the chain's head (main.ts: `finality: { kind: 'depth', depth: 2 }`). */
const DEMO_FINALITY_DEPTH = 2n
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are control characters.
const ANSI = /\u001b\[[0-9;]*m/g

export interface SoakOptions {
  /** Time the demo is up and driven; stopping and starting it comes on top. */
  durationMs: number
  seed: number
  /** Mean time between disruptions (Ctrl-C and restart, SIGKILL of the gateway, SIGKILL of a worker). */
  disruptEveryMs: number
  /** Mean time between traffic events (bursts, reads, rogue workers). */
  trafficEveryMs: number
  /** Concurrent /v1/infer calls in a burst. */
  burstSize: number
  /** The indexed head must reach the chain's finalized head within this long. */
  lagBoundMs: number
  /** An accepted request must complete within this long of the gateway being up. */
  completionBoundMs: number
  /** Ctrl-C must end the demo within this long; the children of a stopped or killed gateway must be gone within `exitGraceMs`. */
  stopBoundMs: number
  exitGraceMs: number
  /** How long a rogue worker stays connected. */
  rogueLifetimeMs: number
  /** Memory is judged from this long after a process started, over at least `memorySpanMs` of samples. */
  memoryWarmupMs: number
  memorySpanMs: number
  /** Receipts also checked with the verify-receipt CLI (a process each), at most this many. */
  cliChecks: number
  /** DEMO_SEED_STEPS of the first start. */
  seedSteps: number
  /** Also GET the dashboard page (when built); off where another test rebuilds it meanwhile. */
  pageCheck: boolean
  /** Log lines with ERROR that are expected (none today). */
  allowedErrors: RegExp[]
  /** Where the demo keeps its data and the soak its logs; a fresh temporary folder, removed at the end, when omitted. */
  workDir?: string
  /** Keep the temporary folder (the demo's data and log) when an invariant broke. */
  keepOnFailure: boolean
  /** Wall time after which no further event starts, however long the demo took to stop and start (default 2 x duration + 10 min). */
  maxWallMs?: number
  /** Aborting stops the demo at once (SIGKILL) and ends the soak with what it saw (the CLI's Ctrl-C). */
  signal?: AbortSignal
  log: (line: string) => void
}

export const SOAK_DEFAULTS: Omit<SoakOptions, 'log'> = {
  durationMs: 30 * 60_000,
  seed: 1,
  // Long enough between restarts for a process to warm up and show its memory trend.
  disruptEveryMs: 240_000,
  trafficEveryMs: 5_000,
  burstSize: 12,
  lagBoundMs: 30_000,
  completionBoundMs: 60_000,
  stopBoundMs: 30_000,
  exitGraceMs: 5_000,
  rogueLifetimeMs: 30_000,
  memoryWarmupMs: 60_000,
  memorySpanMs: 120_000,
  cliChecks: 30,
  seedSteps: 150,
  allowedErrors: [],
  pageCheck: true,
  keepOnFailure: true,
}

/** The bounded form that `npm test` runs: 100 s of demo uptime, every disruption and rogue at least once. */
export const SHORT_SOAK: Partial<SoakOptions> = {
  durationMs: 100_000,
  seed: 7,
  disruptEveryMs: 30_000,
  trafficEveryMs: 4_000,
  burstSize: 8,
  rogueLifetimeMs: 15_000,
  memoryWarmupMs: 10_000,
  memorySpanMs: 15_000,
  cliChecks: 3,
  seedSteps: 40,
}

export interface SoakReport {
  rows: InvariantRow[]
  failures: number
  events: Record<string, number>
  table: string
  /** The kept work folder (demo data and log) when it was kept. */
  kept?: string
}

/** One start of the demo, until it was stopped or killed. */
interface DemoRun {
  n: number
  gateway: GatewayProcess
  rpcUrl: string
  deploymentFile: string
  readyAt: number
  /** The earliest time a finalized head above the indexed head was seen, while it stays above. */
  behindSince?: number
}

interface Accepted {
  id: string
  acceptedAt: number
  /** Time spent with the gateway up since it was accepted. */
  upMs: number
  /** worker:nonce of its receipt once completed, or how it ended otherwise. */
  receiptKey?: string
  recheck: boolean
}

interface Bundle {
  json: string
  source: string
}

/** A process's resident memory over its life, for the flat-memory invariant. */
interface MemoryTrack {
  label: string
  startedAt: number
  samples: { t: number; bytes: number }[]
}

/**
 * Runs the demo as a user would, for `durationMs`, while disrupting it on a seeded schedule and checking the
 * invariants all along; resolves with the table of checks (never throws for a broken invariant). Every process it
 * started is gone when it resolves or throws.
 */
export async function runSoak(options: Partial<SoakOptions> & { log: SoakOptions['log'] }): Promise<SoakReport> {
  const o: SoakOptions = { ...SOAK_DEFAULTS, ...options }
  const workDir = o.workDir ?? (await mkdtemp(path.join(tmpdir(), 'cg-soak-')))
  const dataDir = path.join(workDir, 'data')
  const logFile = createWriteStream(path.join(workDir, 'demo.log'), { flags: 'a' })
  const invariants = new InvariantLog((key, detail) => o.log(`INVARIANT BROKEN (${key}): ${detail.slice(0, 300)}`))
  const rnd = prng(o.seed)
  const port = await freePort()
  const anvilPort = await freePort()
  const started = Date.now()
  const events: Record<string, number> = {}
  const accepted = new Map<string, Accepted>()
  const receiptKeys = new Map<string, string>()
  const toVerify: Bundle[] = []
  const verdicts = new Map<string, boolean>()
  const dashboardChecked = new Set<string>()
  const memory = new Map<string, MemoryTrack>()
  /** Every process seen in a gateway's tree: the demo puts its children in process groups of their own. */
  const seen = new Map<string, ProcessInfo>()
  const rogues: RogueWorker[] = []
  const timers: NodeJS.Timeout[] = []
  /** Every gateway process spawned, ready or not: each leads a process group of its own. */
  const spawned: ChildProcess[] = []
  let current: DemoRun | undefined
  let runs = 0
  let cliChecks = 0
  /** Set while the driver itself stops or kills the gateway: failed calls then are expected. */
  let disruptedAt = 0
  let models: { name: string; width: number }[] = []

  /** Time spent stopping and starting the demo: the schedule runs on the time the demo was up. */
  let downMs = 0
  const maxWallMs = o.maxWallMs ?? 2 * o.durationMs + 600_000
  const aborted = new Promise<void>((resolve) => o.signal?.addEventListener('abort', () => resolve(), { once: true }))
  /** Waits `ms`, or less when the soak is aborted. */
  const pause = (ms: number) => Promise.race([sleep(ms), aborted])
  const up = () => current !== undefined
  const elapsed = () => Date.now() - started
  const uptime = () => elapsed() - downMs

  // ---- the demo's lifecycle -------------------------------------------------------------------------------------

  const start = async (): Promise<DemoRun | undefined> => {
    const n = ++runs
    const t0 = Date.now()
    let rpcUrl = ''
    try {
      const gateway = await startDemoProcess({
        dataDir,
        port,
        anvilPort,
        env: { DEMO_SEED_STEPS: String(o.seedSteps) },
        onSpawn: (proc) => spawned.push(proc),
        onLine: (raw) => {
          const line = raw.replace(ANSI, '')
          logFile.write(`[run ${n}] ${line}\n`)
          const chain = /demo chain: (http:\/\/[0-9.:]+)/.exec(line)
          if (chain) rpcUrl = chain[1] as string
          const unexpected = /\bERROR\b|failed to start/.test(line) && !o.allowedErrors.some((r) => r.test(line))
          invariants.check('logClean', unexpected ? `run ${n}: ${line.slice(0, 300)}` : undefined)
        },
      })
      invariants.check('restarts', undefined, { value: (Date.now() - t0) / 1000, unit: 's to ready' })
      const run: DemoRun = {
        n,
        gateway,
        rpcUrl,
        deploymentFile: path.join(dataDir, 'demo', 'deployment.json'),
        readyAt: Date.now(),
      }
      o.log(`run ${n}: demo ready on port ${port}, chain ${rpcUrl} (soak time ${Math.round(elapsed() / 1000)} s)`)
      if (models.length === 0) models = await listModels(gateway.baseUrl)
      return run
    } catch (error) {
      const lines = (error as Error).message.replace(ANSI, '').split('\n')
      invariants.check('restarts', `run ${n}: ${lines[0]} … ${lines.slice(-4).join(' | ')}`)
      return undefined
    }
  }

  /** Children of the gateway found after it is gone, by their command lines (the anvil on our data folder, our workers). */
  const strays = (): ProcessInfo[] =>
    processTable().filter(
      (p) =>
        !p.command.includes(VERIFY_CLI) &&
        (p.command.includes(dataDir) || p.command.includes(`127.0.0.1:${port}/workers`)),
    )

  /** `tree` must be gone within the grace; after the gateway itself went, so must anything else that is its. */
  const checkNoSurvivors = async (what: string, tree: ProcessInfo[], gatewayGone: boolean) => {
    const deadline = Date.now() + o.exitGraceMs
    let left = survivors({ processes: tree })
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(100)
      left = survivors({ processes: tree })
    }
    const stray = gatewayGone ? strays().filter((p) => !left.some((l) => l.pid === p.pid)) : []
    const all = [...left, ...stray]
    invariants.check(
      'noSurvivors',
      all.length > 0
        ? `${all.length} process(es) outlived ${what} by ${o.exitGraceMs} ms: ${all.map((p) => `${p.pid} ${p.command.slice(0, 140)}`).join('; ')}`
        : undefined,
      { value: all.length, unit: 'processes' },
    )
    // Whatever outlived it is stopped here, so that the next start is judged on its own.
    for (const p of all) {
      try {
        process.kill(p.pid, 'SIGKILL')
      } catch {
        // gone meanwhile
      }
    }
  }

  const stop = async (how: 'ctrl-c' | 'kill-gateway') => {
    const run = current
    if (!run) return
    disruptedAt = Date.now()
    current = undefined
    const tree = processTree({ root: run.gateway.proc.pid as number })
    if (how === 'ctrl-c') {
      // A terminal's Ctrl-C signals the whole foreground process group, not the gateway alone.
      process.kill(-(run.gateway.proc.pid as number), 'SIGINT')
      const code = await Promise.race([run.gateway.exited, sleep(o.stopBoundMs).then(() => 'timeout' as const)])
      invariants.check(
        'stopsClean',
        code === 0
          ? undefined
          : `run ${run.n}: ${code === 'timeout' ? `still running ${o.stopBoundMs} ms after Ctrl-C` : `exit code ${code}`}; log tail: ${tailOf(run.gateway)}`,
      )
      if (code === 'timeout') await run.gateway.kill('SIGKILL')
      await checkNoSurvivors(`Ctrl-C of run ${run.n}`, tree.slice(1), true)
    } else {
      await run.gateway.kill('SIGKILL')
      await checkNoSurvivors(`SIGKILL of the gateway of run ${run.n}`, tree.slice(1), true)
    }
    run.gateway.killGroup()
  }

  const killWorker = async () => {
    const run = current
    if (!run) return
    const workers = processTree({ root: run.gateway.proc.pid as number }).filter((p) =>
      p.command.includes('gpu-worker/src/main.ts'),
    )
    if (workers.length === 0) return
    const victim = workers[rnd.int(workers.length)] as ProcessInfo
    const tree = processTree({ root: victim.pid })
    disruptedAt = Date.now()
    process.kill(victim.pid, 'SIGKILL')
    await checkNoSurvivors(`SIGKILL of worker ${victim.pid}`, tree, false)
  }

  // ---- traffic ----------------------------------------------------------------------------------------------------

  const burst = async (wait: boolean) => {
    const run = current
    if (!run || models.length === 0) return
    await Promise.all(
      Array.from({ length: o.burstSize }, async () => {
        const model = models[rnd.int(models.length)] as { name: string; width: number }
        const rows = 1 + rnd.int(4)
        const input = Array.from({ length: rows }, () =>
          Array.from({ length: model.width }, () => Math.round((rnd.next() - 0.5) * 4_000) / 1_000),
        )
        const sentAt = Date.now()
        let res: Response
        try {
          res = await fetch(`${run.gateway.baseUrl}/v1/infer${wait ? '' : '?wait=false'}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ model: model.name, input }),
          })
        } catch (error) {
          // The driver stopped or killed the gateway meanwhile: the call could not be answered.
          if (disruptedAt >= sentAt) return
          invariants.check('completesOnce', `POST /v1/infer failed with the gateway up: ${(error as Error).message}`)
          return
        }
        const body = (await res.json().catch(() => ({}))) as Record<string, unknown>
        outcome({ status: res.status, body, sentAt })
      }),
    )
  }

  /** Judges one /v1/infer answer: accepted (200 or 202), refused with a reason a client can act on, or broken. */
  const outcome = ({ status, body, sentAt }: { status: number; body: Record<string, unknown>; sentAt: number }) => {
    const error = body.error as { code?: string; reason?: string; message?: string } | undefined
    const id = body.requestId as string | undefined
    if ((status === 200 || status === 202) && id) {
      accepted.set(id, { id, acceptedAt: sentAt, upMs: 0, recheck: true })
      if (status === 200) completed(id, body, 'POST /v1/infer')
      return
    }
    // Backpressure and an empty pool are answers a client can act on, not lost requests.
    const refusals = ['WORKERS_BUSY', 'NO_WORKER_FOR_MODEL', 'RATE_LIMITED', 'NO_WORKERS']
    if ((status === 503 || status === 429) && refusals.includes(error?.reason ?? error?.code ?? '')) return
    if (disruptedAt >= sentAt) return
    invariants.check(
      'completesOnce',
      `POST /v1/infer answered ${status} ${error?.reason ?? error?.code ?? ''}: ${error?.message ?? JSON.stringify(body).slice(0, 200)}`,
    )
  }

  const completed = (id: string, body: Record<string, unknown>, source: string) => {
    const entry = accepted.get(id)
    if (!entry) return
    const receipt = body.receipt as { receipt?: { nonce?: string; worker?: string } } | undefined
    // A worker's nonce names one execution: two requests with one receipt, or one request with two, is a double.
    const key = `${receipt?.receipt?.worker}:${receipt?.receipt?.nonce}`
    if (entry.receiptKey === undefined) {
      const other = receiptKeys.get(key)
      invariants.check(
        'completesOnce',
        other && other !== id ? `requests ${other} and ${id} got the same receipt (${key})` : undefined,
      )
      receiptKeys.set(key, id)
      entry.receiptKey = key
      if (receipt) toVerify.push({ json: JSON.stringify(receipt), source: `${source} ${id}` })
      return
    }
    // Read again later: the same receipt, not a second execution.
    invariants.check(
      'completesOnce',
      entry.receiptKey === key ? undefined : `request ${id} completed twice: receipt ${entry.receiptKey}, then ${key}`,
    )
    entry.recheck = false
  }

  const pollAccepted = async () => {
    const run = current
    if (!run) return
    for (const entry of accepted.values()) {
      if (entry.receiptKey && !entry.recheck) continue
      if (entry.receiptKey && uptime() < o.durationMs && entry.upMs < 10_000) continue
      const res = await fetch(`${run.gateway.baseUrl}/v1/requests/${entry.id}`).catch(() => undefined)
      if (!res || current !== run) return
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>
      if (res.status === 200 && body.status === 'completed') {
        completed(entry.id, body, 'GET /v1/requests')
      } else if (res.status === 200 && body.status === 'failed') {
        invariants.check('completesOnce', `request ${entry.id} failed: ${JSON.stringify(body.error)}`)
        entry.receiptKey = 'failed'
        entry.recheck = false
      } else if (res.status === 404) {
        invariants.check('completesOnce', `accepted request ${entry.id} is unknown to the gateway (run ${run.n})`)
        entry.receiptKey = 'lost'
        entry.recheck = false
      } else if (entry.upMs > o.completionBoundMs) {
        invariants.check(
          'completesOnce',
          `request ${entry.id} still ${body.status ?? res.status} after ${Math.round(entry.upMs / 1000)} s of gateway uptime`,
        )
        entry.receiptKey = 'stuck'
        entry.recheck = false
      }
    }
  }

  const reads = async () => {
    const run = current
    if (!run) return
    const base = run.gateway.baseUrl
    const asked = Date.now()
    // The page itself only where it was built (`npm run soak` builds it, as `npm start` does); the queries always.
    const page = o.pageCheck && isBuilt(DASHBOARD_DIST) ? await fetch(`${base}/`).catch(() => undefined) : undefined
    const answers: [string, Promise<GraphqlAnswer>][] = [
      ['Overview', graphql(base, dashboard.OVERVIEW, { order: 'rewardsEarned' })],
      ['NetworkStats hour', graphql(base, dashboard.NETWORK_STATS, { interval: 'hour' })],
      ['NetworkStats day', graphql(base, dashboard.NETWORK_STATS, { interval: 'day' })],
      ['Workers', graphql(base, dashboard.WORKERS, {})],
      ['RecentJobs', graphql(base, dashboard.RECENT_JOBS, { first: RECENT_JOB_COUNT })],
    ]
    const failures: string[] = []
    if (page && page.status !== 200) failures.push(`GET / answered ${page.status}`)
    let jobs: dashboard.JobRow[] = []
    for (const [name, answer] of answers) {
      const a = await answer
      if (a.errors) failures.push(`${name}: ${a.errors}`)
      if (name === 'Overview' && (a.data?._meta as { hasIndexingErrors?: boolean })?.hasIndexingErrors) {
        failures.push('_meta.hasIndexingErrors is true')
      }
      if (name === 'RecentJobs') jobs = (a.data?.jobs as dashboard.JobRow[]) ?? []
    }
    if (current !== run || disruptedAt >= asked) return
    invariants.check('readsAnswer', failures.length > 0 ? failures.join('; ') : undefined)
    await checkDashboardVerdicts(run, jobs)
  }

  /** What the dashboard's jobs table shows: its own verifier, as a fresh page load would run it, on the jobs it lists. */
  const checkDashboardVerdicts = async (run: DemoRun, jobs: dashboard.JobRow[]) => {
    const verifier = new ReceiptVerifier(() => {}, requestFrom(run.gateway.baseUrl))
    const todo = jobs.filter(
      (j) => j.status === 'COMPLETED' && j.receiptDigest && !dashboardChecked.has(j.receiptDigest),
    )
    await verifier.check(todo)
    if (current !== run) return
    for (const job of todo) {
      const v = verifier.verdict(job.receiptDigest as string)
      // Not judged this time (the gateway was busy or went away): the next read asks again.
      if (v.kind === 'pending' || v.kind === 'error') continue
      dashboardChecked.add(job.receiptDigest as string)
      const failure =
        v.kind === 'invalid'
          ? `job ${job.id} shows "failed": ${v.failed.join('; ')}`
          : v.kind === 'unavailable'
            ? `job ${job.id}: the gateway serves no receipt verification`
            : undefined
      invariants.check('dashboardVerified', failure)
    }
  }

  const verifyReceipts = async () => {
    const run = current
    if (!run || toVerify.length === 0) return
    const batch = toVerify.splice(0, 10)
    const answer = await graphql(
      run.gateway.baseUrl,
      `query (${batch.map((_, i) => `$b${i}: String!`).join(', ')}) { ${batch
        .map((_, i) => `v${i}: verifyReceipt(bundle: $b${i}) { valid checks { name status reason } }`)
        .join(' ')} }`,
      Object.fromEntries(batch.map((b, i) => [`b${i}`, b.json])),
    )
    if (answer.errors || current !== run) {
      toVerify.unshift(...batch)
      return
    }
    for (const [i, b] of batch.entries()) {
      const v = answer.data?.[`v${i}`] as dashboard.ReceiptVerification
      verdicts.set(b.json, v.valid)
      invariants.check('receiptValid', v.valid ? undefined : `${b.source}: ${failedChecks(v)}`)
    }
    // The CLI, a process per receipt, on a sample spread evenly over the soak's uptime.
    const sample = batch[rnd.int(batch.length)] as Bundle
    const due = cliChecks < o.cliChecks && uptime() >= (cliChecks * o.durationMs) / o.cliChecks
    if (due && run.rpcUrl) await verifyWithCli(run, sample)
  }

  const verifyWithCli = async (run: DemoRun, bundle: Bundle) => {
    const file = path.join(workDir, 'bundle.json')
    await writeFile(file, bundle.json)
    const env: NodeJS.ProcessEnv = { ...process.env }
    delete env.DATABASE_URL
    let code = 0
    let stdout = ''
    try {
      ;({ stdout } = await execFileAsync(
        process.execPath,
        ['--import', 'tsx', VERIFY_CLI, file, '--json', '--rpc-url', run.rpcUrl, '--deployment', run.deploymentFile],
        { cwd: REPO, env, timeout: 60_000 },
      ))
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string }
      code = typeof e.code === 'number' ? e.code : -1
      stdout = e.stdout ?? ''
      // 2: it could not judge (the chain went away with a restart); not a verdict.
      if (code !== 1) {
        if (current === run) o.log(`verify-receipt exited ${code}: ${(e.stderr ?? '').slice(0, 300)}`)
        return
      }
    }
    cliChecks++
    const cli = (JSON.parse(stdout) as { valid: boolean }).valid
    const graphqlVerdict = verdicts.get(bundle.json)
    invariants.check(
      'verdictsAgree',
      cli === graphqlVerdict
        ? undefined
        : `${bundle.source}: GraphQL says ${graphqlVerdict ? 'valid' : 'invalid'}, the CLI (--rpc-url) says ${cli ? 'valid' : 'invalid'}`,
    )
  }

  // ---- continuous checks ------------------------------------------------------------------------------------------

  const sampleHead = async () => {
    const run = current
    if (!run?.rpcUrl) return
    const [head, meta] = await Promise.all([
      rpc<string>(run.rpcUrl, 'eth_blockNumber').catch(() => undefined),
      graphql(run.gateway.baseUrl, '{ _meta { block { number } } }', {}),
    ])
    const indexed = (meta.data?._meta as { block?: { number?: number } } | undefined)?.block?.number
    if (head === undefined || indexed === undefined || current !== run) return
    const finalized = BigInt(head) - DEMO_FINALITY_DEPTH
    const now = Date.now()
    if (BigInt(indexed) >= finalized) run.behindSince = undefined
    else run.behindSince ??= now
    const behindMs = run.behindSince === undefined ? 0 : now - run.behindSince
    invariants.check(
      'indexLag',
      behindMs > o.lagBoundMs
        ? `run ${run.n}: indexed head ${indexed} behind the finalized head ${finalized} for ${Math.round(behindMs / 1000)} s`
        : undefined,
      { value: behindMs / 1000, unit: 's' },
    )
  }

  const sampleMemory = () => {
    const run = current
    if (!run) return
    const now = Date.now()
    const tree = processTree({ root: run.gateway.proc.pid as number })
    for (const p of tree) seen.set(`${p.pid}:${p.start}`, p)
    for (const p of tree) {
      // anvil is the chain, not ours: it keeps every block's state in memory (verify-receipt --rpc-url reads stake
      // at past blocks), so its RSS grows with the chain by design.
      if (labelOf(p) === 'anvil') continue
      const bytes = residentBytes(p.pid)
      if (bytes === undefined) continue
      const key = `${p.pid}:${p.start}`
      let track = memory.get(key)
      if (!track) {
        track = { label: `run ${run.n} ${labelOf(p)} ${p.pid}`, startedAt: now, samples: [] }
        memory.set(key, track)
      }
      track.samples.push({ t: now, bytes })
    }
  }

  const judgeMemory = () => {
    for (const track of memory.values()) {
      const growth = memoryGrowth({ track, warmupMs: o.memoryWarmupMs, spanMs: o.memorySpanMs })
      if (!growth) continue
      invariants.check(
        'memoryFlat',
        growth.bytes > growth.allowed
          ? `${track.label}: RSS ${mb(growth.from)} → ${mb(growth.to)} MB over ${Math.round(growth.spanMs / 1000)} s after warm-up`
          : undefined,
        { value: growth.bytes / 2 ** 20, unit: 'MB growth' },
      )
    }
  }

  const tick = (ms: number, body: () => Promise<void> | void) => {
    let busy = false
    timers.push(
      setInterval(() => {
        if (busy) return
        busy = true
        void Promise.resolve()
          .then(body)
          .catch((error: Error) => o.log(`soak: ${error.message}`))
          .finally(() => {
            busy = false
          })
      }, ms),
    )
  }

  // ---- the run ----------------------------------------------------------------------------------------------------

  const schedule = soakSchedule({
    seed: o.seed,
    durationMs: o.durationMs,
    disruptEveryMs: o.disruptEveryMs,
    trafficEveryMs: o.trafficEveryMs,
  })
  const signer = (i: number) =>
    anvilAccount(DEMO_WORKER_ACCOUNTS[i % DEMO_WORKER_ACCOUNTS.length] as number) as LocalAccount

  const restart = async (how?: 'ctrl-c' | 'kill-gateway') => {
    const t0 = Date.now()
    if (how) await stop(how)
    current = await start()
    downMs += Date.now() - t0
  }

  const execute = async (event: SoakEvent) => {
    const name = event.kind === 'burst' ? (event.wait ? 'burst' : 'burst ?wait=false') : event.kind
    events[event.kind === 'rogue' ? `rogue ${event.rogue}` : name] =
      (events[event.kind === 'rogue' ? `rogue ${event.rogue}` : name] ?? 0) + 1
    switch (event.kind) {
      case 'ctrl-c':
      case 'kill-gateway':
        return restart(event.kind)
      case 'kill-worker':
        return killWorker()
      case 'burst':
        return burst(event.wait)
      case 'reads':
        return reads()
      case 'rogue': {
        const run = current
        if (!run) return
        const rogue = await connectRogueWorker({
          kind: event.rogue,
          workersUrl: run.gateway.workersUrl,
          signer: signer(rogues.length),
        }).catch((error: Error) => {
          if (current === run) o.log(`rogue ${event.rogue} not admitted: ${error.message}`)
          return undefined
        })
        if (!rogue) return
        rogues.push(rogue)
        timers.push(setTimeout(() => rogue.close(), o.rogueLifetimeMs))
        // The rogue's first tasks come from the traffic right after it joined.
        return burst(true)
      }
    }
  }

  /** SIGKILLs every process of the demo that is still there: the end of the soak, or its abort. */
  const killEverything = () => {
    for (const proc of spawned) {
      try {
        process.kill(-(proc.pid as number), 'SIGKILL')
      } catch {
        // the group is gone
      }
    }
    for (const p of [...survivors({ processes: [...seen.values()] }), ...strays()]) {
      try {
        process.kill(p.pid, 'SIGKILL')
      } catch {
        // gone meanwhile
      }
    }
  }
  void aborted.then(() => {
    current = undefined
    killEverything()
  })

  let threw = true
  try {
    o.log(`soak: seed ${o.seed}, ${Math.round(o.durationMs / 1000)} s, ${schedule.length} events, data in ${dataDir}`)
    await restart()
    if (!current) throw new Error('the demo did not start; see the restarts row')
    let lastTick = Date.now()
    tick(2_000, () => {
      const now = Date.now()
      if (up()) for (const a of accepted.values()) a.upMs += now - lastTick
      lastTick = now
      sampleMemory()
      return sampleHead()
    })
    tick(1_000, pollAccepted)
    tick(1_000, verifyReceipts)
    for (const { at, event } of schedule) {
      const wait = at - uptime()
      if (wait > 0) await pause(wait)
      if (o.signal?.aborted) break
      if (elapsed() > maxWallMs) {
        invariants.check(
          'restarts',
          `the soak ran past ${maxWallMs / 1000} s of wall time stopping and starting the demo`,
        )
        break
      }
      if (!current) await restart()
      if (!current) break
      await execute(event).catch((error: Error) => o.log(`soak: ${event.kind}: ${error.stack ?? error.message}`))
    }
    if (current && uptime() < o.durationMs) await pause(o.durationMs - uptime())
    // The last accepted requests and receipts get their bound to complete and be checked.
    const drainUntil = Date.now() + o.completionBoundMs + 5_000
    while (current && Date.now() < drainUntil) {
      const open = [...accepted.values()].filter((a) => a.recheck).length
      if (open === 0 && toVerify.length === 0) break
      await pause(1_000)
    }
    for (const t of timers) clearInterval(t)
    await verifyReceipts()
    judgeMemory()
    await stop('ctrl-c')
    threw = false
  } finally {
    for (const t of timers) clearInterval(t)
    for (const r of rogues) r.close()
    killEverything()
    await Promise.all(spawned.map((p) => (p.exitCode !== null || p.signalCode !== null ? undefined : once(p, 'exit'))))
    await new Promise<void>((resolve) => logFile.end(resolve))
    if (threw && !o.keepOnFailure && !o.workDir) await rm(workDir, { recursive: true, force: true })
  }
  const rows = invariants.report()
  const failures = invariants.failures
  const kept = failures > 0 && o.keepOnFailure ? workDir : undefined
  if (!kept && !o.workDir) await rm(workDir, { recursive: true, force: true })
  return {
    rows,
    failures,
    events,
    kept,
    table: formatInvariantTable({ rows }),
  }
}

// ---- small helpers --------------------------------------------------------------------------------------------------

interface GraphqlAnswer {
  data?: Record<string, unknown>
  errors?: string
}

async function graphql(
  base: string,
  query: string | { toString(): string },
  variables: Record<string, unknown>,
): Promise<GraphqlAnswer> {
  try {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: query.toString(), variables }),
    })
    const body = (await res.json()) as { data?: Record<string, unknown>; errors?: { message: string }[] }
    return { data: body.data, errors: body.errors?.map((e) => e.message).join('; ') }
  } catch (error) {
    return { errors: (error as Error).message }
  }
}

/** The dashboard's request function (api.ts `gql`), aimed at `base` instead of the page's origin. */
function requestFrom(base: string): Request {
  return async <T>(query: string, variables?: Record<string, unknown>) => {
    const answer = await graphql(base, query, variables ?? {})
    if (answer.errors) throw new GraphqlError(answer.errors)
    return answer.data as T
  }
}

async function rpc<T>(url: string, method: string): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }),
  })
  return ((await res.json()) as { result: T }).result
}

async function listModels(base: string): Promise<{ name: string; width: number }[]> {
  const res = await fetch(`${base}/v1/models`)
  const list = (await res.json()) as { name: string; input: { shape: (string | number)[] } }[]
  return list
    .map((m) => ({ name: m.name, width: Number(m.input.shape[m.input.shape.length - 1]) }))
    .filter((m) => Number.isInteger(m.width) && m.width > 0)
}

function failedChecks(v: dashboard.ReceiptVerification): string {
  return v.checks
    .filter((c) => c.status === 'FAIL')
    .map((c) => `${c.name}: ${c.reason}`)
    .join('; ')
}

function labelOf(p: ProcessInfo): string {
  if (p.command.includes('anvil')) return 'anvil'
  if (p.command.includes('gpu-worker/src/main.ts')) return 'worker'
  if (p.command.includes('esbuild')) return 'esbuild'
  if (p.command.includes('apps/gateway/src/main.ts')) return 'gateway'
  return p.command.split(' ')[0] ?? 'process'
}

const tailOf = (g: GatewayProcess) => g.output().replace(ANSI, '').split('\n').slice(-5).join(' | ').slice(0, 600)
const mb = (bytes: number) => Math.round(bytes / 2 ** 20)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * How much a process's RSS grew after warm-up: the median of the last fifth of the samples against the median of the
 * first fifth. Undefined when the samples after warm-up span less than `spanMs`. Allowed: a quarter of the starting
 * RSS plus 32 MB (allocator and JIT noise), far below a leak's slope over half an hour.
 */
export function memoryGrowth({ track, warmupMs, spanMs }: { track: MemoryTrack; warmupMs: number; spanMs: number }) {
  const after = track.samples.filter((s) => s.t - track.startedAt >= warmupMs)
  if (after.length < 10) return undefined
  const span = (after[after.length - 1] as { t: number }).t - (after[0] as { t: number }).t
  if (span < spanMs) return undefined
  const fifth = Math.max(2, Math.floor(after.length / 5))
  const median = (xs: { bytes: number }[]) => {
    const sorted = xs.map((x) => x.bytes).sort((a, b) => a - b)
    return sorted[Math.floor(sorted.length / 2)] as number
  }
  const from = median(after.slice(0, fifth))
  const to = median(after.slice(-fifth))
  return { from, to, bytes: to - from, allowed: from / 4 + 32 * 2 ** 20, spanMs: span }
}

export type { InvariantKey }
