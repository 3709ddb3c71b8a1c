import { anvilAccount, runActivity } from '@computegraph/contracts/activity'
import { actions, type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { sql } from 'drizzle-orm'
import { parseEther } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../config/config'
import { startTestGateway, type TestGateway } from '../graphql/testing/gateway'
import { IndexerService } from '../indexer/indexer.service'
import { waitForHead } from '../indexer/testing/harness'
import { parseExposition } from './testing/exposition'

const PROVIDERS = [1, 2, 3, 4]
const CLIENTS = [5, 6, 7]

describe('GET /metrics', () => {
  let net: LocalNetwork
  let gw: TestGateway
  let metricsUrl: string

  beforeAll(async () => {
    net = await startLocalNetwork({ anvil: { accounts: 8 } })
    await runActivity(net, { seed: 21, steps: 60, providers: PROVIDERS, clients: CLIENTS })
    gw = await startTestGateway({ kind: 'postgres', net, env: { GRAPHQL_RATE_LIMIT_PER_SECOND: '0' } })
    metricsUrl = new URL('/metrics', gw.url).href
  }, 120_000)
  afterAll(async () => {
    await gw?.close()
    await net?.stop()
  })

  async function scrape() {
    const res = await fetch(metricsUrl)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    return parseExposition(await res.text())
  }

  const value = (samples: Map<string, number>, key: string) => samples.get(key) ?? 0
  const indexer = () => gw.app.get(IndexerService).current as NonNullable<IndexerService['current']>
  const storedEvents = async () =>
    Number((await gw.database.query<{ n: string }>(sql`select count(*)::text as n from chain_event`))[0]?.n)

  it('serves valid Prometheus text with the gateway, indexer and process metrics', async () => {
    const { samples, types } = await scrape()
    expect(samples.size).toBeGreaterThan(20)
    expect(Object.fromEntries([...types].filter(([name]) => !name.startsWith('computegraph_process_')))).toMatchObject({
      computegraph_graphql_requests_total: 'counter',
      computegraph_graphql_request_duration_seconds: 'histogram',
      computegraph_graphql_errors_total: 'counter',
      computegraph_indexer_head_block: 'gauge',
      computegraph_indexer_head_timestamp_seconds: 'gauge',
      computegraph_chain_head_block: 'gauge',
      computegraph_indexer_lag_blocks: 'gauge',
      computegraph_indexer_lag_seconds: 'gauge',
      computegraph_indexer_blocks_total: 'counter',
      computegraph_indexer_events_total: 'counter',
      computegraph_indexer_reorgs_total: 'counter',
      computegraph_indexer_rolled_back_blocks_total: 'counter',
    })
    expect(types.get('computegraph_process_cpu_user_seconds_total')).toBe('counter')
    expect(samples.get('computegraph_nodejs_heap_size_used_bytes')).toBeGreaterThan(0)
  })

  it('reports the indexed head at the chain head, with no lag, once activity is indexed', async () => {
    const head = await net.publicClient.getBlock()
    await waitForHead(indexer(), net)
    const { samples } = await scrape()
    expect(samples.get('computegraph_indexer_head_block')).toBe(Number(head.number))
    expect(samples.get('computegraph_indexer_head_timestamp_seconds')).toBe(Number(head.timestamp))
    expect(samples.get('computegraph_chain_head_block')).toBe(Number(head.number))
    expect(samples.get('computegraph_indexer_lag_blocks')).toBe(0)
    expect(samples.get('computegraph_indexer_lag_seconds')).toBe(0)
    expect(samples.get('computegraph_indexer_events_total')).toBe(await storedEvents())
  })

  it('counts GraphQL requests by operation type and outcome, and errors by code', async () => {
    const before = (await scrape()).samples
    for (let i = 0; i < 3; i++) {
      const ok = await gw.query('{ providers(first: 2) { id } }')
      expect(ok.body.errors).toBeUndefined()
    }
    for (let i = 0; i < 2; i++) {
      const tooMany = await gw.query('{ jobs(first: 5000) { id } }')
      expect(tooMany.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT'])
    }
    const unparsable = await gw.query('{ providers(')
    expect(unparsable.body.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_PARSE_FAILED'])
    const after = (await scrape()).samples
    const delta = (key: string) => value(after, key) - value(before, key)
    expect(delta('computegraph_graphql_requests_total{operation="query",outcome="ok"}')).toBe(3)
    expect(delta('computegraph_graphql_requests_total{operation="query",outcome="BAD_USER_INPUT"}')).toBe(2)
    expect(delta('computegraph_graphql_requests_total{operation="unknown",outcome="GRAPHQL_PARSE_FAILED"}')).toBe(1)
    expect(delta('computegraph_graphql_errors_total{code="BAD_USER_INPUT"}')).toBe(2)
    expect(delta('computegraph_graphql_errors_total{code="GRAPHQL_PARSE_FAILED"}')).toBe(1)
    expect(delta('computegraph_graphql_request_duration_seconds_count{operation="query"}')).toBe(5)
    expect(delta('computegraph_graphql_request_duration_seconds_count{operation="unknown"}')).toBe(1)
    expect(delta('computegraph_graphql_request_duration_seconds_bucket{le="+Inf",operation="query"}')).toBe(5)
  })

  it('counts the blocks and events indexed from new activity', async () => {
    const before = (await scrape()).samples
    const eventsBefore = await storedEvents()
    const from = await net.publicClient.getBlockNumber()
    await runActivity(net, { seed: 22, steps: 15, providers: PROVIDERS, clients: CLIENTS })
    const to = await waitForHead(indexer(), net)
    const after = (await scrape()).samples
    const delta = (key: string) => value(after, key) - value(before, key)
    expect(delta('computegraph_indexer_blocks_total')).toBe(Number(to - from))
    const newEvents = (await storedEvents()) - eventsBefore
    expect(newEvents).toBeGreaterThan(0)
    expect(delta('computegraph_indexer_events_total')).toBe(newEvents)
  })

  it('counts a reorg and the blocks it rolled back', async () => {
    const before = (await scrape()).samples
    const act = actions(net)
    const holder = anvilAccount(PROVIDERS[0] as number).address
    const snapshot = await net.testClient.snapshot()
    const forkBase = await net.publicClient.getBlockNumber()
    for (const amount of ['1', '2', '3']) await act.mint(holder, parseEther(amount))
    await waitForHead(indexer(), net)
    const orphaned = (await net.publicClient.getBlockNumber()) - forkBase
    await net.testClient.revert({ id: snapshot })
    // Different transactions, and more of them, so the new branch is longer and every block hash differs.
    for (const amount of ['7', '8', '9', '10']) await act.mint(holder, parseEther(amount))
    await waitForHead(indexer(), net)
    const after = (await scrape()).samples
    const delta = (key: string) => value(after, key) - value(before, key)
    expect(delta('computegraph_indexer_reorgs_total')).toBe(1)
    expect(delta('computegraph_indexer_rolled_back_blocks_total')).toBe(Number(orphaned))
    expect(after.get('computegraph_indexer_head_block')).toBe(Number(forkBase + orphaned + 1n))
  })
})

describe('METRICS_ENABLED', () => {
  it('turns GET /metrics off when 0', async () => {
    const gw = await startTestGateway({ kind: 'pglite', env: { METRICS_ENABLED: '0' } })
    try {
      expect((await fetch(new URL('/metrics', gw.url))).status).toBe(404)
      expect((await fetch(new URL('/health', gw.url))).status).toBe(200)
    } finally {
      await gw.close()
    }
  }, 60_000)

  it('is on by default and rejects values other than 1, 0, true or false', () => {
    expect(loadConfig({}).metrics).toEqual({ enabled: true })
    expect(() => loadConfig({ METRICS_ENABLED: 'yes' })).toThrow(
      'Invalid METRICS_ENABLED="yes": expected 1, 0, true or false',
    )
  })
})
