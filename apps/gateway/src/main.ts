import 'reflect-metadata'
import { Logger } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { AppModule } from './app.module'
import { ConfigError, loadConfig } from './config/config'
import { type DemoChain, startDemoChain } from './demo/demo-chain'

/** `npm start`: the gateway; with no RPC_URL, the embedded demo (anvil, contracts, seeded activity, PGlite). */
async function main() {
  const logger = new Logger('computegraph')
  let config = loadConfig()
  let demo: DemoChain | undefined
  if (config.demo.enabled) {
    demo = await startDemoChain({
      dataDir: config.dataDir,
      anvilPort: config.demo.anvilPort,
      seedSteps: config.demo.seedSteps,
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
    }
    logger.log(`demo chain: ${demo.net.anvil.rpcUrl} (chain ${demo.net.deployment.chainId}), data in ${config.dataDir}`)
  }
  const app = await NestFactory.create(AppModule.forRoot(config), { logger: ['log', 'warn', 'error'] })
  await app.listen(config.http.port, config.http.host)
  const base = `http://${config.http.host === '0.0.0.0' ? 'localhost' : config.http.host}:${config.http.port}`
  const metrics = config.metrics.enabled ? `, metrics ${base}/metrics` : ''
  logger.log(`dashboard ${base}/, GraphQL ${base}/graphql; health ${base}/health, readiness ${base}/ready${metrics}`)
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    logger.log('stopping')
    await app.close()
    await demo?.stop()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((error: Error) => {
  console.error(error instanceof ConfigError ? error.message : `failed to start: ${error.stack ?? error.message}`)
  process.exit(1)
})
