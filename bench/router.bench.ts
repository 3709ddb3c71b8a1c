// The compute router's cost: what the gateway adds to a worker's round trip (p50, p99), throughput through the
// gateway with and without the worker's dynamic batching at 1, 16 and 64 concurrent clients beside onnxruntime called
// in-process and the worker called directly, and receipts signed and verified per second. One-row requests of the
// volatility MLP, and 256-row requests at 16 clients. anvil + a staked provider + the gateway as its own process
// (production settings, Postgres) + the real worker CLI; the direct path is a minimal gateway side in this process speaking the worker protocol.
// `npm run bench -- router` (BENCH_SECONDS per throughput cell, default 5; BENCH_LATENCY_REQUESTS, default 2000;
// BENCH_NODE_ARGS for the gateway's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it).
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ANVIL_KEYS } from '@computegraph/contracts/anvil'
import { writeDeployment } from '@computegraph/contracts/deploy'
import { startLocalNetwork } from '@computegraph/contracts/fixture'
import {
  type ComputeReceipt,
  receiptDomain,
  signReceipt,
  verifyReceiptSignature,
} from '@computegraph/contracts/receipts'
import { InferenceEngine } from '@computegraph/gpu-worker/inference-engine'
import { loadModelDirectory } from '@computegraph/gpu-worker/model-manifest'
import {
  createChallenge,
  encodeMessage,
  type InferMessage,
  parseWorkerMessage,
  type ResultMessage,
  verifyChallengeResponse,
} from '@computegraph/gpu-worker/protocol'
import { privateKeyToAccount } from 'viem/accounts'
import { WebSocketServer } from 'ws'
import { SHIPPED_MODELS_DIR } from '../apps/gateway/src/compute/model-catalog'
import {
  MIN_STAKE,
  stakeProviders,
  startWorkerProcess,
  type WorkerProcess,
} from '../apps/gateway/src/compute/testing/compute-harness'
import { type GatewayProcess, startGatewayProcess } from '../apps/gateway/src/compute/testing/gateway-process'
import { createScratchDatabase } from '../apps/gateway/src/db/database'
import { TEST_POSTGRES_URL } from '../apps/gateway/src/db/testing'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const LATENCY_REQUESTS = Number(process.env.BENCH_LATENCY_REQUESTS ?? 2_000)
const WARMUP = 200
// One-row requests at each concurrency, then large requests, where the per-request costs are shared by many rows.
const CELLS = [
  { rows: 1, clients: 1 },
  { rows: 1, clients: 16 },
  { rows: 1, clients: 64 },
  { rows: 256, clients: 16 },
]
const RECEIPTS = 2_000
const MODES = [
  {
    name: 'batching on',
    args: ['--max-batch', '64', '--max-wait-ms', '2'],
    engine: { maxBatchSize: 64, maxWaitMs: 2 },
  },
  { name: 'batching off', args: ['--max-batch', '1', '--max-wait-ms', '0'], engine: { maxBatchSize: 1, maxWaitMs: 0 } },
] as const

const ROW = [0.01, 0.03, -0.05, 0.8, 1.1, 0.7, 0.02, 55]
const models = await loadModelDirectory({ dir: SHIPPED_MODELS_DIR })
const MLP = models.find((m) => m.entry.name === 'volatility-mlp')?.entry.id as `0x${string}`
const tensorOf = (rows: number) => ({
  dtype: 'float32' as const,
  shape: [rows, 8],
  data: Float32Array.from({ length: rows * 8 }, (_, i) => ROW[i % 8] as number),
})
const input = tensorOf(1)

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN
}

/** Calls `one` from `clients` concurrent loops for SECONDS; requests per second. */
async function throughput(clients: number, one: () => Promise<unknown>) {
  let done = 0
  const until = performance.now() + SECONDS * 1000
  const started = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        await one()
        done++
      }
    }),
  )
  return done / ((performance.now() - started) / 1000)
}

/** Sequential round trips after a warm-up: p50 and p99 in ms. */
async function latency(one: () => Promise<unknown>) {
  for (let i = 0; i < WARMUP; i++) await one()
  const samples: number[] = []
  for (let i = 0; i < LATENCY_REQUESTS; i++) {
    const t0 = performance.now()
    await one()
    samples.push(performance.now() - t0)
  }
  samples.sort((a, b) => a - b)
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) }
}

/** The worker side of the protocol with nothing else: challenge, hello check, welcome, then tasks and results. */
async function directGateway() {
  const gatewayAccount = privateKeyToAccount(ANVIL_KEYS[9] as `0x${string}`)
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  const pending = new Map<string, (m: ResultMessage) => void>()
  let send: ((m: InferMessage) => void) | undefined
  let welcomed: () => void = () => {}
  server.on('connection', (ws) => {
    ws.on('close', () => {
      send = undefined
    })
    const challenge = createChallenge({
      gatewayAddress: gatewayAccount.address,
      chainId: 31337,
      jobMarket: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    })
    ws.on('message', (data) => {
      const message = parseWorkerMessage(data as Buffer)
      if (message.type === 'hello') {
        void verifyChallengeResponse({ challenge, hello: message }).then((check) => {
          if (!check.valid) throw new Error(check.reason)
          ws.send(encodeMessage({ type: 'welcome', workerId: 'direct', heartbeatMs: 600_000 }))
          send = (m) => ws.send(encodeMessage(m))
          welcomed()
        })
      } else if (message.type === 'result') {
        pending.get(message.requestId)?.(message)
        pending.delete(message.requestId)
      } else if (message.type === 'error') {
        throw new Error(`worker error: ${message.message}`)
      }
    })
    ws.send(JSON.stringify(challenge))
  })
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Resolves when the next worker to connect has been welcomed. */
    nextWorker: () =>
      new Promise<void>((resolve) => {
        welcomed = resolve
      }),
    infer: (tensor = input) =>
      new Promise<ResultMessage>((resolve) => {
        const requestId = randomUUID()
        pending.set(requestId, resolve)
        send?.({
          type: 'infer',
          requestId,
          modelId: MLP,
          input: tensor,
          parameters: {},
          requester: '0x0000000000000000000000000000000000000000',
          jobId: '0',
          price: '0',
          deadlineMs: 10_000,
        })
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function stopWorker(worker: WorkerProcess) {
  worker.kill('SIGKILL')
  await worker.exited
}

/** Waits until the gateway's only worker is the one just started (told apart by its batch size). */
async function waitForWorker(base: string, maxBatchSize: number) {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    const workers = (await (await fetch(`${base}/v1/workers`)).json()) as { maxBatchSize: number }[]
    if (workers.length === 1 && workers[0]?.maxBatchSize === maxBatchSize) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('the worker did not join the gateway within 60 s')
}

const bodies = new Map(
  CELLS.map(({ rows }) => [
    rows,
    JSON.stringify({ model: 'volatility-mlp', input: Array.from({ length: rows }, () => ROW) }),
  ]),
)
async function viaGateway(base: string, rows = 1) {
  const body = bodies.get(rows)
  const res = await fetch(`${base}/v1/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  if (res.status !== 200) throw new Error(`gateway answered ${res.status}: ${await res.text()}`)
  await res.json()
}

const net = await startLocalNetwork({ params: { minStake: MIN_STAKE } })
await stakeProviders(net, 1)
const dir = await mkdtemp(path.join(tmpdir(), 'cg-bench-router-'))
const scratch = await createScratchDatabase(TEST_POSTGRES_URL)
let gateway: GatewayProcess | undefined
const tableRows: string[] = []
const latencyRows: string[] = []
try {
  const deploymentFile = path.join(dir, 'deployment.json')
  await writeDeployment(deploymentFile, net.deployment)
  gateway = await startGatewayProcess({
    rpcUrl: net.anvil.rpcUrl,
    deploymentFile,
    databaseUrl: scratch.url,
    dataDir: path.join(dir, 'data'),
    nodeArgs: process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [],
    quiet: true,
    // Production settings except POLL_INTERVAL_MS (the harness's fast indexer poll) and spot checks off: with one
    // worker there is nobody to re-execute on, and the benchmark measures the request path.
    env: { COMPUTE_SPOT_CHECK_SHARE: '0' },
  })
  const base = gateway.baseUrl
  const direct = await directGateway()

  for (const mode of MODES) {
    const engine = await InferenceEngine.create({ device: 'cpu', models, concurrency: 1, ...mode.engine })
    const inProcess: number[] = []
    for (const { rows, clients } of CELLS) {
      const tensor = tensorOf(rows)
      inProcess.push(rows * (await throughput(clients, () => engine.infer({ modelId: MLP, input: tensor }))))
    }
    const lat = mode.name === 'batching off' ? await latency(() => engine.infer({ modelId: MLP, input })) : undefined
    await engine.close()

    const joined = direct.nextWorker()
    let worker = startWorkerProcess({
      gateway: direct.url,
      provider: 1,
      extraArgs: [...mode.args, '--log-level', 'error'],
    })
    await joined
    const directRps: number[] = []
    const directLat = mode.name === 'batching off' ? await latency(() => direct.infer()) : undefined
    for (const { rows, clients } of CELLS) {
      const tensor = tensorOf(rows)
      directRps.push(rows * (await throughput(clients, () => direct.infer(tensor))))
    }
    await stopWorker(worker)

    worker = startWorkerProcess({
      gateway: gateway.workersUrl,
      provider: 1,
      extraArgs: [...mode.args, '--log-level', 'error'],
    })
    await waitForWorker(base, mode.engine.maxBatchSize)
    const gatewayLat = mode.name === 'batching off' ? await latency(() => viaGateway(base)) : undefined
    const gatewayRps: number[] = []
    for (const { rows, clients } of CELLS)
      gatewayRps.push(rows * (await throughput(clients, () => viaGateway(base, rows))))
    await stopWorker(worker)

    console.error(
      `${mode.name}: in-process ${inProcess.map((r) => r.toFixed(0))}, direct ${directRps.map((r) => r.toFixed(0))}, gateway ${gatewayRps.map((r) => r.toFixed(0))} rows/s`,
    )
    CELLS.forEach(({ rows, clients }, i) => {
      const g = gatewayRps[i] as number
      const p = inProcess[i] as number
      tableRows.push(
        `| ${mode.name} | ${rows} | ${clients} | ${p.toFixed(0)} | ${(directRps[i] as number).toFixed(0)} | ${g.toFixed(0)} | ${((100 * g) / p).toFixed(1)}% |`,
      )
    })
    if (lat && directLat && gatewayLat) {
      latencyRows.push(`| onnxruntime in-process | ${lat.p50.toFixed(3)} | ${lat.p99.toFixed(3)} | |`)
      latencyRows.push(
        `| worker called directly (WebSocket) | ${directLat.p50.toFixed(3)} | ${directLat.p99.toFixed(3)} | |`,
      )
      latencyRows.push(
        `| through the gateway (POST /v1/infer) | ${gatewayLat.p50.toFixed(3)} | ${gatewayLat.p99.toFixed(3)} | |`,
      )
      latencyRows.push(
        `| **gateway-added** | **${(gatewayLat.p50 - directLat.p50).toFixed(3)}** | **${(gatewayLat.p99 - directLat.p99).toFixed(3)}** | ≤ 1 ms p50, ≤ 5 ms p99 |`,
      )
    }
  }
  await direct.close()

  const account = privateKeyToAccount(ANVIL_KEYS[1] as `0x${string}`)
  const domain = receiptDomain({ chainId: net.deployment.chainId, jobMarket: net.addresses.jobMarket })
  const receipt = (nonce: bigint): ComputeReceipt => ({
    requestHash: `0x${'1'.repeat(64)}`,
    outputHash: `0x${'2'.repeat(64)}`,
    modelId: MLP,
    runtimeId: `0x${'3'.repeat(64)}`,
    requester: '0x0000000000000000000000000000000000000000',
    worker: account.address,
    jobId: 0n,
    units: 1n,
    price: 0n,
    issuedAt: 1_800_000_000n,
    expiresAt: 1_800_086_400n,
    nonce,
  })
  const signed: { receipt: ComputeReceipt; signature: `0x${string}` }[] = []
  let t0 = performance.now()
  for (let i = 0; i < RECEIPTS; i++) {
    const r = receipt(BigInt(i))
    signed.push({ receipt: r, signature: await signReceipt({ account, domain, receipt: r }) })
  }
  const signRate = RECEIPTS / ((performance.now() - t0) / 1000)
  t0 = performance.now()
  for (const s of signed) {
    const check = await verifyReceiptSignature({ domain, ...s })
    if (!check.valid) throw new Error(check.reason)
  }
  const verifyRate = RECEIPTS / ((performance.now() - t0) / 1000)

  console.log(
    `volatility-mlp; ${SECONDS} s per throughput cell, ${LATENCY_REQUESTS} sequential requests for latency; gateway with Postgres, spot checks off\n`,
  )
  console.log('Latency, one client, worker without batching (--max-batch 1):\n')
  console.log('| path | p50 ms | p99 ms | DESIGN target |')
  console.log('| --- | ---: | ---: | --- |')
  for (const row of latencyRows) console.log(row)
  console.log('\nThroughput, rows per second (requests per second × rows per request):\n')
  console.log(
    '| worker | rows/request | clients | onnxruntime in-process | worker direct | through gateway | gateway / in-process |',
  )
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const row of tableRows) console.log(row)
  console.log(
    `\nReceipts, one core: ${signRate.toFixed(0)} signed/s, ${verifyRate.toFixed(0)} verified/s (${RECEIPTS} each)`,
  )
} finally {
  await gateway?.kill('SIGTERM')
  await scratch.drop()
  await net.stop()
  await rm(dir, { recursive: true, force: true })
}
