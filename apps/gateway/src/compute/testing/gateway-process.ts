import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ANVIL_KEYS, freePort } from '@computegraph/contracts/anvil'

const REPO_ROOT = fileURLToPath(new URL('../../../../..', import.meta.url))
const GATEWAY_MAIN = fileURLToPath(new URL('../../main.ts', import.meta.url))

/** The gateway run as its own process (`tsx apps/gateway/src/main.ts`), as an operator runs it. */
export interface GatewayProcess {
  proc: ChildProcess
  baseUrl: string
  workersUrl: string
  output(): string
  exited: Promise<number | null>
  /** SIGKILL by default: the process dies holding whatever it held. */
  kill(signal?: NodeJS.Signals): Promise<number | null>
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
  /** Drop the gateway's log lines (benchmarks); tests keep them for failure messages. */
  quiet?: boolean
}): Promise<GatewayProcess> {
  const port = await freePort()
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', GATEWAY_MAIN], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
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
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (d: Buffer) => {
    if (!quiet) output = (output + d.toString()).slice(-20_000)
  }
  proc.stdout?.on('data', keep)
  proc.stderr?.on('data', keep)
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  const baseUrl = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 120_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`gateway exited with ${proc.exitCode}:\n${output}`)
    const ready = await fetch(`${baseUrl}/ready`)
      .then((r) => r.ok)
      .catch(() => false)
    if (ready) break
    if (Date.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`gateway not ready in 120 s:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    proc,
    baseUrl,
    workersUrl: `ws://127.0.0.1:${port}/workers`,
    output: () => output,
    exited,
    kill: (signal = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
      return exited
    },
  }
}
