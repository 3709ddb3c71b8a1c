import { privateKeyToAccount } from 'viem/accounts'
import { ConfigError, loadWorkerConfig, usage } from './config'
import { GatewayClient } from './gateway-client'
import { InferenceEngine } from './inference-engine'
import { createLogger } from './logger'
import { loadModelDirectory } from './model-manifest'

/** The worker process: `tsx gpu-worker/src/main.ts --gateway ws://… ` (options in config.ts, or --help). */
async function main(): Promise<number> {
  let config: ReturnType<typeof loadWorkerConfig>
  try {
    config = loadWorkerConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      return 2
    }
    throw error
  }
  if (config === 'help') {
    process.stdout.write(`${usage()}\n`)
    return 0
  }
  const log = createLogger({ level: config.logLevel })
  // A stop asked for while the models load has nothing to drain: exit cleanly rather than die of the signal.
  const stopWhileStarting = (signal: NodeJS.Signals) => {
    log.info('stopped before it was ready', { signal })
    process.exit(0)
  }
  process.once('SIGTERM', stopWhileStarting)
  process.once('SIGINT', stopWhileStarting)
  const account = privateKeyToAccount(config.privateKey)
  if (config.faultRate > 0) {
    log.warn('TEST ONLY: --fault-rate is set; this worker will sign deliberately wrong outputs', {
      faultRate: config.faultRate,
    })
  }
  const models = await loadModelDirectory({ dir: config.modelsDir })
  const engine = await InferenceEngine.create({
    models,
    device: config.device,
    concurrency: config.concurrency,
    maxBatchSize: config.maxBatchSize,
    maxWaitMs: config.maxWaitMs,
  })
  log.info('worker ready', {
    provider: account.address,
    device: `${engine.device.kind}: ${engine.device.name}`,
    memoryBytes: engine.device.memoryBytes,
    runtime: `${engine.runtime.name}@${engine.runtime.version}/${engine.runtime.executionProvider}`,
    ...(engine.runtime.fallbackReason ? { cpuBecause: engine.runtime.fallbackReason } : {}),
    models: engine
      .listModels()
      .map((m) => m.name)
      .join(','),
  })
  const client = new GatewayClient({
    gatewayUrl: config.gatewayUrl,
    account,
    engine,
    log,
    pricePerUnit: config.pricePerUnit,
    receiptTtlSeconds: config.receiptTtlSeconds,
    expect: { chainId: config.chainId, jobMarket: config.jobMarket },
    reconnect: config.reconnect,
    faultRate: config.faultRate,
  })
  client.start()

  return new Promise<number>((resolve) => {
    let stopping: NodeJS.Signals | undefined
    const shutdown = (signal: NodeJS.Signals) => {
      // Ctrl-C twice forces the exit. A different signal during the drain is the same request from elsewhere (the
      // terminal's SIGINT to the group, then the supervisor's SIGTERM): the drain goes on, bounded by its grace.
      if (stopping === signal) {
        log.warn('second signal; exiting now', { signal })
        resolve(1)
        return
      }
      if (stopping) return
      stopping = signal
      log.info('shutting down', { signal, graceMs: config.shutdownGraceMs })
      void client
        .stop({ graceMs: config.shutdownGraceMs })
        .then(() => engine.close())
        .then(() => {
          log.info('stopped')
          resolve(0)
        })
        .catch((error) => {
          log.error('unclean shutdown', { error: String(error) })
          resolve(1)
        })
    }
    process.off('SIGTERM', stopWhileStarting)
    process.off('SIGINT', stopWhileStarting)
    process.on('SIGTERM', shutdown)
    process.on('SIGINT', shutdown)
  })
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`gpu-worker failed: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
