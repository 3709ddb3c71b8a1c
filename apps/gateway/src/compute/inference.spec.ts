import { fileURLToPath } from 'node:url'
import { receiptDomain, receiptFromJson, verifyReceiptSignature } from '@computegraph/contracts/receipts'
import { InferenceEngine } from '@computegraph/gpu-worker/inference-engine'
import { loadModelDirectory } from '@computegraph/gpu-worker/model-manifest'
import { tensorFromWire } from '@computegraph/gpu-worker/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ComputeNetwork, startComputeNetwork } from './testing/compute-harness'

const MODELS_DIR = fileURLToPath(new URL('../../../../gpu-worker/models', import.meta.url))
const ROWS = [
  [0.01, 0.03, -0.05, 0.8, 1.1, 0.7, 0.02, 55],
  [-0.02, -0.04, 0.06, 1.2, 0.9, 1.3, -0.01, 42],
  [0.0, 0.01, 0.02, 0.5, 0.6, 0.8, 0.0, 50],
]

let cn: ComputeNetwork
let direct: InferenceEngine

beforeAll(async () => {
  cn = await startComputeNetwork({ providers: 3 })
  cn.startWorker({ provider: 1, extraArgs: ['--price', '2'] })
  cn.startWorker({ provider: 2, extraArgs: ['--price', '3'] })
  direct = await InferenceEngine.create({ device: 'cpu', models: await loadModelDirectory({ dir: MODELS_DIR }) })
  await cn.waitForWorkers(2)
}, 120_000)

afterAll(async () => {
  await direct?.close()
  await cn?.close()
})

describe('inference through the gateway', () => {
  it('returns what running the model directly returns, with a receipt signed by the staked worker', async () => {
    for (const name of ['price-direction-logistic', 'volatility-mlp']) {
      const res = await cn.post('/v1/infer', { model: name, input: ROWS, requester: cn.net.accounts[5]?.address })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      const model = direct.listModels().find((m) => m.name === name)
      const expected = await direct.infer({
        modelId: model?.id as string,
        input: { dtype: 'float32', shape: [3, 8], data: Float32Array.from(ROWS.flat()) },
      })
      const output = res.body.output as { shape: number[]; data: number[] }
      expect(output.shape).toEqual(expected.output.shape)
      expect(Float32Array.from(output.data)).toEqual(expected.output.data)
      const bundle = res.body.receipt as { receipt: unknown; signature: `0x${string}`; output: unknown }
      expect(tensorFromWire(bundle.output).data).toEqual(expected.output.data)
      const receipt = receiptFromJson(bundle.receipt)
      const domain = receiptDomain({ chainId: cn.net.deployment.chainId, jobMarket: cn.net.addresses.jobMarket })
      expect(await verifyReceiptSignature({ domain, receipt, signature: bundle.signature })).toMatchObject({
        valid: true,
      })
      expect(cn.providers.slice(0, 2).map((p) => p.address)).toContain(receipt.worker)
      expect(receipt.requester).toBe(cn.net.accounts[5]?.address)
      expect(receipt.units).toBe(3n)
    }
  })

  it('hands out receipt bundles that the verifyReceipt query finds valid on every check, and refuses when tampered', async () => {
    const res = await cn.post('/v1/infer', { model: 'price-direction-logistic', input: ROWS })
    expect(res.status).toBe(200)
    const query = `query ($bundle: String!) { verifyReceipt(bundle: $bundle) { valid checks { name status reason } } }`
    const bundle = res.body.receipt as { output: { dataB64: string } }
    const { body } = await cn.gateway.query<{
      verifyReceipt: { valid: boolean; checks: { name: string; status: string; reason: string }[] }
    }>(query, { bundle: JSON.stringify(bundle) })
    expect(body.errors).toBeUndefined()
    expect(body.data?.verifyReceipt.valid, JSON.stringify(body.data)).toBe(true)
    const statuses = Object.fromEntries(body.data?.verifyReceipt.checks.map((c) => [c.name, c.status]) ?? [])
    for (const name of ['requestHash', 'outputHash', 'signature', 'domain', 'expiry', 'replay', 'stake']) {
      expect(statuses[name], name).toBe('PASS')
    }
    const other = Buffer.from(Float32Array.of(0.5, 0.5, 0.5).buffer).toString('base64')
    const tampered = { ...bundle, output: { ...bundle.output, dataB64: other } }
    const refused = await cn.gateway.query<{
      verifyReceipt: { valid: boolean; checks: { name: string; status: string }[] }
    }>(query, { bundle: JSON.stringify(tampered) })
    expect(refused.body.data?.verifyReceipt.valid).toBe(false)
    expect(refused.body.data?.verifyReceipt.checks.find((c) => c.name === 'outputHash')?.status).toBe('FAIL')
  })

  it('lists the live workers with their device, models and stake, over HTTP and GraphQL', async () => {
    const { body } = await cn.gateway.query<{
      workers: { provider: string; stake: string; models: { name: string }[]; device: { kind: string } }[]
    }>('{ workers { provider stake device { kind name } models { name } latencyMs outstanding } }')
    const workers = body.data?.workers ?? []
    expect(workers.map((w) => w.provider).sort()).toEqual(
      cn.providers
        .slice(0, 2)
        .map((p) => p.address.toLowerCase())
        .sort(),
    )
    for (const w of workers) {
      expect(w.stake).toBe((2_000n * 10n ** 18n).toString())
      expect(w.models.map((m) => m.name).sort()).toEqual(['price-direction-logistic', 'volatility-mlp'])
      expect(['cpu', 'cuda']).toContain(w.device.kind)
    }
  })

  it('runs the infer mutation and returns the same output as POST /v1/infer', async () => {
    const rest = await cn.post('/v1/infer', { model: 'volatility-mlp', input: ROWS })
    const { body } = await cn.gateway.query<{ infer: { status: string; output: number[][]; receipt: string } }>(
      'mutation($rows: [[Float!]!]) { infer(input: { model: "volatility-mlp", input: $rows }) { status output receipt receiptDigest worker } }',
      { rows: ROWS },
    )
    expect(body.errors).toBeUndefined()
    expect(body.data?.infer.status).toBe('completed')
    expect(body.data?.infer.output.flat()).toEqual((rest.body.output as { data: number[] }).data)
    expect(JSON.parse(body.data?.infer.receipt as string).receipt.outputHash).toBe(
      (rest.body.receipt as { receipt: { outputHash: string } }).receipt.outputHash,
    )
  })

  it('refuses bad requests with errors that say what was wrong', async () => {
    const cases: [unknown, number, string, RegExp][] = [
      [
        { model: 'no-such-model', input: ROWS },
        404,
        'UNKNOWN_MODEL',
        /unknown model "no-such-model"; known models: .*price-direction-logistic/,
      ],
      [
        { model: 'volatility-mlp', input: [[1, 2, 3]] },
        400,
        'BAD_INPUT',
        /takes 8 features per row \(return_1, .*\), got 3/,
      ],
      [
        { model: 'volatility-mlp', input: [ROWS[0], [1, 2]] },
        400,
        'BAD_INPUT',
        /input\[1\] has 2 values, input\[0\] has 8/,
      ],
      [
        { model: 'volatility-mlp', input: [[1, 2, 3, 4, 5, 6, 7, 'NaN']] },
        400,
        'BAD_INPUT',
        /input\[0\]\[7\] must be a finite number, got "NaN"/,
      ],
      [
        { model: 'volatility-mlp', input: [[1, 2, 3, 4, 5, 6, null, 8]] },
        400,
        'BAD_INPUT',
        /input\[0\]\[6\] must be a finite number, got null/,
      ],
      [
        {
          model: 'volatility-mlp',
          tensor: {
            dtype: 'float32',
            shape: [1, 8],
            dataB64: Buffer.from(Float32Array.of(1, 2, 3, Number.NaN, 5, 6, 7, 8).buffer).toString('base64'),
          },
        },
        400,
        'BAD_INPUT',
        /tensor holds NaN at row 0, column 3/,
      ],
      [{ model: 'volatility-mlp', input: [] }, 400, 'BAD_INPUT', /non-empty array of rows/],
      [
        { model: 'volatility-mlp', input: ROWS, maxPricePerUnit: '1' },
        400,
        'PRICE_TOO_LOW',
        /asks more than 1 per unit; the lowest asks 2/,
      ],
      [
        { model: 'volatility-mlp', input: ROWS, requester: '0x123' },
        400,
        'BAD_INPUT',
        /requester must be a 0x-prefixed 20-byte address/,
      ],
    ]
    for (const [body, status, reason, message] of cases) {
      const res = await cn.post('/v1/infer', body)
      expect(res.status, JSON.stringify(body)).toBe(status)
      const error = res.body.error as { reason: string; message: string }
      expect(error.reason).toBe(reason)
      expect(error.message).toMatch(message)
      expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.ts:\d+/)
    }
    const big = await cn.post(
      '/v1/infer',
      JSON.stringify({ model: 'volatility-mlp', input: ROWS, pad: 'x'.repeat(1_100_000) }),
    )
    expect(big.status).toBe(413)
    expect(JSON.stringify(big.body)).toMatch(/over the 1048576-byte limit \(COMPUTE_MAX_BODY_BYTES\)/)
    const malformed = await cn.post('/v1/infer', '{"model": ')
    expect(malformed.status).toBe(400)
    expect(JSON.stringify(malformed.body)).toMatch(/not valid JSON/)
    const gql = await cn.gateway.query(
      'mutation { infer(input: { model: "volatility-mlp", input: [[1, 2]] }) { status } }',
    )
    expect(gql.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'BAD_INPUT' })
    expect(gql.body.errors?.[0]?.message).toMatch(/takes 8 features per row/)
  })

  it('returns the first outcome again for a repeated request id instead of computing twice', async () => {
    const first = await cn.post('/v1/infer', { model: 'volatility-mlp', input: ROWS, requestId: 'bot-7-req-1' })
    const again = await cn.post('/v1/infer', { model: 'volatility-mlp', input: ROWS, requestId: 'bot-7-req-1' })
    expect(again.status).toBe(200)
    expect(again.body).toEqual(first.body)
  })
})
