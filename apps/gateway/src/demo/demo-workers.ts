import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { anvilAccount } from '@computegraph/contracts/activity'
import { toHex } from 'viem'
import type { HDAccount } from 'viem/accounts'
import type { Logger } from '../indexer/indexer'
import { DEMO_WORKER_ACCOUNTS } from './demo-chain'
import type { Lifeline } from './lifeline'

const WORKER_MAIN = fileURLToPath(new URL('../../../../gpu-worker/src/main.ts', import.meta.url))

/** anvil's funded accounts past the tenth have no listed key; derive it from the mnemonic. */
function privateKeyOf(index: number): string {
  const key = (anvilAccount(index) as HDAccount).getHdKey().privateKey
  if (!key) throw new Error(`no private key for anvil account ${index}`)
  return toHex(key)
}

export interface DemoWorkers {
  stop(): Promise<void>
}

/**
 * The demo's two local workers: the real worker CLI in child processes, each the key of a staked demo provider,
 * holding the shipped models. Their warnings and errors go to the gateway's log. Each runs in its own process group,
 * so a terminal's Ctrl-C reaches only the gateway, which stops them with one SIGTERM (they drain what they hold); the
 * lifeline ends them if the gateway dies without stopping them.
 */
export function startDemoWorkers({
  workersUrl,
  count,
  lifeline,
  logger,
}: {
  workersUrl: string
  count: number
  lifeline: Lifeline
  logger: Logger
}): DemoWorkers {
  const children: ChildProcess[] = []
  let stopping = false
  DEMO_WORKER_ACCOUNTS.slice(0, count).forEach((account, i) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        WORKER_MAIN,
        '--gateway',
        workersUrl,
        '--price',
        String(1 + i),
        '--max-batch',
        '32',
        '--max-wait-ms',
        '2',
        // The demo's chain keeps wall time now, but a data folder from before that can run days ahead of it (the old
        // activity moved its clock): receipts valid for a month stay acceptable on-chain there.
        '--receipt-ttl',
        String(30 * 86_400),
        '--log-level',
        'warn',
      ],
      {
        env: { ...process.env, WORKER_PRIVATE_KEY: privateKeyOf(account) },
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
      },
    )
    lifeline.watch(child)
    child.once('exit', (code, signal) => {
      // A worker still loading when the gateway stops has no handler yet and dies of the SIGTERM it was sent: it held
      // nothing, so that is the stop asked for, not a failure.
      if (stopping && signal === 'SIGTERM') return
      if (code !== 0) logger.warn(`worker ${i + 1} exited with ${signal ?? `code ${code}`}`)
    })
    if (child.stderr) {
      createInterface({ input: child.stderr }).on('line', (line) => logger.warn(`worker ${i + 1}: ${line}`))
    }
    children.push(child)
  })
  return {
    async stop() {
      stopping = true
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve()
              // Past the workers' own drain bound (--shutdown-grace-ms, 10 s by default).
              const kill = setTimeout(() => child.kill('SIGKILL'), 15_000)
              child.once('exit', () => {
                clearTimeout(kill)
                resolve()
              })
              child.kill('SIGTERM')
            }),
        ),
      )
    },
  }
}
