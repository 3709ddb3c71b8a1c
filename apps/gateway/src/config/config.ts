import path from 'node:path'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export type Finality = { kind: 'tag' } | { kind: 'depth'; depth: number } | { kind: 'auto'; depth: number }

export interface IndexerConfig {
  rpcUrls: string[]
  /** Expected chain id; checked against the RPC at start. */
  chainId?: number
  deploymentFile?: string
  finality: Finality
  pollIntervalMs: number
  getLogs: {
    /** First block range tried per eth_getLogs; adapted to the provider's limits. */
    initialRange: number
    maxRange: number
    /** Ranges fetched in parallel during backfill. */
    concurrency: number
    timeoutMs: number
    /** Attempts per request before the error surfaces to the sync loop, which backs off and tries again. */
    maxAttempts: number
  }
  /** Events decoded and buffered before one transaction writes them. */
  batchEvents: number
  /** Log every committed block (INDEXER_LOG_BLOCKS=1); tests use it to see progress from outside. */
  logBlocks: boolean
}

export interface Config {
  http: { host: string; port: number }
  /** No RPC_URL: start anvil, deploy and seed a demo network (npm start with no configuration). */
  demo: { enabled: boolean; anvilPort: number; seedSteps: number }
  databaseUrl?: string
  /** PGlite's data folder, used when DATABASE_URL is unset. */
  dataDir: string
  indexer: IndexerConfig
}

type Env = Record<string, string | undefined>

function invalid(name: string, value: string, expected: string): never {
  throw new ConfigError(`Invalid ${name}="${value}": expected ${expected}`)
}

function int(env: Env, name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^[0-9]+$/.test(raw)) invalid(name, raw, 'a non-negative integer')
  const n = Number(raw)
  if (n < min || n > max) invalid(name, raw, `an integer between ${min} and ${max}`)
  return n
}

function url(name: string, raw: string, schemes: string[]): string {
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    return invalid(name, raw, `an ${schemes.join(' or ')} URL`)
  }
  if (!schemes.some((s) => parsed.protocol === `${s}:`)) invalid(name, raw, `an ${schemes.join(' or ')} URL`)
  return raw
}

function finality(raw: string | undefined): Finality {
  if (raw === undefined || raw === '' || raw === 'auto') return { kind: 'auto', depth: 64 }
  if (raw === 'tag' || raw === 'finalized') return { kind: 'tag' }
  if (/^[0-9]+$/.test(raw)) return { kind: 'depth', depth: Number(raw) }
  return invalid('FINALITY', raw, '"auto", "tag" or a block depth such as 64')
}

/** Reads and validates the whole configuration once; fails fast naming the variable and the bad value. */
export function loadConfig(env: Env = process.env): Config {
  const rpcRaw = env.RPC_URLS ?? env.RPC_URL ?? ''
  const rpcUrls = rpcRaw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((u) => url(env.RPC_URLS ? 'RPC_URLS' : 'RPC_URL', u, ['http', 'https']))
  const databaseUrl = env.DATABASE_URL || undefined
  if (databaseUrl) url('DATABASE_URL', databaseUrl, ['postgres', 'postgresql'])
  const chainIdRaw = env.CHAIN_ID
  const chainId = chainIdRaw ? int(env, 'CHAIN_ID', 0, { min: 1 }) : undefined
  const initialRange = int(env, 'GETLOGS_INITIAL_RANGE', 2_000, { min: 1 })
  const maxRange = int(env, 'GETLOGS_MAX_RANGE', 50_000, { min: 1 })
  if (maxRange < initialRange) {
    invalid('GETLOGS_MAX_RANGE', String(maxRange), `at least GETLOGS_INITIAL_RANGE (${initialRange})`)
  }
  return {
    http: { host: env.HOST || '127.0.0.1', port: int(env, 'PORT', 4000, { min: 1, max: 65_535 }) },
    demo: {
      enabled: rpcUrls.length === 0,
      anvilPort: int(env, 'DEMO_ANVIL_PORT', 8545, { min: 1, max: 65_535 }),
      seedSteps: int(env, 'DEMO_SEED_STEPS', 150),
    },
    databaseUrl,
    dataDir: path.resolve(env.DATA_DIR || '.data'),
    indexer: {
      rpcUrls,
      chainId,
      deploymentFile: env.DEPLOYMENT_FILE ? path.resolve(env.DEPLOYMENT_FILE) : undefined,
      finality: finality(env.FINALITY),
      pollIntervalMs: int(env, 'POLL_INTERVAL_MS', 1_000, { min: 10 }),
      getLogs: {
        initialRange,
        maxRange,
        concurrency: int(env, 'GETLOGS_CONCURRENCY', 4, { min: 1, max: 64 }),
        timeoutMs: int(env, 'RPC_TIMEOUT_MS', 10_000, { min: 100 }),
        maxAttempts: int(env, 'RPC_MAX_ATTEMPTS', 5, { min: 1, max: 100 }),
      },
      batchEvents: int(env, 'INDEXER_BATCH_EVENTS', 20_000, { min: 1 }),
      logBlocks: env.INDEXER_LOG_BLOCKS === '1',
    },
  }
}
