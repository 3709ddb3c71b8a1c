import * as tf from '@tensorflow/tfjs'
import type { Hex } from 'viem'
import { RetryableError } from '../errors'
import type { ModelEntry, Tolerance } from '../model-manifest'
import { buildDenseModel, type DenseLayer, type DenseModelSpec } from '../onnx/onnx-builder'
import { type Dataset, generateDataset } from './market-data'
import { createPrng, permutation } from './prng'
import { TFJS_VERSION, TRAINING_RUNTIME } from './training-runtime'
import type { TrainingTask } from './training-task'

export interface TrainingProgress {
  epoch: number
  epochs: number
  /** Mean training loss over the epoch: MSE for linear and mlp, binary cross-entropy for logistic. */
  loss: number
}

export interface TrainedModel {
  id: Hex
  bytes: Uint8Array
  entry: ModelEntry
  spec: DenseModelSpec
  history: TrainingProgress[]
  /** Billing units: epochs x rows. */
  units: bigint
  /** The trained tfjs model, when asked for with keepTfModel; the caller disposes it. */
  tfModel?: { predict(features: Float32Array, rows: number): Float32Array; dispose(): void }
}

export const DEFAULT_TOLERANCE: Tolerance = { absolute: 1e-5, relative: 1e-4 }

let backendReady: Promise<void> | undefined

/** The pure-JS CPU backend: deterministic, the same on every machine. Prod mode silences tfjs's Node.js hint. */
function ensureCpuBackend(): Promise<void> {
  backendReady ??= (async () => {
    tf.enableProdMode()
    if (!(await tf.setBackend('cpu'))) throw new Error('tfjs could not start its cpu backend')
    await tf.ready()
  })()
  return backendReady
}

export function resolveDataset(task: TrainingTask): Dataset {
  const { dataset } = task
  if (dataset.kind === 'generated') return generateDataset(dataset)
  const [rows, columns] = dataset.features.shape as [number, number]
  return {
    rows,
    columns,
    featureNames: Array.from({ length: columns }, (_, i) => `x${i}`),
    features: dataset.features.data,
    labels: dataset.labels.data,
  }
}

/** Column means and standard deviations as float32; a constant column gets std 1 so it is not divided by 0. */
export function columnStats({ data }: { data: Dataset }): { mean: Float32Array; std: Float32Array } {
  const { rows, columns, features } = data
  const mean = new Float64Array(columns)
  const sq = new Float64Array(columns)
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) mean[c] = (mean[c] as number) + (features[r * columns + c] as number)
  }
  for (let c = 0; c < columns; c++) mean[c] = (mean[c] as number) / rows
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      sq[c] = (sq[c] as number) + ((features[r * columns + c] as number) - (mean[c] as number)) ** 2
    }
  }
  const std = Float32Array.from(sq, (s) => {
    const v = Math.fround(Math.sqrt(s / rows))
    return v > 1e-12 ? v : 1
  })
  return { mean: Float32Array.from(mean), std }
}

function buildLayers(task: TrainingTask, columns: number): tf.Sequential {
  const model = tf.sequential()
  const widths = [...task.hiddenUnits, 1]
  widths.forEach((units, i) => {
    const last = i === widths.length - 1
    model.add(
      tf.layers.dense({
        units,
        ...(i === 0 ? { inputShape: [columns] } : {}),
        activation: last ? (task.kind === 'logistic' ? 'sigmoid' : 'linear') : task.activation,
        // A seed per layer: the same task always starts from the same weights.
        kernelInitializer: tf.initializers.glorotUniform({ seed: (task.seed + i + 1) % 0x100000000 }),
        biasInitializer: 'zeros',
      }),
    )
  })
  model.compile({
    optimizer: task.optimizer === 'adam' ? tf.train.adam(task.learningRate) : tf.train.sgd(task.learningRate),
    loss: task.kind === 'logistic' ? 'binaryCrossentropy' : 'meanSquaredError',
  })
  return model
}

/**
 * Trains a tabular model with tfjs from the task's seed (initial weights and the shuffle of every epoch), reports
 * each epoch's loss, and exports the result to ONNX. Two runs of the same task give the same bytes and model id.
 */
export async function trainModel({
  task,
  onProgress,
  signal,
  keepTfModel = false,
  description,
  tolerance = DEFAULT_TOLERANCE,
  featureNames,
}: {
  task: TrainingTask
  onProgress?: (progress: TrainingProgress) => void
  signal?: AbortSignal
  keepTfModel?: boolean
  description?: string
  tolerance?: Tolerance
  featureNames?: readonly string[]
}): Promise<TrainedModel> {
  await ensureCpuBackend()
  const data = resolveDataset(task)
  const { rows, columns } = data
  const normalization = columnStats({ data })
  const model = buildLayers(task, columns)
  const shuffle = createPrng(task.seed)
  const history: TrainingProgress[] = []
  const mean = tf.tensor1d(normalization.mean)
  const std = tf.tensor1d(normalization.std)
  // Division, not multiplication by 1/std: the ONNX graph divides too, and both round the same way.
  const xs = tf.tidy(() => tf.tensor2d(data.features, [rows, columns]).sub(mean).div(std))
  const ys = tf.tensor2d(data.labels, [rows, 1])
  try {
    for (let epoch = 1; epoch <= task.epochs; epoch++) {
      if (signal?.aborted) {
        // The signal's reason says why (cancelled, deadline, shutdown); keep it as the error.
        throw signal.reason instanceof Error
          ? signal.reason
          : new RetryableError(`training of ${task.name} was stopped before epoch ${epoch}`, { code: 'CANCELLED' })
      }
      const order = permutation({ n: rows, prng: shuffle })
      let lossSum = 0
      for (let start = 0; start < rows; start += task.batchSize) {
        const indices = order.subarray(start, Math.min(rows, start + task.batchSize))
        const index = tf.tensor1d(Int32Array.from(indices), 'int32')
        const xb = tf.gather(xs, index)
        const yb = tf.gather(ys, index)
        const loss = (await model.trainOnBatch(xb, yb)) as number
        tf.dispose([index, xb, yb])
        lossSum += loss * indices.length
      }
      const progress = { epoch, epochs: task.epochs, loss: lossSum / rows }
      history.push(progress)
      onProgress?.(progress)
      // Let the event loop answer pings and serve inference between epochs.
      await new Promise((resolve) => setImmediate(resolve))
    }
    const spec = exportSpec({ task, model, normalization })
    const built = buildDenseModel(spec)
    const last = history[history.length - 1] as TrainingProgress
    const entry: ModelEntry = {
      id: built.id,
      name: task.name,
      kind: task.kind,
      description: description ?? `${task.kind} model trained by a computegraph worker`,
      sizeBytes: built.bytes.length,
      input: {
        name: spec.inputName,
        shape: ['batch', columns],
        dtype: 'float32',
        columns: [...(featureNames ?? data.featureNames)],
      },
      output: { name: spec.outputName, shape: ['batch', 1], dtype: 'float32' },
      tolerance,
      training: {
        dataset: task.dataset.kind === 'generated' ? task.dataset : { kind: 'inline', rows, columns },
        epochs: task.epochs,
        learningRate: task.learningRate,
        batchSize: task.batchSize,
        seed: task.seed,
        optimizer: task.optimizer,
        ...(task.kind === 'mlp' ? { hiddenUnits: task.hiddenUnits, activation: task.activation } : {}),
        finalLoss: last.loss,
        runtime: TRAINING_RUNTIME,
      },
    }
    const result: TrainedModel = {
      id: built.id,
      bytes: built.bytes,
      entry,
      spec,
      history,
      units: BigInt(task.epochs) * BigInt(rows),
    }
    if (keepTfModel) {
      result.tfModel = {
        predict: (features, n) =>
          tf.tidy(() => {
            const x = tf.tensor2d(features, [n, columns]).sub(mean).div(std)
            return (model.predict(x) as tf.Tensor).dataSync() as Float32Array
          }),
        dispose: () => {
          model.dispose()
          tf.dispose([mean, std])
        },
      }
    }
    return result
  } finally {
    tf.dispose([xs, ys])
    if (!keepTfModel) {
      model.dispose()
      tf.dispose([mean, std])
    }
  }
}

function exportSpec({
  task,
  model,
  normalization,
}: {
  task: TrainingTask
  model: tf.Sequential
  normalization: { mean: Float32Array; std: Float32Array }
}): DenseModelSpec {
  const layers: DenseLayer[] = model.layers.map((layer, i) => {
    const [kernel, bias] = layer.getWeights() as [tf.Tensor, tf.Tensor]
    const [inputs, units] = kernel.shape as [number, number]
    const last = i === model.layers.length - 1
    return {
      inputs,
      units,
      weights: Float32Array.from(kernel.dataSync()),
      bias: Float32Array.from(bias.dataSync()),
      activation: last ? (task.kind === 'logistic' ? 'sigmoid' : 'none') : task.activation,
    }
  })
  return {
    name: task.name,
    inputName: 'features',
    outputName: task.kind === 'logistic' ? 'probability' : 'prediction',
    normalization,
    layers,
    docString: `${task.kind} model trained with @tensorflow/tfjs ${TFJS_VERSION} (cpu backend) by computegraph`,
  }
}
