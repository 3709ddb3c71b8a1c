import 'reflect-metadata'
import { mkdir } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { ANVIL_KEYS } from '@computegraph/contracts/anvil'
import { Logger } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import type { Hex } from 'viem'
import { AppModule } from './app.module'
import { ConfigError, loadConfig } from './config/config'
import { acquireDataDirLock, DataDirInUseError } from './db/data-dir-lock'
import { type DemoChain, startDemoChain } from './demo/demo-chain'
import { startDemoTraffic } from './demo/demo-traffic'
import { type DemoWorkers, startDemoWorkers } from './demo/demo-workers'
import { type Lifeline, startLifeline } from './demo/lifeline'

// Workers drain for up to 15 s (demo-workers.ts); the rest of the stop takes seconds.
const STOP_BOUND_MS = 30_000

/** `npm start`: the gateway; with no RPC_URL, the embedded demo (anvil, contracts, seeded activity, PGlite). */
async function main() {
  const logger = new Logger('computegraph')
  let config = loadConfig()
  let demo: DemoChain | undefined
  let lifeline: Lifeline | undefined
  let dataDirLock: { release(): Promise<void> } | undefined
  if (config.demo.enabled) {
    // The whole demo folder (database and chain state) is this process's, or the start is refused.
    await mkdir(config.dataDir, { recursive: true })
    dataDirLock = await acquireDataDirLock({ dataDir: config.dataDir, wait: false })
    lifeline = startLifeline()
    demo = await startDemoChain({
      dataDir: config.dataDir,
      anvilPort: config.demo.anvilPort,
      seedSteps: config.demo.seedSteps,
      lifeline,
      logger,
    })
    config = {
      ...config,
      indexer: {
        ...config.indexer,
        rpcUrls: [demo.net.anvil.rpcUrl],
        deploymentFile: demo.deploymentFile,
        finality: { kind: 'depth', depth: 2 },
      },
      // The deployer holds the dispatcher and arbiter roles on the demo chain: the gateway acts with its key.
      compute: { ...config.compute, gatewayPrivateKey: config.compute.gatewayPrivateKey ?? (ANVIL_KEYS[0] as Hex) },
    }
    logger.log(`demo chain: ${demo.net.anvil.rpcUrl} (chain ${demo.net.deployment.chainId}), data in ${config.dataDir}`)
  }
  const app = await NestFactory.create(AppModule.forRoot(config), { logger: ['log', 'warn', 'error'] })
  await app.listen(config.http.port, config.http.host)
  const { port } = app.getHttpServer().address() as AddressInfo
  const host = config.http.host === '0.0.0.0' ? 'localhost' : config.http.host
  const base = `http://${host}:${port}`
  let workers: DemoWorkers | undefined
  let traffic: ReturnType<typeof startDemoTraffic> | undefined
  if (demo && lifeline) {
    if (config.demo.workers > 0) {
      workers = startDemoWorkers({
        workersUrl: `ws://${host}:${port}/workers`,
        count: config.demo.workers,
        lifeline,
        logger,
      })
    }
    if (config.demo.traffic) traffic = startDemoTraffic({ net: demo.net, baseUrl: base, logger })
  }
  const metrics = config.metrics.enabled ? `, metrics ${base}/metrics` : ''
  logger.log(`GraphQL ${base}/graphql${config.graphql.graphiql ? `, explorer ${base}/explorer` : ''}`)
  logger.log(`dashboard ${base}/`)
  logger.log(`REST POST ${base}/v1/infer, workers connect to ws://${host}:${port}/workers`)
  logger.log(`health ${base}/health, readiness ${base}/ready${metrics}`)
  // Ctrl-C reaches the gateway more than once: the terminal signals the whole process group and each npm in
  // `npm start` forwards it again. The first starts the stop; later ones must not cut it short (Node's default
  // action would kill the process with its children half-stopped). The stop itself is bounded.
  let stopping = false
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    logger.log(`stopping (${signal})`)
    setTimeout(() => {
      logger.error(`not stopped within ${STOP_BOUND_MS / 1000} s; exiting`)
      process.exit(1)
    }, STOP_BOUND_MS).unref()
    await traffic?.stop()
    await workers?.stop()
    await app.close()
    await demo?.stop()
    lifeline?.close()
    await dataDirLock?.release()
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((error: Error) => {
  const known = error instanceof ConfigError || error instanceof DataDirInUseError
  console.error(known ? error.message : `failed to start: ${error.stack ?? error.message}`)
  process.exit(1)
})
