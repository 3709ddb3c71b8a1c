import { ANVIL_KEYS } from '@computegraph/contracts/anvil'
import { type ComputeReceipt, receiptDomain, receiptToJson, signReceipt } from '@computegraph/contracts/receipts'
import { hashInferenceOutput, hashInferenceRequest } from '@computegraph/gpu-worker/canonical-bytes'
import type { InferMessage, ResultMessage } from '@computegraph/gpu-worker/protocol'
import type { Tensor } from '@computegraph/gpu-worker/tensor'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { checkInferenceResult } from './result-check'
import { InvalidResultError } from './router'

const worker = privateKeyToAccount(ANVIL_KEYS[1] as Hex)
const stranger = privateKeyToAccount(ANVIL_KEYS[7] as Hex)
const requester = privateKeyToAccount(ANVIL_KEYS[5] as Hex).address
const domain = receiptDomain({ chainId: 31337, jobMarket: '0x5FbDB2315678afecb367f032d93F642f64180aa3' })
const RUNTIME = `0x${'c'.repeat(64)}` as Hex
const MODEL = `0x${'a'.repeat(64)}` as Hex
const NOW = 1_800_000_000_000
const NOW_S = BigInt(NOW / 1000)

const task: InferMessage = {
  type: 'infer',
  requestId: 'r1',
  modelId: MODEL,
  input: { dtype: 'float32', shape: [2, 8], data: Float32Array.from({ length: 16 }, (_, i) => i / 10) },
  parameters: {},
  requester,
  jobId: '0',
  price: '6',
  deadlineMs: 1_000,
}
const output: Tensor = { dtype: 'float32', shape: [2, 1], data: Float32Array.of(0.25, 0.75) }

function honestReceipt(): ComputeReceipt {
  return {
    requestHash: hashInferenceRequest({ modelId: MODEL, input: task.input, parameters: {} }),
    outputHash: hashInferenceOutput({ output }),
    modelId: MODEL,
    runtimeId: RUNTIME,
    requester,
    worker: worker.address,
    jobId: 0n,
    units: 2n,
    price: 6n,
    issuedAt: NOW_S,
    expiresAt: NOW_S + 86_400n,
    nonce: 42n,
  }
}

/** A result as the worker would send it, its receipt signed by `signer` after `edit`. */
async function signed(
  edit: (r: ComputeReceipt) => ComputeReceipt = (r) => r,
  { signer = worker, signDomain = domain, out = output } = {},
): Promise<ResultMessage> {
  const receipt = edit(honestReceipt())
  return {
    type: 'result',
    requestId: 'r1',
    output: out,
    receipt: receiptToJson(receipt),
    signature: await signReceipt({ account: signer, domain: signDomain, receipt }),
    timings: { queuedMs: 0, runMs: 0, totalMs: 0 },
    batch: { rows: 2, requests: 1 },
  }
}

const check = (result: ResultMessage) =>
  checkInferenceResult({ domain, task, provider: worker.address, runtimeId: RUNTIME, result, now: NOW })

async function refusal(result: ResultMessage): Promise<string> {
  const error = await check(result).then(
    () => undefined,
    (e: Error) => e,
  )
  expect(error).toBeInstanceOf(InvalidResultError)
  return (error as Error).message
}

const other32 = `0x${'9'.repeat(64)}` as Hex

describe('checkInferenceResult', () => {
  it('accepts an honest result and returns its receipt', async () => {
    expect(await check(await signed())).toEqual(honestReceipt())
  })

  const inTransit: [keyof ComputeReceipt, string][] = [
    ['requestHash', other32],
    ['outputHash', other32],
    ['modelId', other32],
    ['runtimeId', other32],
    ['requester', stranger.address],
    ['worker', stranger.address],
    ['jobId', '7'],
    ['units', '3'],
    ['price', '7'],
    ['issuedAt', (NOW_S - 1n).toString()],
    ['expiresAt', (NOW_S + 86_401n).toString()],
    ['nonce', '43'],
  ]
  it.each(inTransit)('refuses a result whose receipt.%s was changed after signing', async (field, value) => {
    const result = await signed()
    result.receipt = { ...result.receipt, [field]: value }
    expect(await refusal(result)).toMatch(new RegExp(`^worker ${worker.address} returned an unacceptable result: `))
  })

  const lies: [string, (r: ComputeReceipt) => ComputeReceipt, RegExp][] = [
    ['another request', (r) => ({ ...r, requestHash: other32 }), /receipt\.requestHash 0x9+, request hashes to 0x/],
    ['another output', (r) => ({ ...r, outputHash: other32 }), /receipt\.outputHash 0x9+, output hashes to 0x/],
    ['another model', (r) => ({ ...r, modelId: other32 }), /receipt\.modelId 0x9+, asked 0xa+/],
    ['another requester', (r) => ({ ...r, requester: stranger.address }), /receipt\.requester 0x/],
    ['another job', (r) => ({ ...r, jobId: 9n }), /receipt\.jobId 9, asked 0/],
    ['more units', (r) => ({ ...r, units: 3n }), /receipt\.units 3 for 2 rows/],
    ['another price', (r) => ({ ...r, price: 60n }), /receipt\.price 60, agreed 6/],
    ['another runtime', (r) => ({ ...r, runtimeId: other32 }), /receipt\.runtimeId 0x9+, the worker advertised 0xc+/],
    ['an expiry in the past', (r) => ({ ...r, expiresAt: NOW_S }), new RegExp(`receipt expired at ${NOW_S}`)],
    [
      'an issue time after its expiry',
      (r) => ({ ...r, issuedAt: NOW_S + 90_000n }),
      /receipt\.issuedAt \d+ is after its expiresAt/,
    ],
  ]
  it.each(lies)('refuses a receipt the worker signed for %s', async (_, edit, message) => {
    expect(await refusal(await signed(edit))).toMatch(message)
  })

  it('refuses a receipt naming another worker than the connection’s provider', async () => {
    const result = await signed((r) => ({ ...r, worker: stranger.address }), { signer: stranger })
    expect(await refusal(result)).toMatch(new RegExp(`receipt\\.worker ${stranger.address}`))
  })

  it('refuses a receipt signed by another key', async () => {
    expect(await refusal(await signed(undefined, { signer: stranger }))).toMatch(
      new RegExp(`receipt signature: signed by ${stranger.address}, not by the worker ${worker.address}`),
    )
  })

  it('refuses a receipt signed for another chain or JobMarket', async () => {
    const elsewhere = receiptDomain({ chainId: 1, jobMarket: '0x5FbDB2315678afecb367f032d93F642f64180aa3' })
    expect(await refusal(await signed(undefined, { signDomain: elsewhere }))).toMatch(/receipt signature: signed by 0x/)
  })

  it('refuses a malformed signature and a malformed receipt', async () => {
    const result = await signed()
    expect(await refusal({ ...result, signature: '0x1234' })).toMatch(/receipt signature: malformed signature/)
    expect(await refusal({ ...result, receipt: { ...result.receipt, units: '-1' } })).toMatch(/receipt\.units/)
  })

  it('refuses an output with another number of rows than the input', async () => {
    const out: Tensor = { dtype: 'float32', shape: [1, 1], data: Float32Array.of(0.25) }
    expect(
      await refusal(await signed((r) => ({ ...r, outputHash: hashInferenceOutput({ output: out }) }), { out })),
    ).toMatch(/output has 1 rows for 2 input rows/)
  })
})
