import { anvilAccount, runActivity } from '@computegraph/contracts/activity'
import { type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadSchemaModel } from '../db/schema-file'
import type { DatabaseKind } from '../db/testing'
import { deploymentId } from './chain-head.service'
import { readTruth, type Truth } from './testing/chain-truth'
import { buildCorpus, type Corpus } from './testing/corpus'
import { startTestGateway, type TestGateway } from './testing/gateway'
import { Oracle, renderQuery, type Spec } from './testing/oracle'

const PROVIDERS = [1, 2, 3, 4, 5, 6]
const CLIENTS = [7, 8, 9, 10, 11]

let net: LocalNetwork
let head: Truth
let past: Truth
let pastHash: string
/** A block whose transactions touched none of the indexed contracts, so the indexer stored no row for it. */
let unstored: bigint
let corpus: Corpus

beforeAll(async () => {
  net = await startLocalNetwork({ anvil: { accounts: 12 } })
  await runActivity(net, { seed: 3, steps: 500, providers: PROVIDERS, clients: CLIENTS })
  const timestamps = new Map<bigint, bigint>()
  head = await readTruth({ net, block: (await net.publicClient.getBlock()).number, timestamps })
  const a = net.addresses
  const logs = await net.publicClient.getLogs({
    address: [a.staking, a.jobMarket, a.rewardPool],
    fromBlock: 0n,
    toBlock: head.block,
  })
  const withEvents = new Set(logs.map((l) => l.blockNumber))
  // An earlier block that, like its parent, has indexed events: the indexer stored both, so hash and parent are known.
  const created = head.entities.Job?.map((j) => BigInt(j.createdAtBlock as string)) ?? []
  const pastBlock = created.slice(Math.floor(created.length / 2)).find((b) => withEvents.has(b - 1n)) as bigint
  past = await readTruth({ net, block: pastBlock, timestamps })
  pastHash = (await net.publicClient.getBlock({ blockNumber: pastBlock })).hash
  unstored = pastBlock - 1n
  while (withEvents.has(unstored)) unstored--
  corpus = buildCorpus({ schema: loadSchemaModel(), head, past, pastHash })
}, 120_000)

afterAll(async () => {
  await net?.stop()
})

describe.each<DatabaseKind>(['postgres', 'pglite'])('the GraphQL endpoint on %s', (kind) => {
  let gw: TestGateway
  const model = loadSchemaModel()

  beforeAll(async () => {
    // The corpus arrives faster than a client may send in production; the rate limit has its own tests.
    gw = await startTestGateway({ kind, net, env: { GRAPHQL_RATE_LIMIT_PER_SECOND: '0' } })
  }, 120_000)
  afterAll(async () => {
    await gw?.close()
  })

  /** Runs each query over HTTP and compares its data with the oracle's answer from the chain's own state. */
  async function check(specs: Spec[]) {
    const heads = new Oracle(model, head)
    const pasts = new Oracle(model, past)
    for (const spec of specs) {
      const query = renderQuery(spec)
      const atPast = spec.block?.number !== undefined || spec.block?.hash !== undefined
      const expected = (atPast ? pasts : heads).answer(spec)
      const res = await gw.query(query)
      expect.soft(res.body, `${spec.name}\n${query}`).toEqual({ data: expected })
    }
  }

  it('filters every field type by each of its suffixes, with and/or, nested filters and _change_block', async () => {
    expect(corpus.filters.length).toBeGreaterThanOrEqual(80)
    await check(corpus.filters)
  })

  it('resolves references and derived fields with their own arguments', async () => {
    await check(corpus.relations)
  })

  it('orders by any field, a reference’s field and in both directions, and pages with skip and first', async () => {
    await check(corpus.ordering)
  })

  it('looks entities up by id, in any case for Bytes ids, and answers null for an unknown one', async () => {
    await check(corpus.lookups)
  })

  it('reads at a past block by number or hash, nested fields included, and at the head for number_gte', async () => {
    await check(corpus.timeTravel)
  })

  it('answers hourly and daily statistics and leaderboards as computed from the chain’s events and state', async () => {
    expect(corpus.statistics.length).toBeGreaterThanOrEqual(35)
    await check(corpus.statistics)
  })

  it('runs one SQL statement per relation level, however many rows each level has', async () => {
    // Seven relations over four levels: jobs; provider, model; stakeEvents, rewards, model.jobs; rewards.epoch.
    const query = (first: number) => `{ jobs(first: ${first}, where: { provider_not: null }) { id
      provider { id stakeEvents(first: 3) { id } rewards(first: 2) { id epoch { id } } }
      model { id jobs(first: 2) { id } } } }`
    const assigned = head.entities.Job?.filter((j) => j.provider !== null).length as number
    for (const first of [100, 4]) {
      gw.resetStatements()
      const res = await gw.query(query(first))
      expect(res.body.errors).toBeUndefined()
      expect((res.body.data as { jobs: unknown[] }).jobs).toHaveLength(Math.min(first, assigned))
      expect(gw.statements).toHaveLength(7)
    }
    gw.resetStatements()
    const aliased = await gw.query(
      '{ a: job(id: "1") { id } b: job(id: "2") { id } c: job(id: "3") { id } d: job(id: "4") { id } }',
    )
    expect(Object.keys(aliased.body.data ?? {})).toHaveLength(4)
    expect(gw.statements).toHaveLength(1)
    // Statistics: the buckets (rolled up and in progress) in one statement, each relation level in one more.
    gw.resetStatements()
    const stats = await gw.query(`{ providerStats(interval: hour, current: include, first: 1000) { rewards
      provider { id jobs(first: 2) { id model { id } } } } }`)
    expect(stats.body.errors).toBeUndefined()
    expect((stats.body.data as { providerStats: unknown[] }).providerStats.length).toBeGreaterThan(10)
    expect(gw.statements).toHaveLength(4)
  })

  it('answers _meta with the indexed head block, the deployment and the error flag', async () => {
    const block = await net.publicClient.getBlock()
    const res = await gw.query('{ _meta { block { number hash timestamp parentHash } deployment hasIndexingErrors } }')
    expect(res.body).toEqual({
      data: {
        _meta: {
          block: {
            number: Number(block.number),
            hash: block.hash,
            timestamp: Number(block.timestamp),
            parentHash: block.parentHash,
          },
          deployment: deploymentId({
            chainId: net.deployment.chainId,
            contracts: Object.entries(net.deployment.contracts).map(([name, c]) => ({ name, ...c })),
          }),
          hasIndexingErrors: false,
        },
      },
    })
  })

  it('answers _meta at a past block by number or hash, with a null hash where no block was stored', async () => {
    const b = await net.publicClient.getBlock({ blockNumber: past.block })
    const expected = {
      number: Number(b.number),
      hash: b.hash,
      timestamp: Number(b.timestamp),
      parentHash: b.parentHash,
    }
    const q = (height: string) => `{ _meta(block: ${height}) { block { number hash timestamp parentHash } } }`
    expect((await gw.query(q(`{ number: ${past.block} }`))).body).toEqual({ data: { _meta: { block: expected } } })
    expect((await gw.query(q(`{ hash: "${pastHash.toUpperCase().replace('0X', '0x')}" }`))).body).toEqual({
      data: { _meta: { block: expected } },
    })
    expect((await gw.query(q(`{ number: ${unstored} }`))).body).toEqual({
      data: { _meta: { block: { number: Number(unstored), hash: null, timestamp: null, parentHash: null } } },
    })
  })

  it('refuses blocks it has not indexed, naming the head, and unknown block hashes', async () => {
    const n = Number(head.block) + 100
    const later = await gw.query(`{ jobs(block: { number: ${n} }) { id } }`)
    expect(later.body.data).toBeNull()
    expect(later.body.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE')
    expect(later.body.errors?.[0]?.message).toMatch(
      new RegExp(
        `has only indexed up to block number ${head.block} and data for block number ${n} is therefore not yet available`,
      ),
    )
    const gte = await gw.query(`{ _meta(block: { number_gte: ${n} }) { block { number } } }`)
    expect(gte.body.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE')
    const hash = await gw.query(`{ jobs(block: { hash: "0x${'ab'.repeat(32)}" }) { id } }`)
    expect(hash.body.errors?.[0]).toMatchObject({
      message: `block.hash: no block with hash 0x${'ab'.repeat(32)} has been indexed`,
      extensions: { code: 'NOT_FOUND' },
    })
  })

  it('refuses statistics queries without an interval or with filters graph-node does not offer, saying why', async () => {
    const error = async (q: string) => {
      const res = await gw.query(q)
      expect(res.body.data ?? null, q).toBeNull()
      expect(JSON.stringify(res.body.errors), q).not.toMatch(/stack|\.ts:\d+|\bat \w+ \(/)
      return res.body.errors?.[0]
    }
    expect(await error('{ networkStats { fees } }')).toMatchObject({
      message:
        'Field "networkStats" argument "interval" of type "Aggregation_interval!" is required, but it was not provided.',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    })
    expect((await error('{ networkStats(interval: week) { fees } }'))?.message).toBe(
      'Value "week" does not exist in "Aggregation_interval" enum.',
    )
    expect((await error('{ networkStats(interval: day, where: { fees_gt: "1" }) { fees } }'))?.message).toMatch(
      /Field "fees_gt" is not defined by type "NetworkStat_filter"/,
    )
    expect(
      (await error('{ providerStats(interval: day, where: { provider_in: ["0x01"] }) { fees } }'))?.message,
    ).toMatch(/Field "provider_in" is not defined by type "ProviderStat_filter"/)
    expect(
      await error('{ networkStats(interval: day, where: { timestamp_gte: "yesterday" }) { fees } }'),
    ).toMatchObject({
      message: expect.stringMatching(/Timestamp must be a decimal integer string, got "yesterday"/),
    })
    expect(await error('query($i: Aggregation_interval!) { networkStats(interval: $i) { fees } }')).toMatchObject({
      message: expect.stringMatching(/Variable "\$i" of required type "Aggregation_interval!" was not provided/),
    })
  })

  it('accepts the query in variables, with subgraphError, and keeps amounts exact', async () => {
    const provider = anvilAccount(PROVIDERS[0] as number).address
    const res = await gw.query(
      'query P($id: ID!, $first: Int) { provider(id: $id, subgraphError: allow) { id stake jobs(first: $first) { id } } }',
      { id: provider, first: 2 },
    )
    const truth = head.entities.Provider?.find((p) => p.id === provider.toLowerCase())
    const got = res.body.data?.provider as { id: string; stake: string; jobs: unknown[] }
    expect(got).toMatchObject({ id: provider.toLowerCase(), stake: truth?.stake })
    expect(got.jobs.length).toBeLessThanOrEqual(2)
    expect(BigInt(got.stake)).toBeGreaterThan(2n ** 53n)
  })
})
