import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

const PREFIX = 'computegraph_'

// Cardinality guard: `extensions.code` comes from our formatter and graphql-js, but a bug must not mint label values.
const MAX_CODE_LENGTH = 40

export interface ChainHead {
  number: bigint
  timestamp: bigint
}

/** The gauges read at scrape time: the indexer's committed cursor and the chain's head, when known. */
export interface IndexerSnapshot {
  indexed: ChainHead | null
  chain: ChainHead | null
}

/** The gateway's metrics, in their own registry so that several apps in one process (tests) keep apart. */
export interface GatewayMetrics {
  registry: Registry
  requests: Counter<'operation' | 'outcome'>
  requestSeconds: Histogram<'operation'>
  errors: Counter<'code'>
  blocks: Counter
  events: Counter
  reorgs: Counter
  rolledBackBlocks: Counter
}

/**
 * Creates the registry with process defaults and the gateway's metrics; `snapshot` is called by each indexer gauge on
 * every scrape, so it should share one chain-head request between them.
 */
export function createMetrics({ snapshot }: { snapshot: () => Promise<IndexerSnapshot> }): GatewayMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: PREFIX })
  const registers = [registry]
  const gauge = (name: string, help: string, value: (s: IndexerSnapshot) => bigint | null) =>
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      registers,
      async collect() {
        const v = value(await snapshot())
        // NaN, not 0, while unknown: a lag of 0 would read as healthy.
        this.set(v === null ? Number.NaN : Number(v))
      },
    })
  gauge('indexer_head_block', 'Number of the last block the indexer committed', (s) => s.indexed?.number ?? null)
  gauge(
    'indexer_head_timestamp_seconds',
    'Timestamp of the last block the indexer committed',
    (s) => s.indexed?.timestamp ?? null,
  )
  gauge('chain_head_block', "Number of the chain's latest block, as the RPC reports it", (s) => s.chain?.number ?? null)
  gauge('indexer_lag_blocks', 'Blocks between the chain head and the indexed head', (s) =>
    s.chain && s.indexed ? maxBig(s.chain.number - s.indexed.number, 0n) : null,
  )
  gauge('indexer_lag_seconds', 'Block time between the chain head and the indexed head', (s) =>
    s.chain && s.indexed ? maxBig(s.chain.timestamp - s.indexed.timestamp, 0n) : null,
  )
  return {
    registry,
    requests: new Counter({
      name: `${PREFIX}graphql_requests_total`,
      help: 'GraphQL requests answered, by operation type and outcome (ok, or the first error code)',
      labelNames: ['operation', 'outcome'],
      registers,
    }),
    requestSeconds: new Histogram({
      name: `${PREFIX}graphql_request_duration_seconds`,
      help: 'Time from receiving a GraphQL request to sending its response',
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    errors: new Counter({
      name: `${PREFIX}graphql_errors_total`,
      help: 'Errors in GraphQL responses, by extensions.code',
      labelNames: ['code'],
      registers,
    }),
    blocks: new Counter({ name: `${PREFIX}indexer_blocks_total`, help: 'Blocks indexed', registers }),
    events: new Counter({ name: `${PREFIX}indexer_events_total`, help: 'Contract events indexed', registers }),
    reorgs: new Counter({
      name: `${PREFIX}indexer_reorgs_total`,
      help: 'Chain reorganisations rolled back',
      registers,
    }),
    rolledBackBlocks: new Counter({
      name: `${PREFIX}indexer_rolled_back_blocks_total`,
      help: 'Indexed blocks rolled back by reorgs',
      registers,
    }),
  }
}

/** The outcome label of a response: `ok`, or the first error's code (`INTERNAL_SERVER_ERROR` when it has none). */
export function outcomeOf(errors: readonly { extensions?: Record<string, unknown> }[] | undefined): string {
  const first = errors?.[0]
  return first ? errorCode(first) : 'ok'
}

export function errorCode(error: { extensions?: Record<string, unknown> }): string {
  const code = error.extensions?.code
  return typeof code === 'string' && /^[A-Z_]+$/.test(code) && code.length <= MAX_CODE_LENGTH
    ? code
    : 'INTERNAL_SERVER_ERROR'
}

/** Counts one answered GraphQL request. */
export function recordGraphqlResponse({
  metrics,
  operation,
  errors,
  seconds,
}: {
  metrics: GatewayMetrics
  /** `query`, `mutation`, `subscription`, or `unknown` when the document did not parse or validate. */
  operation: string
  errors: readonly { extensions?: Record<string, unknown> }[] | undefined
  seconds: number
}): void {
  metrics.requests.inc({ operation, outcome: outcomeOf(errors) })
  metrics.requestSeconds.observe({ operation }, seconds)
  for (const e of errors ?? []) metrics.errors.inc({ code: errorCode(e) })
}

const maxBig = (a: bigint, b: bigint) => (a > b ? a : b)
