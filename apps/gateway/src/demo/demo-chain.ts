import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { runActivity } from '@computegraph/contracts/activity'
import { ANVIL_KEYS, type Anvil, startAnvil } from '@computegraph/contracts/anvil'
import { deployAll, readDeployment, writeDeployment } from '@computegraph/contracts/deploy'
import { connectLocalNetwork, type LocalNetwork } from '@computegraph/contracts/fixture'
import type { Logger } from '../indexer/indexer'

export interface DemoChain {
  net: LocalNetwork
  deploymentFile: string
  stop(): Promise<void>
}

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
  logger,
}: {
  dataDir: string
  anvilPort: number
  seedSteps: number
  logger: Logger
}): Promise<DemoChain> {
  const dir = path.join(dataDir, 'demo')
  await mkdir(dir, { recursive: true })
  const stateFile = path.join(dir, 'anvil-state.json')
  const deploymentFile = path.join(dir, 'deployment.json')
  // The configured port when it is free; otherwise anvil picks one itself.
  const port = (await portFree(anvilPort)) ? anvilPort : undefined
  const fresh = !existsSync(stateFile) || !existsSync(deploymentFile)
  const anvil: Anvil = await startAnvil({
    port,
    accounts: 20,
    // anvil loads this file at start and writes it back on exit and every 30 s.
    args: ['--state', stateFile, '--state-interval', '30'],
  })
  try {
    let deployment = fresh ? undefined : await readDeployment(deploymentFile)
    if (!deployment) {
      logger.log('deploying the contracts on the demo chain')
      deployment = await deployAll({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_KEYS[0], pollingInterval: 20 })
      await writeDeployment(deploymentFile, deployment)
    }
    const net = connectLocalNetwork({ anvil, deployment })
    if (fresh && seedSteps > 0) {
      logger.log(`seeding ${seedSteps} steps of network activity`)
      await runActivity(net, { seed: 1, steps: seedSteps, providers: [1, 2, 3, 4, 5, 6], clients: [7, 8, 9, 10] })
    }
    return { net, deploymentFile, stop: () => anvil.stop() }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}
