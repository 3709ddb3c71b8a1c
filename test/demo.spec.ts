import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '@computegraph/contracts/anvil'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const MAIN = path.join(REPO, 'apps/gateway/src/main.ts')

interface Demo {
  proc: ChildProcess
  base: string
  port: number
  output(): string
  exited: Promise<number | null>
}

let dataDir: string
const started: Demo[] = []

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'cg-demo-'))
})

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
const anvilPid = async () => Number(await readFile(path.join(dataDir, 'demo', 'anvil.pid'), 'utf8').catch(() => '0'))

// Whatever a test started goes, also when it failed: each gateway's process group, then its children, which run in
// their own groups (the lifeline ends them when the gateway dies; this does not rely on it).
afterEach(async () => {
  const anvil = await anvilPid()
  for (const demo of started.splice(0)) {
    if (demo.proc.exitCode === null && demo.proc.signalCode === null)
      process.kill(-(demo.proc.pid as number), 'SIGKILL')
    for (const pid of workerPids(demo)) process.kill(pid, 'SIGKILL')
  }
  if (anvil && alive(anvil)) process.kill(anvil, 'SIGKILL')
})

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true })
})

/** `npm start` as a newcomer runs it (no configuration), on free ports and a temporary data folder. */
/**
 * With `npm: true` through npm, as `npm start` runs the gateway (less the dashboard build): npm forwards the
 * terminal's Ctrl-C to its child, so the gateway gets it more than once.
 */
async function startDemo({ npm = false }: { npm?: boolean } = {}): Promise<Demo> {
  const port = await freePort()
  const [command, args] = npm
    ? ['npm', ['run', 'start', '-w', '@computegraph/gateway']]
    : [process.execPath, ['--import', 'tsx', MAIN]]
  const proc = spawn(command, args, {
    cwd: REPO,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      DEMO_ANVIL_PORT: String(await freePort()),
      DEMO_SEED_STEPS: '40',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, as a terminal gives `npm start`: Ctrl-C is a SIGINT to the group.
    detached: true,
  })
  let output = ''
  proc.stdout?.on('data', (d) => {
    output += d
  })
  proc.stderr?.on('data', (d) => {
    output += d
  })
  const demo: Demo = {
    proc,
    port,
    base: `http://127.0.0.1:${port}`,
    output: () => output,
    exited: new Promise((resolve) => proc.once('exit', (code) => resolve(code))),
  }
  started.push(demo)
  return demo
}

async function until<T>(what: string, demo: Demo, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (demo.proc.exitCode !== null)
      throw new Error(`the demo exited while waiting for ${what}:\n${demo.output().slice(-3000)}`)
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${demo.output().slice(-3000)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

async function graphql<T>(demo: Demo, query: string): Promise<T> {
  const res = await fetch(`${demo.base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  })
  const body = (await res.json()) as { data?: T; errors?: unknown[] }
  if (body.errors) throw new Error(JSON.stringify(body.errors))
  return body.data as T
}

const workerPids = (demo: Demo) => {
  try {
    return execFileSync('pgrep', ['-f', '--', `--gateway ws://127.0.0.1:${demo.port}/workers`], { stdio: 'pipe' })
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number)
  } catch {
    return []
  }
}

/** Ctrl-C in the terminal: SIGINT to the whole foreground process group. */
const ctrlC = (demo: Demo) => process.kill(-(demo.proc.pid as number), 'SIGINT')

const ready = (demo: Demo, timeoutMs: number) =>
  until('readiness', demo, async () => ((await fetch(`${demo.base}/ready`)).ok ? true : undefined), timeoutMs)

async function goneWithin(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms
  for (;;) {
    const left = pids.filter(alive)
    if (left.length === 0 || Date.now() > deadline) return left
    await new Promise((r) => setTimeout(r, 100))
  }
}

const lockfile = () => path.join(dataDir, 'computegraph.lock')
const gatewayPid = async () => Number(await readFile(lockfile(), 'utf8'))

/**
 * Ctrl-C on `npm start`: npm dies of the signal at once, as it does in a terminal; the gateway (which got it from
 * the terminal and again from npm) stops its traffic, workers, API and chain in order, and releases the data folder.
 */
async function stopsCleanlyOnCtrlC(demo: Demo) {
  const gateway = await gatewayPid()
  const children = [...workerPids(demo), await anvilPid()]
  expect(children).toHaveLength(3)
  ctrlC(demo)
  await demo.exited
  expect(await goneWithin([gateway, ...children], 30_000)).toEqual([])
  // One stop from the gateway: the workers drained and exited cleanly, without a second signal cutting them short.
  expect(demo.output()).toMatch(/\[computegraph\] \S*stopping/)
  expect(demo.output()).not.toContain('second signal')
  expect(demo.output()).not.toMatch(/worker \d exited with/)
  // Released only at the end of a complete stop.
  expect(existsSync(lockfile()), demo.output().slice(-2000)).toBe(false)
}

const blockNumber = async (demo: Demo) =>
  Number(
    (await graphql<{ _meta: { block: { number: number } } }>(demo, '{ _meta { block { number } } }'))._meta.block
      .number,
  )

describe('npm start with no configuration', () => {
  it('starts a live network: chain, indexer, two workers, traffic, on-chain jobs served; Ctrl-C stops everything; a restart resumes', async () => {
    const startedAt = Math.floor(Date.now() / 1000)
    const demo = await startDemo({ npm: true })
    await until('readiness', demo, async () => ((await fetch(`${demo.base}/ready`)).ok ? true : undefined), 150_000)
    expect(demo.output()).toContain(`GraphQL http://127.0.0.1:${demo.port}/graphql`)
    expect(demo.output()).toContain(`dashboard http://127.0.0.1:${demo.port}/`)

    const workers = await until(
      'two workers',
      demo,
      async () => {
        const { workers } = await graphql<{ workers: { provider: string }[] }>(demo, '{ workers { provider } }')
        return workers.length === 2 ? workers.map((w) => w.provider) : undefined
      },
      60_000,
    )

    const infer = await fetch(`${demo.base}/v1/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'volatility-mlp', input: [[0.1, 0.2, -0.1, 1, 1.1, 0.9, 0.05, 48]] }),
    })
    expect(infer.status).toBe(200)

    // The traffic posts on-chain jobs with uploaded inputs; the gateway's workers compute them and JobMarket pays.
    const served = await until(
      'an on-chain job completed by a demo worker',
      demo,
      async () => {
        const { jobs } = await graphql<{ jobs: { id: string }[] }>(
          demo,
          `{ jobs(where: { status: COMPLETED, provider_in: ${JSON.stringify(workers)} }) { id } }`,
        )
        return jobs.length > 0 ? jobs.length : undefined
      },
      90_000,
    )
    expect(served).toBeGreaterThan(0)
    // The chain keeps wall time: its seeded activity, traffic and jobs never move its clock ahead.
    const { _meta } = await graphql<{ _meta: { block: { timestamp: number } } }>(
      demo,
      '{ _meta { block { timestamp } } }',
    )
    expect(Number(_meta.block.timestamp)).toBeGreaterThanOrEqual(startedAt)
    expect(Number(_meta.block.timestamp)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000))
    const before = await graphql<{ network: { jobCount: string } }>(demo, '{ network(id: "network") { jobCount } }')

    await stopsCleanlyOnCtrlC(demo)

    const again = await startDemo({ npm: true })
    await until(
      'readiness after restart',
      again,
      async () => ((await fetch(`${again.base}/ready`)).ok ? true : undefined),
      120_000,
    )
    expect(again.output()).not.toContain('deploying the contracts')
    const after = await graphql<{ network: { jobCount: string } }>(again, '{ network(id: "network") { jobCount } }')
    expect(BigInt(after.network.jobCount)).toBeGreaterThanOrEqual(BigInt(before.network.jobCount))
    await stopsCleanlyOnCtrlC(again)
  }, 600_000)

  it('a killed gateway takes its chain and workers with it; a second start on a live data folder is refused', async () => {
    const demo = await startDemo()
    await ready(demo, 150_000)
    await until('two workers', demo, async () => (workerPids(demo).length === 2 ? true : undefined), 60_000)

    const second = await startDemo()
    expect(await second.exited).not.toBe(0)
    const refusal = second.output().trim()
    expect(refusal).toBe(
      `data folder ${dataDir} is in use by process ${demo.proc.pid} (another gateway?): stop it, or set DATA_DIR to another folder`,
    )

    const before = await blockNumber(demo)
    const children = [...workerPids(demo), await anvilPid()]
    expect(children).toHaveLength(3)
    demo.proc.kill('SIGKILL')
    // The lifeline SIGTERMs them at once; the workers' drain is bounded by 10 s, anvil writes its state and exits.
    expect(await goneWithin(children, 20_000)).toEqual([])

    const again = await startDemo()
    await ready(again, 150_000)
    // The new chain's anvil is the only one on the state file: nothing of the killed run writes it any more.
    expect(children).not.toContain(await anvilPid())
    const after = await until(
      'the index to move past the killed run',
      again,
      async () => {
        const n = await blockNumber(again)
        return n > before ? n : undefined
      },
      60_000,
    )
    expect(after).toBeGreaterThan(before)
    ctrlC(again)
    expect(await again.exited, again.output().slice(-2000)).toBe(0)
  }, 600_000)
})
