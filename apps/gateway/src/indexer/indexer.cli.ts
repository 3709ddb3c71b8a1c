// `npm run indexer -w @computegraph/gateway`: runs only the indexer, configured from the environment.
import { loadConfig } from '../config/config'
import { runIndexer } from './indexer.runner'

const config = loadConfig()
const controller = new AbortController()
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort())
const logger = {
  log: (m: string) => console.log(`[indexer] ${m}`),
  warn: (m: string) => console.warn(`[indexer] ${m}`),
  error: (m: string) => console.error(`[indexer] ${m}`),
}
try {
  await runIndexer({
    config,
    logger,
    signal: controller.signal,
    onIndexer: (indexer) =>
      indexer.on('block', (s) => {
        if (config.indexer.logBlocks) console.log(`[indexer] committed block ${s.blockNumber}`)
      }),
  })
} catch (error) {
  console.error(`[indexer] fatal: ${(error as Error).message}`)
  process.exit(1)
}
