import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { receiptDomain, receiptFromJson, verifyReceiptSignature } from '@computegraph/contracts/receipts'
import { privateKeyToAccount } from 'viem/accounts'
import { afterEach, describe, expect, it } from 'vitest'
import { loadModelDirectory } from './model-manifest'
import type { ResultMessage, WorkerMessage } from './protocol'
import { startTestGateway, type TestConnection, type TestGateway } from './testing/test-gateway'

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))
const KEY = '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6'
const provider = privateKeyToAccount(KEY)

let child: ChildProcess | undefined
let gateway: TestGateway | undefined
afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL')
  child = undefined
  await gateway?.close()
  gateway = undefined
})

function startWorkerProcess(args: string[], env: Record<string, string> = {}) {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, WORKER_PRIVATE_KEY: KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  proc.stdout?.on('data', (d) => {
    output += d
  })
  proc.stderr?.on('data', (d) => {
    output += d
  })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  return { proc, exited, output: () => output }
}

async function inferOn(connection: TestConnection, requestId: string, modelId: `0x${string}`): Promise<ResultMessage> {
  connection.send({
    type: 'infer',
    requestId,
    modelId,
    input: { dtype: 'float32', shape: [1, 8], data: Float32Array.of(0.1, 0.3, -0.5, 0.8, 1.1, 0.7, 0.2, 0.55) },
    parameters: {},
    requester: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    jobId: '0',
    price: '5',
    deadlineMs: 10_000,
  })
  return connection.waitFor(
    (m: WorkerMessage): m is ResultMessage => m.type === 'result' && m.requestId === requestId,
    20_000,
  )
}

describe('the worker process', () => {
  it('connects, handshakes, serves, reconnects after the connection drops, and exits cleanly on SIGTERM', async () => {
    gateway = await startTestGateway()
    const [model] = await loadModelDirectory({ dir: fileURLToPath(new URL('../models', import.meta.url)) })
    const worker = startWorkerProcess([
      '--gateway',
      gateway.url,
      '--max-batch',
      '4',
      '--price',
      '1',
      '--reconnect-min-ms',
      '100',
      '--reconnect-max-ms',
      '400',
    ])
    child = worker.proc

    const first = await gateway.connection(0, 30_000)
    expect(await first.check, worker.output()).toEqual({ valid: true, provider: provider.address })
    expect((await first.hello).pricePerUnit).toBe('1')
    const result = await inferOn(first, 'before-drop', model?.entry.id as `0x${string}`)
    const domain = receiptDomain({ chainId: gateway.chainId, jobMarket: gateway.jobMarket })
    const receipt = receiptFromJson(result.receipt)
    expect((await verifyReceiptSignature({ domain, receipt, signature: result.signature })).valid).toBe(true)
    expect(receipt.worker).toBe(provider.address)

    first.ws.terminate()
    const second = await gateway.connection(1, 20_000)
    expect((await second.check).valid).toBe(true)
    const again = await inferOn(second, 'after-drop', model?.entry.id as `0x${string}`)
    expect(again.output).toEqual(result.output)
    expect(BigInt(again.receipt.nonce)).not.toBe(receipt.nonce)

    const beforeStop = worker.output().length
    worker.proc.kill('SIGTERM')
    expect(await second.closed).toBe(1001)
    expect(await worker.exited, worker.output()).toBe(0)
    expect(worker.output()).toContain('stopped')
    // A stop asked for is not a fault: nothing from it at warning level.
    expect(worker.output().slice(beforeStop)).not.toMatch(/\bWARN\b|\bERROR\b/)
  })

  it("drains the task in flight when Ctrl-C's SIGINT is followed by its supervisor's SIGTERM", async () => {
    gateway = await startTestGateway()
    const [model] = await loadModelDirectory({ dir: fileURLToPath(new URL('../models', import.meta.url)) })
    // A long batch wait keeps the task in the worker while the signals arrive.
    const worker = startWorkerProcess(['--gateway', gateway.url, '--max-batch', '64', '--max-wait-ms', '3000'])
    child = worker.proc
    const connection = await gateway.connection(0, 30_000)
    expect((await connection.check).valid, worker.output()).toBe(true)
    const result = inferOn(connection, 'in-flight', model?.entry.id as `0x${string}`)
    // The worker handles frames in order: its pong says it has taken the task.
    await new Promise<void>((resolve) => {
      connection.ws.once('pong', () => resolve())
      connection.ws.ping()
    })

    worker.proc.kill('SIGINT')
    worker.proc.kill('SIGTERM')
    expect((await result).requestId).toBe('in-flight')
    expect(await worker.exited, worker.output()).toBe(0)
    expect(worker.output()).not.toContain('second signal')
  })

  it('exits with status 2 and names the option when the configuration is invalid', async () => {
    const worker = startWorkerProcess(['--gateway', 'http://example.com'])
    child = worker.proc
    expect(await worker.exited).toBe(2)
    expect(worker.output()).toContain('Invalid --gateway="http://example.com": expected a ws:// or wss:// URL')
  })
})
