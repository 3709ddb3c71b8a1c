import { hashBytes } from '@computegraph/contracts/receipts'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { createPrng } from '../training/prng'
import {
  buildDenseModel,
  type DenseModelSpec,
  evaluateDense,
  linearRegressionSpec,
  logisticRegressionSpec,
  ONNX_OPSET,
} from './onnx-builder'
import { decodeModel } from './onnx-proto'

const prng = createPrng(5)
const randoms = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (prng.next() - 0.5) * 2 * scale)

const mlpSpec = (activation: 'relu' | 'tanh'): DenseModelSpec => ({
  name: `mlp-${activation}`,
  inputName: 'features',
  outputName: 'prediction',
  normalization: { mean: randoms(4), std: Float32Array.from(randoms(4), (v) => 1 + Math.abs(v)) },
  layers: [
    { inputs: 4, units: 8, weights: randoms(32), bias: randoms(8), activation },
    { inputs: 8, units: 3, weights: randoms(24), bias: randoms(3), activation: 'sigmoid' },
    { inputs: 3, units: 1, weights: randoms(3), bias: randoms(1), activation: 'none' },
  ],
})

async function runOrt(bytes: Uint8Array, inputName: string, input: Float32Array, dims: number[]) {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] })
  const result = await session.run({ [inputName]: new ort.Tensor('float32', input, dims) })
  await session.release()
  return result[session.outputNames[0] as string]?.data as Float32Array
}

function expectClose(actual: Float32Array, expected: Float64Array, tolerance = 1e-5) {
  expect(actual.length).toBe(expected.length)
  actual.forEach((v, i) => {
    const want = expected[i] as number
    expect(Math.abs(v - want), `element ${i}: ${v} vs ${want}`).toBeLessThanOrEqual(tolerance * (1 + Math.abs(want)))
  })
}

describe('buildDenseModel', () => {
  it.each([
    ['linear regression with Gemm', linearRegressionSpec({ name: 'lin', weights: randoms(5), bias: 0.25 })],
    [
      'linear regression with MatMul+Add',
      linearRegressionSpec({ name: 'lin-mm', weights: randoms(5), bias: -0.5, linearOp: 'matmul-add' }),
    ],
    ['logistic regression', logisticRegressionSpec({ name: 'logit', weights: randoms(5, 2), bias: 0.1 })],
    ['an MLP with ReLU', mlpSpec('relu')],
    ['an MLP with Tanh', mlpSpec('tanh')],
  ])('emits %s that onnxruntime runs and a float64 evaluation agrees with', async (_, spec) => {
    const { bytes } = buildDenseModel(spec)
    const width = spec.layers[0]?.inputs as number
    const rows = 17
    const input = randoms(rows * width, 3)
    const output = await runOrt(bytes, spec.inputName, input, [rows, width])
    expectClose(output, evaluateDense({ spec, input, rows }))
  })

  it('gives the same bytes and id for the same weights, and a different id for a changed weight', () => {
    const spec = mlpSpec('relu')
    const a = buildDenseModel(spec)
    const b = buildDenseModel(structuredClone(spec))
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true)
    expect(a.id).toBe(b.id)
    expect(a.id).toBe(hashBytes(a.bytes))
    const changed = structuredClone(spec)
    ;(changed.layers[0] as { weights: Float32Array }).weights[3] = Math.fround(
      ((changed.layers[0]?.weights[3] as number) ?? 0) + 1e-3,
    )
    expect(buildDenseModel(changed).id).not.toBe(a.id)
  })

  it('writes an opset 13 graph with a symbolic batch dimension and raw little-endian initializers', () => {
    const spec = logisticRegressionSpec({ name: 'logit', weights: Float32Array.of(1.5, -2), bias: 0.5 })
    const model = decodeModel(buildDenseModel(spec).bytes)
    // The default ('') domain is ONNX's own operator set.
    expect(model.opsetImport.map((o) => [o.domain ?? '', o.version])).toEqual([['', ONNX_OPSET]])
    expect(model.graph.node.map((n) => n.opType)).toEqual(['Gemm', 'Sigmoid'])
    expect(model.graph.input[0]?.type.tensorType.shape.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 2 }])
    const weight = model.graph.initializer.find((t) => t.name === 'dense0_weight')
    expect(weight?.dims).toEqual([2, 1])
    expect(Buffer.from(weight?.rawData as Uint8Array).toString('hex')).toBe('0000c03f000000c0')
  })

  it('refuses weights that do not fit the declared layer sizes', () => {
    const spec = linearRegressionSpec({ name: 'bad', weights: randoms(3), bias: 0 })
    ;(spec.layers[0] as { inputs: number }).inputs = 4
    expect(() => buildDenseModel(spec)).toThrow('layer 0 of bad: weights hold 3 values, expected 4x1')
  })
})
