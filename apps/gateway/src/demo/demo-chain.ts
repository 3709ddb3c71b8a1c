import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { providerStakingAbi } from '@computegraph/contracts/abis'
import { anvilAccount, runActivity } from '@computegraph/contracts/activity'
import { ANVIL_KEYS, type Anvil, startAnvil } from '@computegraph/contracts/anvil'
import { deployAll, readDeployment, writeDeployment } from '@computegraph/contracts/deploy'
import { actions, connectLocalNetwork, type LocalNetwork } from '@computegraph/contracts/fixture'
import type { PublicClient, TestClient } from 'viem'
import { sleep } from '../common/errors'
import { alive, DataDirInUseError } from '../db/data-dir-lock'
import type { Logger } from '../indexer/indexer'
import type { Lifeline } from './lifeline'

// The demo's chain keeps wall time (its activity never moves the clock: timeTravel false), so what waits for time
// must come within minutes: unbonding and epochs end in a few minutes of the demo. The dispute window stays a day:
// the activity disputes completed jobs without waiting, and a window shorter than a demo session would close on them.
// Job deadlines are the activity's own (an hour or two, or a month).
const DEMO_PARAMS = { unbondingDelay: 120n, epochDuration: 300n, disputeWindow: 86_400n }

/** anvil accounts the activity uses; the demo's two workers run as providers the activity never slashes. */
export const DEMO_PROVIDERS = [1, 2, 3, 4, 5, 6]
export const DEMO_CLIENTS = [7, 8, 9, 10]
export const DEMO_WORKER_ACCOUNTS = [11, 12]

/** Registers and stakes the demo workers' providers (again, if the activity or a slash left them short). */
async function stakeWorkerProviders(net: LocalNetwork): Promise<void> {
  const act = actions(net)
  const minStake = BigInt(net.deployment.params.minStake)
  for (const index of DEMO_WORKER_ACCOUNTS) {
    const p = anvilAccount(index)
    const info = (await net.publicClient.readContract({
      address: net.addresses.staking,
      abi: providerStakingAbi,
      functionName: 'getProvider',
      args: [p.address],
    })) as { registered: boolean; stake: bigint }
    if (!info.registered) await act.register(p, `demo-worker-${index}`)
    if (info.stake < minStake * 2n) {
      const amount = minStake * 3n - info.stake
      await act.mint(p.address, amount)
      await act.approve(p, net.addresses.staking, amount)
      await act.stake(p, amount)
    }
  }
}

export interface DemoChain {
  net: LocalNetwork
  deploymentFile: string
  stop(): Promise<void>
}

/**
 * Keeps the chain's clock monotone across restarts: anvil's state file keeps the blocks but not the clock's offset
 * from wall time, so a chain that ran ahead of the wall clock would mine its next block before its parent. When the
 * head is not behind the wall clock, one block is mined just after it, which also sets anvil's offset for later blocks.
 */
export async function keepClockMonotone({
  publicClient,
  testClient,
  now = () => BigInt(Math.floor(Date.now() / 1000)),
}: {
  publicClient: PublicClient
  testClient: TestClient
  now?: () => bigint
}): Promise<void> {
  const head = await publicClient.getBlock()
  if (head.timestamp < now()) return
  await testClient.setNextBlockTimestamp({ timestamp: head.timestamp + 1n })
  await testClient.mine({ blocks: 1 })
}

/**
 * Refuses to start a second anvil on the same state file: one left running by an earlier gateway would keep writing
 * its stale state over the new chain's. An anvil whose gateway just died is given a moment to write its state and go.
 */
async function checkNoOtherAnvil({ pidFile, stateFile }: { pidFile: string; stateFile: string }): Promise<void> {
  const pid = Number(await readFile(pidFile, 'utf8').catch(() => '0'))
  const ours = async () => {
    if (!pid || !alive(pid)) return false
    // On Linux, tell a live anvil on this state file from an unrelated process that got the pid later.
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined)
    return cmdline === undefined || cmdline.includes(stateFile)
  }
  for (const deadline = Date.now() + ANVIL_EXIT_WAIT_MS; await ours(); await sleep(100)) {
    if (Date.now() > deadline) {
      throw new DataDirInUseError(
        `data folder ${path.dirname(path.dirname(stateFile))} is in use by anvil (pid ${pid}), which still writes ${stateFile}: stop it, or set DATA_DIR to another folder`,
      )
    }
  }
  await rm(pidFile, { force: true })
}

// The lifeline ends an orphaned anvil within a second; writing its state takes a moment more on a busy machine.
const ANVIL_EXIT_WAIT_MS = 10_000

async function portFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net')
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

/**
 * The embedded demo's chain: anvil from npm with its state kept in the data folder, the contracts deployed once,
 * and some seeded activity on first start. A second start resumes the same chain.
 */
export async function startDemoChain({
  dataDir,
  anvilPort,
  seedSteps,
  lifeline,
  logger,
}: {
  dataDir: string
  anvilPort: number
  seedSteps: number
  lifeline: Lifeline
  logger: Logger
}): Promise<DemoChain> {
  const dir = path.join(dataDir, 'demo')
  await mkdir(dir, { recursive: true })
  const stateFile = path.join(dir, 'anvil-state.json')
  const deploymentFile = path.join(dir, 'deployment.json')
  const pidFile = path.join(dir, 'anvil.pid')
  await checkNoOtherAnvil({ pidFile, stateFile })
  // The configured port when it is free; otherwise anvil picks one itself.
  const port = (await portFree(anvilPort)) ? anvilPort : undefined
  const fresh = !existsSync(stateFile) || !existsSync(deploymentFile)
  const anvil: Anvil = await startAnvil({
    port,
    accounts: 20,
    // anvil loads this file at start and writes it back on exit and every 30 s.
    args: ['--state', stateFile, '--state-interval', '30'],
    detached: true,
  })
  lifeline.watch(anvil.process)
  await writeFile(pidFile, String(anvil.process.pid))
  const stop = async () => {
    await anvil.stop()
    await rm(pidFile, { force: true })
  }
  try {
    let deployment = fresh ? undefined : await readDeployment(deploymentFile)
    if (!deployment) {
      logger.log('deploying the contracts on the demo chain')
      deployment = await deployAll({
        rpcUrl: anvil.rpcUrl,
        privateKey: ANVIL_KEYS[0],
        pollingInterval: 20,
        params: DEMO_PARAMS,
      })
      await writeDeployment(deploymentFile, deployment)
    }
    const net = connectLocalNetwork({ anvil, deployment })
    if (!fresh) await keepClockMonotone(net)
    if (fresh && seedSteps > 0) {
      logger.log(`seeding ${seedSteps} steps of network activity`)
      await runActivity(net, {
        seed: 1,
        steps: seedSteps,
        providers: DEMO_PROVIDERS,
        clients: DEMO_CLIENTS,
        timeTravel: false,
      })
    }
    await stakeWorkerProviders(net)
    return { net, deploymentFile, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
