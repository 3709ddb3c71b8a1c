import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type ModelEntry, parseManifest } from '@computegraph/gpu-worker/model-manifest'
import { zeroAddress } from 'viem'
import { describe, expect, it } from 'vitest'
import { InvalidComputeInputError } from './compute.errors'
import { type InferRequest, MAX_ROWS, parseInferRequest } from './infer-input'

const manifest = parseManifest(
  JSON.parse(
    readFileSync(fileURLToPath(new URL('../../../../gpu-worker/models/manifest.json', import.meta.url)), 'utf8'),
  ),
)
const model = manifest.models.find((m) => m.name === 'volatility-mlp') as ModelEntry
const ROW = [0.01, 0.03, -0.05, 0.8, 1.1, 0.7, 0.02, 55]

const parse = (request: Partial<InferRequest>) =>
  parseInferRequest({ request: { model: model.name, ...request }, model })
const wire = (shape: number[], values: number[]) => ({
  dtype: 'float32',
  shape,
  dataB64: Buffer.from(Float32Array.from(values).buffer).toString('base64'),
})

/** The message of the InvalidComputeInputError that `request` is refused with. */
function refusal(request: Partial<InferRequest>): string {
  try {
    parse(request)
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidComputeInputError)
    return (error as Error).message
  }
  throw new Error(`accepted ${JSON.stringify(request)}`)
}

describe('parseInferRequest', () => {
  it('turns rows of numbers into a float32 tensor of shape [rows, features]', () => {
    const parsed = parse({ input: [ROW, ROW.map((v) => v * 2)] })
    expect(parsed.tensor.shape).toEqual([2, 8])
    expect(parsed.tensor.data).toEqual(Float32Array.from([...ROW, ...ROW.map((v) => v * 2)]))
    expect(parsed).toMatchObject({ parameters: {}, requester: zeroAddress })
    expect(parsed.maxPricePerUnit).toBeUndefined()
    expect(parsed.requestId).toBeUndefined()
  })

  it('takes exact float32 values as a wire tensor', () => {
    const parsed = parse({ tensor: wire([1, 8], ROW) })
    expect(parsed.tensor.data).toEqual(Float32Array.from(ROW))
  })

  it('refuses input and tensor given together', () => {
    expect(refusal({ input: [ROW], tensor: wire([1, 8], ROW) })).toBe('give either input or tensor, not both')
  })

  it('names the model, the expected feature count and the columns when a row is too short', () => {
    expect(refusal({ input: [[1, 2, 3]] })).toBe(
      'model volatility-mlp takes 8 features per row (return_1, return_5, return_20, volatility_5, volatility_20, volatility_ratio, ma_gap_20, rsi_14), got 3',
    )
  })

  it('names the expected shape when a tensor has the wrong rank', () => {
    expect(refusal({ tensor: wire([8], ROW) })).toBe('model volatility-mlp takes a tensor of shape [batch, 8], got [8]')
  })

  it('refuses rows of different lengths, naming the row', () => {
    expect(refusal({ input: [ROW, ROW.slice(0, 7)] })).toBe(
      'input[1] has 7 values, input[0] has 8: rows must be equally long',
    )
  })

  it('refuses a row that is not an array', () => {
    expect(refusal({ input: [ROW, 5] })).toBe('input[1] must be an array of numbers')
  })

  it('refuses non-finite and non-numeric values, naming the cell', () => {
    expect(refusal({ input: [[...ROW.slice(0, 7), Number.POSITIVE_INFINITY]] })).toMatch(
      /^input\[0\]\[7\] must be a finite number, got/,
    )
    expect(refusal({ input: [[...ROW.slice(0, 2), '0.5', ...ROW.slice(3)]] })).toBe(
      'input[0][2] must be a finite number, got "0.5"',
    )
  })

  it('refuses NaN and infinities in a wire tensor, naming row and column', () => {
    const values = [...ROW, ...ROW]
    values[13] = Number.NEGATIVE_INFINITY
    expect(refusal({ tensor: wire([2, 8], values) })).toBe(
      'tensor holds -Infinity at row 1, column 5: inputs must be finite',
    )
  })

  it('refuses a wire tensor whose bytes do not fill its shape', () => {
    expect(refusal({ tensor: wire([2, 8], ROW) })).toMatch(
      /tensor\.dataB64 holds 32 bytes but float32 shape \[2, 8\] needs 64/,
    )
  })

  it('refuses empty input and zero-row tensors', () => {
    expect(refusal({ input: [] })).toBe('input must be a non-empty array of rows, each an array of numbers')
    expect(refusal({})).toBe('input must be a non-empty array of rows, each an array of numbers')
    expect(refusal({ tensor: wire([0, 8], []) })).toBe('input has no rows')
  })

  it(`refuses more than ${MAX_ROWS} rows`, () => {
    const rows = Array.from({ length: MAX_ROWS + 1 }, () => ROW)
    expect(refusal({ input: rows })).toBe(`input has ${MAX_ROWS + 1} rows, more than the limit of ${MAX_ROWS}`)
    expect(parse({ input: rows.slice(1) }).tensor.shape).toEqual([MAX_ROWS, 8])
  })

  it('keeps string parameters and refuses others, naming the key', () => {
    expect(parse({ input: [ROW], parameters: { 'top.k': '3' } }).parameters).toEqual({ 'top.k': '3' })
    expect(refusal({ input: [ROW], parameters: { k: 3 } })).toBe('parameters.k must be a string under a simple key')
    expect(refusal({ input: [ROW], parameters: { 'a b': 'x' } })).toBe(
      'parameters.a b must be a string under a simple key',
    )
    expect(refusal({ input: [ROW], parameters: ['x'] })).toBe('parameters must be an object of string values')
  })

  it('refuses a parameter named __proto__ instead of dropping it', () => {
    const parameters = JSON.parse('{"__proto__": "x", "top.k": "3"}')
    expect(refusal({ input: [ROW], parameters })).toBe(
      'parameters.__proto__: __proto__ is a reserved name; use another key',
    )
  })

  it('checksums the requester and refuses what is not an address', () => {
    const lower = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8'
    expect(parse({ input: [ROW], requester: lower }).requester).toBe('0x70997970C51812dc3A010C7d01b50e0d17dc79C8')
    expect(refusal({ input: [ROW], requester: '0x1234' })).toBe(
      'requester must be a 0x-prefixed 20-byte address, got "0x1234"',
    )
  })

  it('reads the price cap as a decimal string of base units, beyond 2^53', () => {
    expect(parse({ input: [ROW], maxPricePerUnit: '123456789012345678901234567890' }).maxPricePerUnit).toBe(
      123456789012345678901234567890n,
    )
    for (const bad of [5, '-1', '01', '1.5', '0x10']) {
      expect(refusal({ input: [ROW], maxPricePerUnit: bad })).toBe(
        `maxPricePerUnit must be an integer from 0 to 2^256-1 as a decimal string, got ${JSON.stringify(bad)}`,
      )
    }
  })

  it('refuses a price cap above 2^256-1, the largest uint256', () => {
    const max = (2n ** 256n - 1n).toString()
    expect(parse({ input: [ROW], maxPricePerUnit: max }).maxPricePerUnit).toBe(2n ** 256n - 1n)
    expect(refusal({ input: [ROW], maxPricePerUnit: (2n ** 256n).toString() })).toMatch(
      /^maxPricePerUnit must be an integer from 0 to 2\^256-1 as a decimal string, got "1157920892/,
    )
  })

  it('refuses a deeply nested input with a short message instead of overflowing the stack', () => {
    const nested = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)
    expect(refusal({ input: nested })).toBe('input[0][0] must be a finite number, got an array of 1')
  })

  it('keeps a client request id of simple characters and refuses others', () => {
    expect(parse({ input: [ROW], requestId: 'bot-7_req-1' }).requestId).toBe('bot-7_req-1')
    for (const bad of ['', 'a/b', 'x'.repeat(129), 7]) {
      expect(refusal({ input: [ROW], requestId: bad })).toBe('requestId must be 1 to 128 letters, digits, _ or -')
    }
  })
})
