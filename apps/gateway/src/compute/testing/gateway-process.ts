import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ANVIL_KEYS, freePort } from '@computegraph/contracts/anvil'

const REPO_ROOT = fileURLToPath(new URL('../../../../..', import.meta.url))
const GATEWAY_MAIN = fileURLToPath(new URL('../../main.ts', import.meta.url))

/** The gateway run as its own process (`tsx apps/gateway/src/main.ts`), as an operator runs it. */
export interface GatewayProcess {
  proc: ChildProcess
  port: number
  baseUrl: string
  workersUrl: string
  output(): string
  exited: Promise<number | null>
  /** SIGKILL by default: the process dies holding whatever it held. */
  kill(signal?: NodeJS.Signals): Promise<number | null>
  /**
   * SIGKILLs every process left in the gateway's process group (its anvil, workers, helpers) when it was started
   * `detached`; a no-op otherwise. Clean-up after a test, not a way to stop the gateway.
   */
  killGroup(): void
}

/**
 * Spawns `main.ts` with `env` over the caller's environment and resolves once /ready answers 200 (the indexer has
 * reached the head), within `readyTimeoutMs`. `detached` puts it in a process group of its own, so that everything
 * it starts can be found and stopped afterwards however it died. `onLine` sees every log line as it comes.
 */
export async function spawnGatewayProcess({
  env,
  nodeArgs = [],
  quiet = false,
  detached = false,
  port: fixedPort,
  readyTimeoutMs = 120_000,
  onLine,
  onSpawn,
  unset = [],
}: {
  env: Record<string, string>
  /** Variables of the caller's environment the gateway must not see. */
  unset?: string[]
  nodeArgs?: string[]
  /** Drop the gateway's log lines (benchmarks); tests keep them for failure messages. */
  quiet?: boolean
  detached?: boolean
  port?: number
  readyTimeoutMs?: number
  onLine?: (line: string) => void
  /** Hears of the process before it is ready, so that a caller giving up can still stop it. */
  onSpawn?: (proc: ChildProcess) => void
}): Promise<GatewayProcess> {
  const port = fixedPort ?? (await freePort())
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), ...env }
  for (const key of unset) delete childEnv[key]
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', GATEWAY_MAIN], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  })
  onSpawn?.(proc)
  let output = ''
  for (const stream of [proc.stdout, proc.stderr]) {
    if (!stream) continue
    createInterface({ input: stream }).on('line', (line) => {
      if (!quiet) output = `${output}${line}\n`.slice(-20_000)
      onLine?.(line)
    })
  }
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  const killGroup = () => {
    if (!detached || proc.pid === undefined) return
    try {
      process.kill(-proc.pid, 'SIGKILL')
    } catch {
      // the group is empty already
    }
  }
  const baseUrl = `http://127.0.0.1:${port}`
  const deadline = Date.now() + readyTimeoutMs
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      killGroup()
      throw new Error(`gateway exited with ${proc.exitCode ?? proc.signalCode}:\n${output}`)
    }
    const ready = await fetch(`${baseUrl}/ready`)
      .then((r) => r.ok)
      .catch(() => false)
    if (ready) break
    if (Date.now() > deadline) {
      proc.kill('SIGKILL')
      killGroup()
      throw new Error(`gateway not ready in ${readyTimeoutMs / 1000} s:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    proc,
    port,
    baseUrl,
    workersUrl: `ws://127.0.0.1:${port}/workers`,
    output: () => output,
    exited,
    kill: (signal = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
      return exited
    },
    killGroup,
  }
}

/**
 * Starts the gateway on `databaseUrl`, indexing the chain at `rpcUrl` with the deployment in `deploymentFile`, the
 * deployer's key as its key, and waits until /ready says it has indexed the head.
 */
export async function startGatewayProcess({
  rpcUrl,
  deploymentFile,
  databaseUrl,
  dataDir,
  env = {},
  nodeArgs = [],
  quiet = false,
}: {
  rpcUrl: string
  deploymentFile: string
  databaseUrl: string
  dataDir: string
  env?: Record<string, string>
  nodeArgs?: string[]
  quiet?: boolean
}): Promise<GatewayProcess> {
  return spawnGatewayProcess({
    nodeArgs,
    quiet,
    env: {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      RPC_URL: rpcUrl,
      DEPLOYMENT_FILE: deploymentFile,
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      FINALITY: '3',
      POLL_INTERVAL_MS: '20',
      GATEWAY_PRIVATE_KEY: ANVIL_KEYS[0] as string,
      GRAPHQL_RATE_LIMIT_PER_SECOND: '0',
      COMPUTE_SPOT_CHECK_SHARE: '0',
      ...env,
    },
  })
}

/**
 * `npm start` as a newcomer runs it, with no configuration: the embedded demo (its own anvil, workers and traffic) in
 * `dataDir`, on `port` and `anvilPort` (free ones when omitted), in a process group of its own.
 */
export async function startDemoProcess({
  dataDir,
  port,
  anvilPort,
  env = {},
  readyTimeoutMs = 150_000,
  onLine,
  onSpawn,
}: {
  dataDir: string
  port?: number
  anvilPort?: number
  env?: Record<string, string>
  readyTimeoutMs?: number
  onLine?: (line: string) => void
  onSpawn?: (proc: ChildProcess) => void
}): Promise<GatewayProcess> {
  return spawnGatewayProcess({
    port,
    detached: true,
    readyTimeoutMs,
    onLine,
    onSpawn,
    // The caller's configuration must not leak in: the demo is what runs with none.
    unset: ['RPC_URL', 'DATABASE_URL', 'DEPLOYMENT_FILE'],
    env: { DATA_DIR: dataDir, DEMO_ANVIL_PORT: String(anvilPort ?? (await freePort())), ...env },
  })
}
