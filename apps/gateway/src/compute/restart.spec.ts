import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { writeDeployment } from '@computegraph/contracts/deploy'
import { type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { receiptDomain, receiptFromJson, verifyReceiptSignature } from '@computegraph/contracts/receipts'
import { InferenceEngine } from '@computegraph/gpu-worker/inference-engine'
import { loadModelDirectory } from '@computegraph/gpu-worker/model-manifest'
import { sql } from 'drizzle-orm'
import type { Account } from 'viem'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createScratchDatabase, type Database, openDatabase } from '../db/database'
import { TEST_POSTGRES_URL } from '../db/testing'
import { SHIPPED_MODELS_DIR } from './model-catalog'
import { MIN_STAKE, stakeProviders, startWorkerProcess, type WorkerProcess } from './testing/compute-harness'
import { type GatewayProcess, startGatewayProcess } from './testing/gateway-process'
import { SHIPPED_MODELS } from './testing/raw-worker'

const N = 6
const MLP = SHIPPED_MODELS.find((m) => m.name === 'volatility-mlp')?.id as string
const rows = Array.from({ length: N }, (_, i) => [[0.01 * i, 0.02, -0.03, 0.9, 1.0, 0.8, 0.01, 45 + i]])

let net: LocalNetwork
let provider: Account
let dir: string
let deploymentFile: string
let engine: InferenceEngine
let scratch: Awaited<ReturnType<typeof createScratchDatabase>>
let database: Database
const gateways: GatewayProcess[] = []
const workers: WorkerProcess[] = []

beforeAll(async () => {
  net = await startLocalNetwork({ params: { minStake: MIN_STAKE } })
  ;[provider] = (await stakeProviders(net, 1)) as [Account]
  dir = await mkdtemp(path.join(tmpdir(), 'cg-restart-'))
  deploymentFile = path.join(dir, 'deployment.json')
  await writeDeployment(deploymentFile, net.deployment)
  engine = await InferenceEngine.create({
    device: 'cpu',
    models: await loadModelDirectory({ dir: SHIPPED_MODELS_DIR }),
  })
}, 120_000)

afterAll(async () => {
  await engine?.close()
  await net?.stop()
  await rm(dir, { recursive: true, force: true })
})

afterEach(async () => {
  for (const w of workers.splice(0)) {
    w.kill()
    await w.exited
  }
  for (const g of gateways.splice(0)) await g.kill()
  await database?.close()
  await scratch?.drop()
})

/** A gateway process on this test's database. */
async function gateway(env: Record<string, string> = {}) {
  const g = await startGatewayProcess({
    rpcUrl: net.anvil.rpcUrl,
    deploymentFile,
    databaseUrl: scratch.url,
    dataDir: path.join(dir, 'data'),
    env,
  })
  gateways.push(g)
  return g
}

async function freshDatabase() {
  scratch = await createScratchDatabase(TEST_POSTGRES_URL)
  database = await openDatabase({ databaseUrl: scratch.url, dataDir: path.join(dir, 'db') })
}

/** Accepts N requests without waiting for them; no worker is connected, so they stay queued. */
async function submit(g: GatewayProcess): Promise<string[]> {
  const ids: string[] = []
  for (const input of rows) {
    const res = await fetch(`${g.baseUrl}/v1/infer?wait=false`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'volatility-mlp', input }),
    })
    const body = (await res.json()) as { requestId: string; status: string }
    expect(res.status).toBe(202)
    expect(body.status).toBe('queued')
    ids.push(body.requestId)
  }
  return ids
}

const leased = async () =>
  (
    await database.query<{ n: number }>(
      sql`select count(*)::int as n from compute_request where lease_owner is not null and status in ('queued', 'running')`,
    )
  )[0]?.n

/** Polls GET /v1/requests/:id until every request is completed; returns the outcomes. */
async function outcomes(g: GatewayProcess, ids: string[]) {
  const deadline = Date.now() + 60_000
  for (;;) {
    const all = await Promise.all(
      ids.map(async (id) => (await (await fetch(`${g.baseUrl}/v1/requests/${id}`)).json()) as Record<string, unknown>),
    )
    if (all.every((o) => o.status === 'completed')) return all
    if (Date.now() > deadline) {
      throw new Error(`requests not completed: ${JSON.stringify(all.map((o) => o.status))}\n${g.output().slice(-3000)}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Every request completed once, with the output of the model and a valid receipt from the provider. */
async function expectAllComputedOnce(g: GatewayProcess, ids: string[]) {
  const done = await outcomes(g, ids)
  const domain = receiptDomain({ chainId: net.deployment.chainId, jobMarket: net.addresses.jobMarket })
  for (const [i, outcome] of done.entries()) {
    expect(outcome.requestId).toBe(ids[i])
    const want = await engine.infer({
      modelId: MLP,
      input: { dtype: 'float32', shape: [1, 8], data: Float32Array.from(rows[i]?.flat() ?? []) },
    })
    expect(Float32Array.from((outcome.output as { data: number[] }).data)).toEqual(want.output.data)
    const bundle = outcome.receipt as { receipt: unknown; signature: `0x${string}` }
    const receipt = receiptFromJson(bundle.receipt)
    expect(await verifyReceiptSignature({ domain, receipt, signature: bundle.signature })).toEqual({
      valid: true,
      signer: provider.address,
    })
  }
  // Nothing ran before the restart, so each request ran exactly once on the worker: no duplicate work.
  const view = (await (await fetch(`${g.baseUrl}/v1/workers`)).json()) as { completed: number; failed: number }[]
  expect(view.map((w) => [w.completed, w.failed])).toEqual([[N, 0]])
  const stored = await database.query<{ attempts: number; worker: string }>(
    sql`select attempts, worker from compute_request order by created_at`,
  )
  expect(stored).toEqual(ids.map(() => ({ attempts: 1, worker: provider.address.toLowerCase() })))
}

// Gateway processes start (seconds each), die and are replaced; on a loaded 2-core machine that alone can pass the
// default 60 s, so these get a larger time budget (no assertion depends on it).
const PROCESS_TEST_TIMEOUT_MS = 240_000

describe('a gateway restarted with queued requests', () => {
  it(
    'gives its leases back when stopped, and the next gateway completes every request',
    async () => {
      await freshDatabase()
      const first = await gateway()
      const ids = await submit(first)
      expect(await leased()).toBe(N)
      first.proc.kill('SIGTERM')
      expect(await first.exited).toBe(0)
      expect(await leased()).toBe(0)
      // The default 15 s lease: the second gateway starts these at once only because the first gave them back.
      const second = await gateway()
      workers.push(startWorkerProcess({ gateway: second.workersUrl, provider: 1 }))
      await expectAllComputedOnce(second, ids)
    },
    PROCESS_TEST_TIMEOUT_MS,
  )

  it(
    'resumes the requests of a gateway that died holding them once their leases lapse',
    async () => {
      await freshDatabase()
      const env = { COMPUTE_LEASE_MS: '1000' }
      const first = await gateway(env)
      const ids = await submit(first)
      await first.kill('SIGKILL')
      expect(await leased()).toBe(N)
      const second = await gateway(env)
      workers.push(startWorkerProcess({ gateway: second.workersUrl, provider: 1 }))
      await expectAllComputedOnce(second, ids)
      expect(second.output()).toMatch(/resuming request/)
    },
    PROCESS_TEST_TIMEOUT_MS,
  )
})
