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
    /** Logs per response the range adapts towards; bounds memory on dense chains. */
    targetLogs: number
  }
  /** Events decoded and buffered before one transaction writes them. */
  batchEvents: number
  /** Log every committed block (INDEXER_LOG_BLOCKS=1); tests use it to see progress from outside. */
  logBlocks: boolean
  /** Entities kept in memory between batches; bounds the indexer's memory, prefetch reloads the rest. */
  cacheEntities: number
  /** The index declaration (large entities and their query fields); subgraph/indexes.json when unset. */
  indexesFile?: string
}

/** The GraphQL endpoint's production limits, all in one place; every default is on and names its source. */
export interface GraphqlConfig {
  /** Largest `first` a collection accepts. */
  maxFirst: number
  /** Largest `skip`; keyset paging (`where: {id_gt: $last}`) goes past it. */
  maxSkip: number
  /** Deepest field nesting in one operation. */
  maxDepth: number
  maxAliases: number
  maxDirectives: number
  /** Lexical tokens in one document, checked while parsing. */
  maxTokens: number
  /** Estimated rows one operation may read: each collection's `first` times that of the lists around it. */
  maxCost: number
  /** Largest request body on /graphql; larger ones get 413. */
  maxBodyBytes: number
  /** Token bucket per client (IP, or a configured API key): refill per second and bucket size; 0 turns it off. */
  rateLimit: { perSecond: number; burst: number; apiKeyHeader: string; apiKeys: string[]; trustProxyHops: number }
  /** Per-statement timeout the database connection should use (DbModule wires it). */
  statementTimeoutMs: number
  introspection: boolean
  /** "Did you mean …" hints in validation errors; they reveal the schema, so off in production. */
  suggestions: boolean
  /** The GraphiQL page on GET /graphql from a browser; its scripts come from unpkg.com. */
  graphiql: boolean
  /** Operations one graphql-ws connection may run at once; each holds a queue and a feed listener. */
  maxSubscriptionsPerConnection: number
}

/** Defaults of the GraphQL limits, each with the reason for its value. */
export const GRAPHQL_DEFAULTS = {
  maxFirst: 1_000, // graph-node's GRAPH_GRAPHQL_MAX_FIRST
  maxSkip: 5_000, // The Graph's hosted service (GRAPH_GRAPHQL_MAX_SKIP); graph-node alone has no cap
  // graph-node allows 255, meant for a trusted node; graphql-armor's default is 6. Our longest useful path
  // (job → provider → stakeEvents → provider → …) needs about 5, so 10 leaves room without inviting recursion.
  maxDepth: 10,
  maxAliases: 30, // graphql-armor's 15, doubled: dApps batch entity lookups by alias
  maxDirectives: 50, // graphql-armor's default
  maxTokens: 5_000, // graphql-armor's 1,000 is too few for a `where` with a few hundred literal ids
  maxCost: 100_000, // a full page (graph-node's 1,000) with a default-sized (100) nested list on each row
  maxBodyBytes: 256 * 1024, // express's 100 kB is too tight for large `_in` lists in variables; Apollo has no cap
  ratePerSecond: 50, // per client: a dApp polling a few queries per block stays far below it
  rateBurst: 100, // two seconds of refill, for page loads that fire many queries at once
  statementTimeoutMs: 30_000, // what DbModule has used since the start
  // A dApp page watches a few feeds (blocks, reorgs, its jobs); 20 leaves room while bounding one socket's fan-out.
  maxSubscriptionsPerConnection: 20,
} as const

/** The compute router: worker admission, routing, spot checks and the on-chain job loop. */
export interface ComputeConfig {
  enabled: boolean
  /** WebSocket path workers connect to. */
  workersPath: string
  /**
   * The gateway's key: it signs attestations and, holding the dispatcher and arbiter roles, assigns on-chain jobs,
   * submits receipts and slashes. Without one an ephemeral key signs attestations and the on-chain loop is off.
   */
  gatewayPrivateKey?: `0x${string}`
  /** Budget of one request across all its attempts. */
  requestTimeoutMs: number
  /**
   * Budget of one attempt on a worker whose latency is not measured yet (its first request, or a training task)
   * before the next worker is tried. A measured worker gets ten times the time its latency average and queue
   * predict, at least `attemptFloorMs`; the request's deadline bounds both.
   */
  attemptTimeoutMs: number
  attemptFloorMs: number
  maxAttempts: number
  /** Requests a worker may hold beyond its advertised concurrency before the router calls it busy. */
  maxQueuePerWorker: number
  /** Consecutive failures that suspend a worker, and for how long. */
  suspendAfterErrors: number
  suspendMs: number
  heartbeatMs: number
  /** Share of inference requests re-executed on a second worker (0 to 1). */
  spotCheckShare: number
  /** Stake taken from a worker caught returning wrong outputs (token base units); 0 slashes its whole stake. */
  slashAmount: bigint
  /** Largest JSON body on /v1/*. */
  maxBodyBytes: number
  /** Assign JobCreated jobs to workers and submit their receipts (needs gatewayPrivateKey with the roles). */
  onchainJobs: boolean
  /** How long an async request or a training job may wait for a worker (gateway restarts included). */
  queuedRequestTtlMs: number
  /** How long a replica's claim on a queued request lasts unrenewed: after a crash, others resume it this late. */
  leaseMs: number
  workerSockets: WorkerSocketLimits
}

/** Limits on the workers' WebSocket path, which anyone can reach: strict until a worker has proved its stake. */
export interface WorkerSocketLimits {
  /** Largest frame before admission: the hello (device, runtime, the models served) is all a worker sends then. */
  helloMaxBytes: number
  /** Connections not yet admitted, from one remote address and in all; more are refused at the upgrade. */
  maxPendingPerAddress: number
  maxPending: number
  /** From connect to admission: a connection still not admitted after this long is closed. */
  handshakeTimeoutMs: number
  /** Malformed frames an admitted worker may send within `badFrameWindowMs` before it is dropped. */
  maxBadFrames: number
  badFrameWindowMs: number
  /** Warnings logged per worker and window about unusable frames; the rest are counted in the next one. */
  badFrameLogsPerWindow: number
}

/** Defaults of the worker socket limits, each with the reason for its value. */
export const WORKER_SOCKET_DEFAULTS: WorkerSocketLimits = {
  // The shipped worker's hello is about 3 kB; 256 kB leaves room for a few hundred served models.
  helloMaxBytes: 256 * 1024,
  // One host runs a worker per GPU (8 on the largest common boxes) and they all reconnect after a gateway restart.
  maxPendingPerAddress: 16,
  // A handshake lasts milliseconds (one signature check, one indexed-state read); 256 at once is a reconnect storm.
  maxPending: 256,
  handshakeTimeoutMs: 10_000, // the worker CLI gives up on a handshake after 10 s (gateway-client.ts)
  // A worker on a mismatched protocol version fails every frame: a minute of it is enough to know.
  maxBadFrames: 20,
  badFrameWindowMs: 60_000,
  badFrameLogsPerWindow: 3,
}

export interface Config {
  http: { host: string; port: number }
  /** No RPC_URL: start anvil, deploy and seed a demo network (npm start with no configuration). */
  demo: { enabled: boolean; anvilPort: number; seedSteps: number; workers: number; traffic: boolean }
  databaseUrl?: string
  /** PGlite's data folder, used when DATABASE_URL is unset. */
  dataDir: string
  indexer: IndexerConfig
  graphql: GraphqlConfig
  /** GET /metrics in Prometheus text format. */
  metrics: { enabled: boolean }
  compute: ComputeConfig
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

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (raw === '1' || raw === 'true') return true
  if (raw === '0' || raw === 'false') return false
  return invalid(name, raw, '1, 0, true or false')
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

function privateKey(name: string, raw: string | undefined): `0x${string}` | undefined {
  if (raw === undefined || raw === '') return undefined
  if (!/^0x[0-9a-fA-F]{64}$/.test(raw))
    invalid(name, `${raw.slice(0, 6)}…`, 'a 32-byte hex private key (0x + 64 hex digits)')
  return raw as `0x${string}`
}

function share(env: Env, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!/^[0-9.]+$/.test(raw) || !(n >= 0 && n <= 1)) invalid(name, raw, 'a number between 0 and 1')
  return n
}

function uint(env: Env, name: string, fallback: bigint): bigint {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^[0-9]{1,78}$/.test(raw)) invalid(name, raw, 'a non-negative integer amount in token base units')
  return BigInt(raw)
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
  const production = env.NODE_ENV === 'production'
  const d = GRAPHQL_DEFAULTS
  const ws = WORKER_SOCKET_DEFAULTS
  const graphql: GraphqlConfig = {
    maxFirst: int(env, 'GRAPHQL_MAX_FIRST', d.maxFirst, { min: 1 }),
    maxSkip: int(env, 'GRAPHQL_MAX_SKIP', d.maxSkip),
    maxDepth: int(env, 'GRAPHQL_MAX_DEPTH', d.maxDepth, { min: 2 }),
    maxAliases: int(env, 'GRAPHQL_MAX_ALIASES', d.maxAliases),
    maxDirectives: int(env, 'GRAPHQL_MAX_DIRECTIVES', d.maxDirectives),
    maxTokens: int(env, 'GRAPHQL_MAX_TOKENS', d.maxTokens, { min: 10 }),
    maxCost: int(env, 'GRAPHQL_MAX_COST', d.maxCost, { min: 1 }),
    maxBodyBytes: int(env, 'GRAPHQL_MAX_BODY_BYTES', d.maxBodyBytes, { min: 1_024 }),
    rateLimit: {
      perSecond: int(env, 'GRAPHQL_RATE_LIMIT_PER_SECOND', d.ratePerSecond),
      burst: int(env, 'GRAPHQL_RATE_LIMIT_BURST', d.rateBurst, { min: 1 }),
      apiKeyHeader: (env.GRAPHQL_API_KEY_HEADER || 'x-api-key').toLowerCase(),
      apiKeys: (env.GRAPHQL_API_KEYS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      trustProxyHops: int(env, 'GRAPHQL_TRUST_PROXY_HOPS', 0, { max: 10 }),
    },
    statementTimeoutMs: int(env, 'STATEMENT_TIMEOUT_MS', d.statementTimeoutMs, { min: 100 }),
    // On in development, as on The Graph's endpoints: client code generators read the schema this way. Off in
    // production, where it maps the whole API for whoever asks; GRAPHQL_INTROSPECTION=1 turns it back on.
    introspection: bool(env, 'GRAPHQL_INTROSPECTION', !production),
    suggestions: bool(env, 'GRAPHQL_SUGGESTIONS', !production),
    // The GraphiQL explorer at /explorer, built with the dashboard and served from the gateway's own files (no CDN):
    // on in development and the demo, off in production with introspection, which it needs.
    graphiql: bool(env, 'GRAPHQL_GRAPHIQL', !production),
    maxSubscriptionsPerConnection: int(
      env,
      'GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION',
      d.maxSubscriptionsPerConnection,
      { min: 1 },
    ),
  }
  return {
    http: { host: env.HOST || '127.0.0.1', port: int(env, 'PORT', 4000, { min: 1, max: 65_535 }) },
    demo: {
      enabled: rpcUrls.length === 0,
      anvilPort: int(env, 'DEMO_ANVIL_PORT', 8545, { min: 1, max: 65_535 }),
      seedSteps: int(env, 'DEMO_SEED_STEPS', 150),
      workers: int(env, 'DEMO_WORKERS', 2, { max: 2 }),
      traffic: bool(env, 'DEMO_TRAFFIC', true),
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
        targetLogs: int(env, 'GETLOGS_TARGET_LOGS', 5_000, { min: 1 }),
      },
      batchEvents: int(env, 'INDEXER_BATCH_EVENTS', 5_000, { min: 1 }),
      logBlocks: env.INDEXER_LOG_BLOCKS === '1',
      cacheEntities: int(env, 'INDEXER_CACHE_ENTITIES', 20_000, { min: 100 }),
      indexesFile: env.INDEXES_FILE ? path.resolve(env.INDEXES_FILE) : undefined,
    },
    graphql,
    // On: counts and timings only, no entity data or request content; a missing scrape target is noticed late.
    metrics: { enabled: bool(env, 'METRICS_ENABLED', true) },
    compute: {
      enabled: bool(env, 'COMPUTE_ENABLED', true),
      workersPath: '/workers',
      gatewayPrivateKey: privateKey('GATEWAY_PRIVATE_KEY', env.GATEWAY_PRIVATE_KEY),
      requestTimeoutMs: int(env, 'COMPUTE_REQUEST_TIMEOUT_MS', 10_000, { min: 10 }),
      attemptTimeoutMs: int(env, 'COMPUTE_ATTEMPT_TIMEOUT_MS', 5_000, { min: 10 }),
      // Above a major GC pause or a busy host's scheduling delay, which a fast worker's average does not show.
      attemptFloorMs: int(env, 'COMPUTE_ATTEMPT_FLOOR_MS', 1_000, { min: 10 }),
      // Livepeer's AI gateway tries up to 3 times on one orchestrator and 20 in all; one request here is cheap and
      // a bot wants an answer within its deadline, so 3 workers in all.
      maxAttempts: int(env, 'COMPUTE_MAX_ATTEMPTS', 3, { min: 1, max: 20 }),
      maxQueuePerWorker: int(env, 'COMPUTE_MAX_QUEUE_PER_WORKER', 64),
      // Livepeer suspends an orchestrator after an error with penalty 3; a few in a row, then a cool-down.
      suspendAfterErrors: int(env, 'COMPUTE_SUSPEND_AFTER_ERRORS', 3, { min: 1 }),
      suspendMs: int(env, 'COMPUTE_SUSPEND_MS', 30_000),
      heartbeatMs: int(env, 'COMPUTE_HEARTBEAT_MS', 5_000, { min: 50 }),
      spotCheckShare: share(env, 'COMPUTE_SPOT_CHECK_SHARE', 0.05),
      slashAmount: uint(env, 'COMPUTE_SLASH_AMOUNT', 0n),
      maxBodyBytes: int(env, 'COMPUTE_MAX_BODY_BYTES', 1024 * 1024, { min: 1_024 }),
      onchainJobs: bool(env, 'COMPUTE_ONCHAIN_JOBS', true),
      queuedRequestTtlMs: int(env, 'COMPUTE_QUEUED_REQUEST_TTL_MS', 10 * 60_000, { min: 1_000 }),
      leaseMs: int(env, 'COMPUTE_LEASE_MS', 15_000, { min: 100 }),
      workerSockets: {
        helloMaxBytes: int(env, 'COMPUTE_WORKER_HELLO_MAX_BYTES', ws.helloMaxBytes, { min: 4_096 }),
        maxPendingPerAddress: int(env, 'COMPUTE_WORKER_PENDING_PER_ADDRESS', ws.maxPendingPerAddress, { min: 1 }),
        maxPending: int(env, 'COMPUTE_WORKER_PENDING_MAX', ws.maxPending, { min: 1 }),
        handshakeTimeoutMs: int(env, 'COMPUTE_WORKER_HANDSHAKE_TIMEOUT_MS', ws.handshakeTimeoutMs, { min: 100 }),
        maxBadFrames: int(env, 'COMPUTE_WORKER_MAX_BAD_FRAMES', ws.maxBadFrames, { min: 1 }),
        badFrameWindowMs: ws.badFrameWindowMs,
        badFrameLogsPerWindow: ws.badFrameLogsPerWindow,
      },
    },
  }
}
