import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '@computegraph/contracts/anvil'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

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
let running: Demo | undefined

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'cg-demo-'))
})

afterAll(async () => {
  if (running && running.proc.exitCode === null) running.proc.kill('SIGKILL')
  await rm(dataDir, { recursive: true, force: true })
})

/** `npm start` as a newcomer runs it (no configuration), on free ports and a temporary data folder. */
async function startDemo(): Promise<Demo> {
  const port = await freePort()
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: REPO,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      DEMO_ANVIL_PORT: String(await freePort()),
      DEMO_SEED_STEPS: '40',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
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
  running = demo
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

const workerProcesses = (demo: Demo) => {
  try {
    return execFileSync('pgrep', ['-f', `--gateway ws://127.0.0.1:${demo.port}/workers`])
      .toString()
      .trim()
  } catch {
    return ''
  }
}

describe('npm start with no configuration', () => {
  it('starts a live network: chain, indexer, two workers, traffic, on-chain jobs served; Ctrl-C stops everything; a restart resumes', async () => {
    const demo = await startDemo()
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
    const before = await graphql<{ network: { jobCount: string } }>(demo, '{ network(id: "network") { jobCount } }')

    demo.proc.kill('SIGINT')
    expect(await demo.exited, demo.output().slice(-2000)).toBe(0)
    expect(workerProcesses(demo)).toBe('')

    const again = await startDemo()
    await until(
      'readiness after restart',
      again,
      async () => ((await fetch(`${again.base}/ready`)).ok ? true : undefined),
      120_000,
    )
    expect(again.output()).not.toContain('deploying the contracts')
    const after = await graphql<{ network: { jobCount: string } }>(again, '{ network(id: "network") { jobCount } }')
    expect(BigInt(after.network.jobCount)).toBeGreaterThanOrEqual(BigInt(before.network.jobCount))
    again.proc.kill('SIGINT')
    expect(await again.exited, again.output().slice(-2000)).toBe(0)
  }, 600_000)
})
