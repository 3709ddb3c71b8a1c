// `npm run indexer -w @computegraph/gateway`: runs only the indexer, configured from the environment.
import { ConfigError, loadConfig } from '../config/config'
import { runIndexer, StartupError } from './indexer.runner'

const logger = {
  log: (m: string) => console.log(`[indexer] ${m}`),
  warn: (m: string) => console.warn(`[indexer] ${m}`),
  error: (m: string) => console.error(`[indexer] ${m}`),
}
const controller = new AbortController()
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort())
try {
  const config = loadConfig()
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
  // One line that says what was wrong; a stack trace only for errors we did not expect.
  const known = error instanceof ConfigError || error instanceof StartupError
  console.error(`[indexer] ${known ? '' : 'fatal: '}${(error as Error).message}`)
  process.exit(known ? 2 : 1)
}
