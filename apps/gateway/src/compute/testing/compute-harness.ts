import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ANVIL_KEYS } from '@computegraph/contracts/anvil'
import { actions, type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { type Account, privateKeyToAccount } from 'viem/accounts'
import type { DatabaseKind } from '../../db/testing'
import { startTestGateway, type TestGateway } from '../../graphql/testing/gateway'
import { WorkerPool } from '../worker-pool'

const REPO_ROOT = fileURLToPath(new URL('../../../../..', import.meta.url))
const WORKER_MAIN = fileURLToPath(new URL('../../../../../gpu-worker/src/main.ts', import.meta.url))

export const MIN_STAKE = 1_000n * 10n ** 18n

/** A worker process (the real CLI) run by one provider key. */
export interface WorkerProcess {
  proc: ChildProcess
  provider: Account
  output(): string
  exited: Promise<number | null>
  kill(signal?: NodeJS.Signals): void
}

export interface ComputeNetwork {
  net: LocalNetwork
  gateway: TestGateway
  /** Provider accounts registered and staked at twice the minimum: anvil accounts 1…n. */
  providers: Account[]
  /** anvil's key of account `i`. */
  keyOf(i: number): `0x${string}`
  workersUrl: string
  baseUrl: string
  /** `gateway`: another gateway's worker URL (a restarted or separate gateway process); this one's by default. */
  startWorker(args: {
    provider: number
    extraArgs?: string[]
    env?: Record<string, string>
    gateway?: string
  }): WorkerProcess
  /** Resolves once `n` workers are admitted (for `providers`, when given). */
  waitForWorkers(n: number, timeoutMs?: number): Promise<void>
  pool(): WorkerPool
  post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }>
  get(path: string): Promise<{ status: number; body: Record<string, unknown> }>
  close(): Promise<void>
}

/** Registers anvil accounts 1…count as providers, each staked at twice the minimum. */
export async function stakeProviders(net: LocalNetwork, count: number): Promise<Account[]> {
  const act = actions(net)
  const providers = net.accounts.slice(1, 1 + count)
  for (const p of providers) {
    await act.mint(p.address, MIN_STAKE * 10n)
    await act.approve(p, net.addresses.staking, MIN_STAKE * 10n)
    await act.register(p)
    await act.stake(p, MIN_STAKE * 2n)
  }
  return providers
}

/** The real worker CLI in a child process, run with anvil's key of account `provider`, connecting to `gateway`. */
export function startWorkerProcess({
  gateway,
  provider,
  extraArgs = [],
  env = {},
}: {
  gateway: string
  provider: number
  extraArgs?: string[]
  env?: Record<string, string>
}): WorkerProcess {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      WORKER_MAIN,
      '--gateway',
      gateway,
      '--reconnect-min-ms',
      '100',
      '--reconnect-max-ms',
      '500',
      ...extraArgs,
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, WORKER_PRIVATE_KEY: ANVIL_KEYS[provider], ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  proc.stdout?.on('data', (d) => {
    output += d
  })
  proc.stderr?.on('data', (d) => {
    output += d
  })
  return {
    proc,
    provider: privateKeyToAccount(ANVIL_KEYS[provider] as `0x${string}`),
    output: () => output,
    exited: new Promise((resolve) => proc.once('exit', (code) => resolve(code))),
    kill: (signal = 'SIGKILL') => {
      if (proc.exitCode === null) proc.kill(signal)
    },
  }
}

/**
 * anvil with the contracts, `providers` staked providers, and the real gateway (its indexer following the chain,
 * the compute router on, the deployer's key as the gateway's key) on a scratch database. Workers are the real
 * gpu-worker CLI in child processes.
 */
export async function startComputeNetwork({
  kind = 'postgres',
  providers: count = 2,
  env = {},
}: {
  kind?: DatabaseKind
  providers?: number
  env?: Record<string, string>
} = {}): Promise<ComputeNetwork> {
  const net = await startLocalNetwork({ params: { minStake: MIN_STAKE } })
  const providers = await stakeProviders(net, count)
  const gateway = await startTestGateway({
    kind,
    net,
    env: {
      GATEWAY_PRIVATE_KEY: ANVIL_KEYS[0] as string,
      COMPUTE_HEARTBEAT_MS: '200',
      COMPUTE_SPOT_CHECK_SHARE: '0',
      GRAPHQL_RATE_LIMIT_PER_SECOND: '0',
      ...env,
    },
  })
  const baseUrl = gateway.url.replace(/\/graphql$/, '')
  const workersUrl = `${baseUrl.replace(/^http/, 'ws')}/workers`
  const children: WorkerProcess[] = []
  const pool = () => gateway.app.get(WorkerPool)
  const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> })
  return {
    net,
    gateway,
    providers,
    keyOf: (i) => ANVIL_KEYS[i] as `0x${string}`,
    workersUrl,
    baseUrl,
    startWorker({ gateway = workersUrl, ...args }) {
      const worker = startWorkerProcess({ gateway, ...args })
      children.push(worker)
      return worker
    },
    async waitForWorkers(n, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs
      while (pool().all().length < n) {
        if (Date.now() > deadline) {
          const logs = children.map((c) => `--- ${c.provider.address}\n${c.output().slice(-2000)}`).join('\n')
          throw new Error(`only ${pool().all().length} of ${n} workers admitted in ${timeoutMs} ms\n${logs}`)
        }
        await new Promise((r) => setTimeout(r, 50))
      }
    },
    pool,
    post: async (path, body) =>
      json(
        await fetch(`${baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
      ),
    get: async (path) => json(await fetch(`${baseUrl}${path}`)),
    async close() {
      for (const c of children) c.kill()
      await Promise.all(children.map((c) => c.exited))
      await gateway.close()
      await net.stop()
    },
  }
}
