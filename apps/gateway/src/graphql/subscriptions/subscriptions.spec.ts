import { jobMarketAbi } from '@computegraph/contracts/abis'
import { anvilAccount, runActivity } from '@computegraph/contracts/activity'
import { actions, type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { type Client, createClient } from 'graphql-ws'
import { type Hex, keccak256, parseEther, toHex } from 'viem'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { IndexerService } from '../../indexer/indexer.service'
import { waitForHead } from '../../indexer/testing/harness'
import { startTestGateway, type TestGateway } from '../testing/gateway'
import { ChangeFeedService } from './change-feed.service'

const PROVIDERS = [1, 2, 3, 4]
const CLIENTS = [5, 6, 7]
const MAX_PER_CONNECTION = 3

interface Block {
  number: number
  hash: string
  timestamp: number
  parentHash: string | null
}
interface Change {
  id: string
  job: { id: string; status: string; inputHash: string; client: { id: string } } | null
  previousStatus: string | null
  block: Block
  reorged: boolean
}
interface Bucket {
  interval: string
  timestamp: string
  block?: { number: number }
  network?: { jobsCreated: string; totalJobsCreated: string } | null
  reorged: boolean
}
interface Delivery<T> {
  events: T[]
  errors: unknown[]
  completed: boolean
}

let net: LocalNetwork
let gw: TestGateway
let modelId: Hex
const clients: Client[] = []

beforeAll(async () => {
  net = await startLocalNetwork({ anvil: { accounts: 8 } })
  const log = await runActivity(net, { seed: 21, steps: 60, providers: PROVIDERS, clients: CLIENTS })
  modelId = log.modelIds[0] as Hex
  // A finality depth above any burst below, so the indexer follows (and stores) every block rather than backfilling.
  gw = await startTestGateway({
    kind: 'postgres',
    net,
    env: {
      FINALITY: '64',
      GRAPHQL_RATE_LIMIT_PER_SECOND: '0',
      GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION: String(MAX_PER_CONNECTION),
    },
  })
}, 180_000)

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()))
})

afterAll(async () => {
  await gw?.close()
  await net?.stop()
})

function connect(): Client {
  const client = createClient({
    url: gw.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
  })
  clients.push(client)
  return client
}

/** Subscribes and collects what arrives; `field` picks the payload out of each result's data. */
function listen<T>(client: Client, query: string, field: string, variables?: Record<string, unknown>): Delivery<T> {
  const d: Delivery<T> = { events: [], errors: [], completed: false }
  client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) d.errors.push(...result.errors)
        const value = result.data?.[field]
        if (value) d.events.push(value)
      },
      error: (error) => {
        d.errors.push(...(Array.isArray(error) ? error : [error]))
      },
      complete: () => {
        d.completed = true
      },
    },
  )
  return d
}

async function until(what: string, done: () => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Waits until the gateway has indexed the chain's head and published everything up to it. */
async function settled() {
  const head = await waitForHead(gw.app.get(IndexerService).current as never, net)
  await gw.app.get(ChangeFeedService).feed.idle()
  return head
}

/**
 * Subscriptions on one connection are registered in the order sent; a newBlock subscription sent last that has
 * seen a block mined after it proves the earlier ones are live. Returns the first block all of them see.
 */
async function barrier(client: Client): Promise<number> {
  const blocks = listen<Block>(client, 'subscription { newBlock { number } }', 'newBlock')
  await new Promise((r) => setTimeout(r, 100))
  await net.testClient.mine({ blocks: 1 })
  await until('the barrier block', () => blocks.events.length > 0)
  return (blocks.events[0] as Block).number
}

const jobFields = 'id job { id status inputHash client { id } } previousStatus block { number hash } reorged'

/** Sends `count` createJob transactions (one block each) from `client`, inputs differing by `variant`. */
async function createJobs(count: number, variant: string, clientIndex = CLIENTS[0] as number) {
  const act = actions(net)
  const client = anvilAccount(clientIndex)
  for (let i = 0; i < count; i++) {
    await act.createJob(client, {
      modelId,
      inputHash: keccak256(toHex(`${variant} ${i}`)),
      payment: parseEther(String(1 + i)),
      deadline: (await act.latestTimestamp()) + 7200n,
    })
  }
}

/** Each job's status after each block in which JobMarket changed it, read from the chain's logs. */
async function chainTransitions(fromBlock: bigint, toBlock: bigint) {
  const logs = await net.publicClient.getContractEvents({
    address: net.addresses.jobMarket,
    abi: jobMarketAbi,
    fromBlock: 0n,
    toBlock,
  })
  const clientOf = new Map<string, string>()
  const status = new Map<string, string>()
  const out: { id: string; client: string; status: string; previousStatus: string | null; block: number }[] = []
  for (const log of logs) {
    const args = (log as unknown as { args: Record<string, unknown> }).args
    if (args.jobId === undefined) continue
    const id = String(args.jobId)
    const next: Record<string, string | undefined> = {
      JobCreated: 'OPEN',
      JobAssigned: 'ASSIGNED',
      JobCompleted: 'COMPLETED',
      JobCancelled: 'CANCELLED',
      JobExpired: 'EXPIRED',
      JobDisputed: 'DISPUTED',
      DisputeResolved: args.providerAtFault ? 'DISPUTED' : 'COMPLETED',
    }
    const after = next[log.eventName]
    if (!after) continue
    if (log.eventName === 'JobCreated') clientOf.set(id, String(args.client).toLowerCase())
    const before = status.get(id) ?? null
    status.set(id, after)
    if (log.blockNumber < fromBlock) continue
    // One job version per block: several events on a job in one block make one change.
    const same = out.findLast((c) => c.id === id)
    if (same && same.block === Number(log.blockNumber)) same.status = after
    else
      out.push({
        id,
        client: clientOf.get(id) as string,
        status: after,
        previousStatus: before,
        block: Number(log.blockNumber),
      })
  }
  return out
}

describe('GraphQL subscriptions over graphql-ws', () => {
  it('delivers each indexed block to newBlock, in order, while activity runs', async () => {
    const client = connect()
    const first = await barrier(client)
    const blocks = listen<Block>(client, 'subscription { newBlock { number hash timestamp parentHash } }', 'newBlock')
    const from = await barrier(client)
    await runActivity(net, { seed: 22, steps: 40, providers: PROVIDERS, clients: CLIENTS })
    const head = Number(await settled())
    await until('the head block', () => blocks.events.at(-1)?.number === head)
    expect(from).toBeGreaterThan(first)
    const numbers = blocks.events.map((b) => b.number)
    expect(numbers).toEqual(Array.from({ length: head - from + 1 }, (_, i) => from + i))
    for (const b of blocks.events) {
      const chain = await net.publicClient.getBlock({ blockNumber: BigInt(b.number) })
      expect(b).toEqual({
        number: Number(chain.number),
        hash: chain.hash,
        timestamp: Number(chain.timestamp),
        parentHash: chain.parentHash,
      })
    }
  })

  it('delivers exactly the status transitions the chain shows for the filtered jobs, in block order', async () => {
    const client = connect()
    const who = anvilAccount(CLIENTS[1] as number).address
    const changes = listen<Change>(
      client,
      `subscription($who: String!) { jobChanged(where: { client: $who }) { ${jobFields} } }`,
      'jobChanged',
      { who },
    )
    const completed = listen<Change>(
      client,
      `subscription { jobChanged(where: { status_in: [COMPLETED, DISPUTED] }) { ${jobFields} } }`,
      'jobChanged',
    )
    const from = await barrier(client)
    await runActivity(net, { seed: 23, steps: 80, providers: PROVIDERS, clients: CLIENTS })
    const head = await settled()
    const truth = await chainTransitions(BigInt(from), head)
    const mine = truth.filter((t) => t.client === who.toLowerCase())
    expect(mine.length).toBeGreaterThan(5)
    await until('the client’s changes', () => changes.events.length >= mine.length)
    const seen = (c: Change) => ({
      id: c.id,
      client: c.job?.client.id,
      status: c.job?.status,
      previousStatus: c.previousStatus,
      block: c.block.number,
    })
    expect(changes.events.map(seen)).toEqual(mine)
    expect(changes.events.every((c) => !c.reorged && c.job?.id === c.id)).toBe(true)
    const done = truth.filter((t) => t.status === 'COMPLETED' || t.status === 'DISPUTED')
    expect(done.length).toBeGreaterThan(0)
    await until('completed and disputed changes', () => completed.events.length >= done.length)
    expect(completed.events.map(seen)).toEqual(done)
    for (const d of [changes, completed]) {
      const blocks = d.events.map((c) => c.block.number)
      expect(blocks).toEqual([...blocks].sort((a, b) => a - b))
      expect(d.errors).toEqual([])
    }
  })

  it('announces a reorg with its ancestor and delivers the corrected jobs', async () => {
    const client = connect()
    const reorgs = listen<{ ancestor: number; orphanedHead: number; newHead: Block | null }>(
      client,
      'subscription { reorg { ancestor orphanedHead newHead { number hash timestamp parentHash } } }',
      'reorg',
    )
    const changes = listen<Change>(client, `subscription { jobChanged { ${jobFields} } }`, 'jobChanged')
    await barrier(client)
    await settled()
    const open = await gw.query<{ jobs: { id: string; client: { id: string } }[] }>(
      '{ jobs(first: 1, where: { status: OPEN }, orderBy: id) { id client { id } } }',
    )
    const victim = open.body.data?.jobs[0] as { id: string; client: { id: string } }
    const victimClient = [...CLIENTS, ...PROVIDERS].find(
      (i) => anvilAccount(i).address.toLowerCase() === victim.client.id,
    ) as number

    const snapshot = await net.testClient.snapshot()
    const forkBase = Number(await net.publicClient.getBlockNumber())
    // The orphaned branch: the victim cancelled, then two new jobs.
    await actions(net).cancelJob(anvilAccount(victimClient), BigInt(victim.id))
    await createJobs(2, 'orphaned')
    const orphanedHead = Number(await settled())
    expect(orphanedHead).toBe(forkBase + 3)
    await until('the orphaned changes', () => changes.events.some((c) => c.block.number === orphanedHead))
    const orphanedIds = [...new Set(changes.events.filter((c) => c.block.number > forkBase).map((c) => c.id))].sort(
      (a, b) => Number(a) - Number(b),
    )
    expect(orphanedIds).toContain(victim.id)
    expect(changes.events.find((c) => c.id === victim.id && c.block.number > forkBase)?.job?.status).toBe('CANCELLED')
    const before = changes.events.length

    await net.testClient.revert({ id: snapshot })
    // The canonical branch: different jobs, one block longer.
    await createJobs(4, 'canonical', CLIENTS[2])
    const head = Number(await settled())
    expect(head).toBe(forkBase + 4)
    await until('the reorg', () => reorgs.events.length > 0)
    const ancestor = await net.publicClient.getBlock({ blockNumber: BigInt(forkBase) })
    expect(reorgs.events).toEqual([
      {
        ancestor: forkBase,
        orphanedHead,
        newHead: {
          number: forkBase,
          hash: ancestor.hash,
          timestamp: Number(ancestor.timestamp),
          parentHash: ancestor.parentHash,
        },
      },
    ])
    const canonicalJobs = (await chainTransitions(BigInt(forkBase + 1), BigInt(head))).length
    await until(
      'the corrections and the canonical jobs',
      () => changes.events.length >= before + orphanedIds.length + canonicalJobs,
    )
    const after = changes.events.slice(before)
    const corrections = after.slice(0, orphanedIds.length)
    // The victim is open again; jobs created only on the orphaned branch do not exist at the ancestor.
    expect(
      corrections.map((c) => ({ id: c.id, status: c.job?.status ?? null, reorged: c.reorged, block: c.block.number })),
    ).toEqual(
      orphanedIds.map((id) => ({ id, status: id === victim.id ? 'OPEN' : null, reorged: true, block: forkBase })),
    )
    expect(corrections.find((c) => c.id === victim.id)?.previousStatus).toBe('CANCELLED')
    const canonical = after.slice(orphanedIds.length)
    const created = await net.publicClient.getContractEvents({
      address: net.addresses.jobMarket,
      abi: jobMarketAbi,
      eventName: 'JobCreated',
      fromBlock: BigInt(forkBase + 1),
      toBlock: BigInt(head),
    })
    expect(
      canonical.map((c) => ({ id: c.id, inputHash: c.job?.inputHash, block: c.block.number, reorged: c.reorged })),
    ).toEqual(
      created.map((l) => ({
        id: String((l.args as { jobId: bigint }).jobId),
        inputHash: (l.args as { inputHash: string }).inputHash,
        block: Number(l.blockNumber),
        reorged: false,
      })),
    )
  })

  it('delivers each statistics bucket when a block closes it, and reopens it when a reorg orphans that block', async () => {
    const HOUR = 3600n
    const client = connect()
    const fields = 'interval timestamp block { number } network { jobsCreated totalJobsCreated } reorged'
    const hourly = listen<Bucket>(
      client,
      `subscription { statsRolledUp(interval: hour) { ${fields} } }`,
      'statsRolledUp',
    )
    const all = listen<Bucket>(client, 'subscription { statsRolledUp { interval timestamp reorged } }', 'statsRolledUp')
    await barrier(client)
    await settled()
    const act = actions(net)
    const mineAt = async (timestamp: bigint, send: () => Promise<unknown>) => {
      await net.testClient.setNextBlockTimestamp({ timestamp })
      await send()
    }
    // Start a few minutes into an hour, so that the jobs below fall in one hour whatever the clock says.
    let now = await act.latestTimestamp()
    const hour = now - (now % HOUR) + HOUR
    await mineAt(hour + 60n, () => net.testClient.mine({ blocks: 1 }))
    now = hour + 60n
    for (let i = 0; i < 2; i++) await mineAt(++now, () => createJobs(1, `stats before ${i}`))
    await settled()
    const delivered = hourly.events.length
    const snapshot = await net.testClient.snapshot()
    const forkBase = Number(await net.publicClient.getBlockNumber())

    // The orphaned branch: a block past the hour's end closes it.
    await mineAt(hour + HOUR + 5n, () => createJobs(1, 'stats orphaned'))
    const closing = Number(await settled())
    await until('the closed hour', () => hourly.events.length > delivered)
    const jobsIn = async (start: bigint, end: bigint, toBlock: bigint) => {
      const created = await net.publicClient.getContractEvents({
        address: net.addresses.jobMarket,
        abi: jobMarketAbi,
        eventName: 'JobCreated',
        fromBlock: 0n,
        toBlock,
      })
      let inside = 0
      let before = 0
      for (const l of created) {
        const t = (await net.publicClient.getBlock({ blockNumber: l.blockNumber })).timestamp
        if (t < end) before++
        if (t >= start && t < end) inside++
      }
      return { jobsCreated: String(inside), totalJobsCreated: String(before) }
    }
    const micros = (t: bigint) => String(t * 1_000_000n)
    expect(hourly.events.slice(delivered)).toEqual([
      {
        interval: 'hour',
        timestamp: micros(hour),
        block: { number: closing },
        network: await jobsIn(hour, hour + HOUR, BigInt(closing)),
        reorged: false,
      },
    ])
    const query = await gw.query(
      `{ networkStats(interval: hour, where: { timestamp: "${micros(hour)}" }) { jobsCreated totalJobsCreated } }`,
    )
    expect(query.body.data?.networkStats).toEqual([hourly.events.at(-1)?.network])

    // The canonical branch: two more jobs within the hour, one block longer than the orphaned branch.
    await net.testClient.revert({ id: snapshot })
    for (let i = 0; i < 2; i++) await mineAt(++now, () => createJobs(1, `stats canonical ${i}`))
    await settled()
    await until('the reopened hour', () => hourly.events.length > delivered + 1)
    expect(hourly.events[delivered + 1]).toEqual({
      interval: 'hour',
      timestamp: micros(hour),
      block: { number: forkBase },
      network: null,
      reorged: true,
    })
    const reopened = await gw.query(`{ networkStats(interval: hour, where: { timestamp: "${micros(hour)}" }) { id } }`)
    expect(reopened.body.data?.networkStats).toEqual([])

    // The canonical chain closes the hour again, with its own jobs.
    await mineAt(hour + HOUR + 7n, () => net.testClient.mine({ blocks: 1 }))
    const closed = Number(await settled())
    await until('the hour closed again', () => hourly.events.length > delivered + 2)
    expect(hourly.events.slice(delivered + 2)).toEqual([
      {
        interval: 'hour',
        timestamp: micros(hour),
        block: { number: closed },
        network: await jobsIn(hour, hour + HOUR, BigInt(closed)),
        reorged: false,
      },
    ])
    // The two canonical jobs count; the orphaned branch's job, created after the hour, never did.
    expect(Number(hourly.events.at(-1)?.network?.jobsCreated)).toBe(
      Number(hourly.events[delivered]?.network?.jobsCreated) + 2,
    )
    // Unfiltered, the subscription sees the same hour events (and a day's, when the hour ended one).
    const hoursSeen = all.events.filter((b) => b.interval === 'hour').map((b) => [b.timestamp, b.reorged])
    expect(hoursSeen.slice(-3)).toEqual([
      [micros(hour), false],
      [micros(hour), true],
      [micros(hour), false],
    ])
    expect(hourly.errors).toEqual([])
  })

  it('refuses operations over the limits or with a bad filter with a clear error and no stack trace', async () => {
    const client = connect()
    // One at a time: operations sent together would all be active at once and meet the per-connection cap.
    const refused = async (query: string) => {
      const d = listen(client, query, 'jobChanged')
      await until(query, () => d.errors.length > 0)
      return d
    }
    const deep = await refused(
      'subscription { jobChanged { job { client { jobs { client { jobs { client { jobs { client { jobs { client { id } } } } } } } } } } } }',
    )
    const costly = await refused(
      'subscription { jobChanged { job { client { jobs(first: 1000) { model { jobs(first: 1000) { id } } } } } } }',
    )
    const badAddress = await refused('subscription { jobChanged(where: { client: "0x1234" }) { id } }')
    const badStatus = await refused('subscription { jobChanged(where: { status_in: [FINISHED] }) { id } }')
    const only = (d: Delivery<unknown>) => d.errors as { message: string; extensions?: { code?: string } }[]
    expect(only(deep)).toEqual([
      {
        message: 'Query is nested 12 levels deep; the limit is 10 (GRAPHQL_MAX_DEPTH)',
        locations: [{ line: 1, column: 1 }],
        extensions: { code: 'BAD_USER_INPUT' },
      },
    ])
    expect(only(costly)[0]?.message).toMatch(
      /^Query would read about \d+ rows; the limit is 100000 \(GRAPHQL_MAX_COST\)/,
    )
    expect(only(costly)[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    expect(only(badAddress)).toEqual([
      {
        message: 'where.client must be a 0x-prefixed 20-byte address, got "0x1234"',
        locations: [{ line: 1, column: 16 }],
        path: ['jobChanged'],
        extensions: { code: 'BAD_USER_INPUT' },
      },
    ])
    expect(only(badStatus)[0]?.message).toMatch(/Value "FINISHED" does not exist in "JobStatus" enum/)
    for (const d of [deep, costly, badAddress, badStatus]) {
      expect(JSON.stringify(d.errors)).not.toMatch(/stack|\.ts:\d+|\bat \w+ \(/)
      expect(d.events).toEqual([])
    }

    // The refused operations hold no slot: the cap counts what is running on this connection.
    const running = Array.from({ length: MAX_PER_CONNECTION }, () =>
      listen(client, 'subscription { newBlock { number } }', 'newBlock'),
    )
    const over = listen(client, 'subscription { newBlock { number } }', 'newBlock')
    await until('the refusal over the cap', () => over.errors.length > 0)
    expect(over.errors).toEqual([
      {
        message: `This connection has ${MAX_PER_CONNECTION} active operations, the limit (GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION); complete one first`,
        extensions: { code: 'BAD_USER_INPUT' },
      },
    ])
    await net.testClient.mine({ blocks: 1 })
    await until('the running subscriptions', () => running.every((d) => d.events.length > 0))
    expect(running.flatMap((d) => d.errors)).toEqual([])
  })

  it('answers a subscription sent over HTTP with where subscriptions are served', async () => {
    const res = await gw.query('subscription { newBlock { number } }')
    expect(res.status).toBe(400)
    expect(res.body.errors?.map((e) => e.message)).toEqual([
      'Subscriptions are served over WebSocket (graphql-ws protocol) on this path, not over HTTP',
    ])
  })
})
