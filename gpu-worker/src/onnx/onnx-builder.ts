import { hashBytes } from '@computegraph/contracts/receipts'
import type { Hex } from 'viem'
import { float32ToBytes } from '../tensor'
import {
  type AttributeProto,
  encodeModel,
  type NodeProto,
  OnnxAttributeType,
  OnnxDataType,
  type TensorProto,
} from './onnx-proto'

export const ONNX_OPSET = 13
// IR version 7 is the first that opset 13 may use; older runtimes can still read it.
export const ONNX_IR_VERSION = 7
export const PRODUCER_NAME = 'computegraph'
export const PRODUCER_VERSION = '1'

export type Activation = 'none' | 'relu' | 'tanh' | 'sigmoid'

/** One fully connected layer: y = act(x · W + b), W row-major [inputs, units]. */
export interface DenseLayer {
  inputs: number
  units: number
  weights: Float32Array
  bias: Float32Array
  activation: Activation
}

export interface DenseModelSpec {
  name: string
  inputName: string
  outputName: string
  layers: DenseLayer[]
  /** Standardisation applied inside the graph, so callers send raw features: (x - mean) / std. */
  normalization?: { mean: Float32Array; std: Float32Array }
  /** Gemm is one node per layer; MatMul+Add is the same maths for runtimes that lack Gemm broadcasting. */
  linearOp?: 'gemm' | 'matmul-add'
  docString?: string
  /** Written to ModelProto.metadata_props in key order. */
  metadata?: Record<string, string>
}

export interface BuiltModel {
  /** keccak256 of `bytes`: the model's content address. */
  id: Hex
  bytes: Uint8Array
}

const ACTIVATION_OP: Record<Exclude<Activation, 'none'>, string> = { relu: 'Relu', tanh: 'Tanh', sigmoid: 'Sigmoid' }

function floatTensor(name: string, dims: number[], values: Float32Array): TensorProto {
  return { name, dims, dataType: OnnxDataType.FLOAT, rawData: float32ToBytes(values) }
}

function assertSpec(spec: DenseModelSpec): void {
  if (spec.layers.length === 0) throw new TypeError(`model ${spec.name} needs at least one layer`)
  spec.layers.forEach((layer, i) => {
    if (layer.weights.length !== layer.inputs * layer.units) {
      throw new TypeError(
        `layer ${i} of ${spec.name}: weights hold ${layer.weights.length} values, expected ${layer.inputs}x${layer.units}`,
      )
    }
    if (layer.bias.length !== layer.units) {
      throw new TypeError(`layer ${i} of ${spec.name}: bias holds ${layer.bias.length} values, expected ${layer.units}`)
    }
    const previous = spec.layers[i - 1]
    if (previous && previous.units !== layer.inputs) {
      throw new TypeError(
        `layer ${i} of ${spec.name} takes ${layer.inputs} inputs but layer ${i - 1} gives ${previous.units}`,
      )
    }
  })
  const inputs = spec.layers[0]?.inputs ?? 0
  if (spec.normalization && (spec.normalization.mean.length !== inputs || spec.normalization.std.length !== inputs)) {
    throw new TypeError(`normalization of ${spec.name} must hold ${inputs} means and standard deviations`)
  }
  for (const layer of spec.layers) {
    for (const v of [...layer.weights, ...layer.bias]) {
      if (!Number.isFinite(v)) throw new TypeError(`model ${spec.name} has a non-finite weight ${v}`)
    }
  }
}

/**
 * Emits an ONNX model (opset 13) for a stack of dense layers with a dynamic batch dimension.
 * Deterministic: the same spec gives the same bytes, hence the same id.
 */
export function buildDenseModel(spec: DenseModelSpec): BuiltModel {
  assertSpec(spec)
  const nodes: NodeProto[] = []
  const initializers: TensorProto[] = []
  const inputs = spec.layers[0]?.inputs as number
  const outputs = spec.layers[spec.layers.length - 1]?.units as number
  let current = spec.inputName

  if (spec.normalization) {
    initializers.push(floatTensor('norm_mean', [inputs], spec.normalization.mean))
    initializers.push(floatTensor('norm_std', [inputs], spec.normalization.std))
    nodes.push({ name: 'norm_sub', opType: 'Sub', input: [current, 'norm_mean'], output: ['centred'] })
    nodes.push({ name: 'norm_div', opType: 'Div', input: ['centred', 'norm_std'], output: ['standardised'] })
    current = 'standardised'
  }

  spec.layers.forEach((layer, i) => {
    const last = i === spec.layers.length - 1
    const w = `dense${i}_weight`
    const b = `dense${i}_bias`
    initializers.push(floatTensor(w, [layer.inputs, layer.units], layer.weights))
    initializers.push(floatTensor(b, [layer.units], layer.bias))
    const linearOut = last && layer.activation === 'none' ? spec.outputName : `dense${i}_linear`
    if ((spec.linearOp ?? 'gemm') === 'gemm') {
      const attribute: AttributeProto[] = [
        { name: 'alpha', type: OnnxAttributeType.FLOAT, f: 1 },
        { name: 'beta', type: OnnxAttributeType.FLOAT, f: 1 },
      ]
      nodes.push({ name: `dense${i}_gemm`, opType: 'Gemm', input: [current, w, b], output: [linearOut], attribute })
    } else {
      nodes.push({ name: `dense${i}_matmul`, opType: 'MatMul', input: [current, w], output: [`dense${i}_product`] })
      nodes.push({ name: `dense${i}_add`, opType: 'Add', input: [`dense${i}_product`, b], output: [linearOut] })
    }
    current = linearOut
    if (layer.activation !== 'none') {
      const activated = last ? spec.outputName : `dense${i}_${layer.activation}`
      nodes.push({
        name: `dense${i}_${layer.activation}`,
        opType: ACTIVATION_OP[layer.activation],
        input: [current],
        output: [activated],
      })
      current = activated
    }
  })

  const valueInfo = (name: string, width: number) => ({
    name,
    type: {
      tensorType: { elemType: OnnxDataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: width }] } },
    },
  })
  const metadata = Object.entries(spec.metadata ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value }))
  const bytes = encodeModel({
    irVersion: ONNX_IR_VERSION,
    producerName: PRODUCER_NAME,
    producerVersion: PRODUCER_VERSION,
    docString: spec.docString ?? '',
    graph: {
      name: spec.name,
      node: nodes,
      initializer: initializers,
      input: [valueInfo(spec.inputName, inputs)],
      output: [valueInfo(spec.outputName, outputs)],
    },
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: metadata,
  })
  return { id: hashBytes(bytes), bytes }
}

/** Linear regression: one layer, no activation. */
export function linearRegressionSpec(args: {
  name: string
  weights: Float32Array
  bias: number
  normalization?: DenseModelSpec['normalization']
  linearOp?: DenseModelSpec['linearOp']
}): DenseModelSpec {
  const inputs = args.weights.length
  return {
    name: args.name,
    inputName: 'features',
    outputName: 'prediction',
    normalization: args.normalization,
    linearOp: args.linearOp,
    layers: [{ inputs, units: 1, weights: args.weights, bias: Float32Array.of(args.bias), activation: 'none' }],
  }
}

/** Logistic regression: one layer and a sigmoid; the output is the probability of class 1. */
export function logisticRegressionSpec(args: Parameters<typeof linearRegressionSpec>[0]): DenseModelSpec {
  const spec = linearRegressionSpec(args)
  const layer = spec.layers[0] as DenseLayer
  return { ...spec, outputName: 'probability', layers: [{ ...layer, activation: 'sigmoid' }] }
}

/**
 * Evaluates dense layers in float64 TypeScript: an independent reference for tests and verifiers, equal to the
 * float32 runtimes within float tolerance, not bitwise.
 */
export function evaluateDense({ spec, input, rows }: { spec: DenseModelSpec; input: Float32Array; rows: number }) {
  const first = spec.layers[0] as DenseLayer
  let width = first.inputs
  let values = Array.from(input)
  if (spec.normalization) {
    const { mean, std } = spec.normalization
    values = values.map((v, i) => (v - (mean[i % width] as number)) / (std[i % width] as number))
  }
  for (const layer of spec.layers) {
    const next = new Array<number>(rows * layer.units).fill(0)
    for (let r = 0; r < rows; r++) {
      for (let u = 0; u < layer.units; u++) {
        let sum = layer.bias[u] as number
        for (let k = 0; k < layer.inputs; k++) {
          sum += (values[r * width + k] as number) * (layer.weights[k * layer.units + u] as number)
        }
        next[r * layer.units + u] = activate(sum, layer.activation)
      }
    }
    values = next
    width = layer.units
  }
  return Float64Array.from(values)
}

function activate(x: number, activation: Activation): number {
  switch (activation) {
    case 'none':
      return x
    case 'relu':
      return x > 0 ? x : 0
    case 'tanh':
      return Math.tanh(x)
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x))
  }
}
