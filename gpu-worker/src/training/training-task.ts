import { NonRetryableError } from '../errors'
import type { ModelKind } from '../model-manifest'
import { MODEL_KINDS } from '../model-manifest'
import { assertFinite, assertTensor, type Tensor } from '../tensor'
import { GENERATED_DATASETS, type GeneratedDatasetName } from './market-data'

export interface InlineDataset {
  kind: 'inline'
  /** [rows, columns] */
  features: Tensor
  /** [rows] or [rows, 1]: class 0/1 for logistic, a number for linear and mlp. */
  labels: Tensor
}

export interface GeneratedDatasetRef {
  kind: 'generated'
  name: GeneratedDatasetName
  rows: number
  seed: number
}

/** A training job as the worker runs it, every default filled in (so its canonical bytes say exactly what ran). */
export interface TrainingTask {
  kind: ModelKind
  /** Name of the model it produces. */
  name: string
  dataset: InlineDataset | GeneratedDatasetRef
  epochs: number
  learningRate: number
  batchSize: number
  seed: number
  optimizer: 'adam' | 'sgd'
  /** Hidden layer widths of an mlp; empty for linear and logistic. */
  hiddenUnits: number[]
  activation: 'relu' | 'tanh'
}

/** Bounds on one job's size, so a request cannot occupy a worker for hours or exhaust its memory. */
export const TRAINING_LIMITS = {
  maxEpochs: 1000,
  maxRows: 200_000,
  maxColumns: 512,
  maxHiddenLayers: 4,
  maxHiddenUnits: 256,
  maxBatchSize: 4096,
  /** epochs x rows */
  maxWork: 20_000_000,
} as const

const DEFAULT_HIDDEN_UNITS = [16, 16]

function bad(message: string): never {
  throw new NonRetryableError(`invalid training task: ${message}`)
}

function int(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    bad(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return value
}

export type TrainingTaskInput = Partial<Omit<TrainingTask, 'dataset'>> & {
  kind: ModelKind
  dataset: InlineDataset | (Omit<GeneratedDatasetRef, 'rows' | 'seed'> & { rows?: number; seed?: number })
}

/** Validates a task and fills defaults; every error names the field and the value. */
export function normalizeTrainingTask(input: TrainingTaskInput): TrainingTask {
  if (!(MODEL_KINDS as readonly unknown[]).includes(input.kind)) {
    bad(`kind must be one of ${MODEL_KINDS.join(', ')}, got ${JSON.stringify(input.kind)}`)
  }
  const name = input.name ?? `trained-${input.kind}`
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) {
    bad(`name must be 1-64 lower-case letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`)
  }
  const epochs = int(input.epochs ?? 20, 'epochs', 1, TRAINING_LIMITS.maxEpochs)
  const learningRate = input.learningRate ?? 0.01
  if (typeof learningRate !== 'number' || !(learningRate > 0 && learningRate <= 10)) {
    bad(`learningRate must be a number in (0, 10], got ${JSON.stringify(learningRate)}`)
  }
  const batchSize = int(input.batchSize ?? 32, 'batchSize', 1, TRAINING_LIMITS.maxBatchSize)
  const seed = int(input.seed ?? 0, 'seed', 0, 0xffffffff)
  const optimizer = input.optimizer ?? 'adam'
  if (optimizer !== 'adam' && optimizer !== 'sgd')
    bad(`optimizer must be adam or sgd, got ${JSON.stringify(optimizer)}`)
  const activation = input.activation ?? 'relu'
  if (activation !== 'relu' && activation !== 'tanh')
    bad(`activation must be relu or tanh, got ${JSON.stringify(activation)}`)
  let hiddenUnits: number[] = []
  if (input.kind === 'mlp') {
    const units = input.hiddenUnits ?? DEFAULT_HIDDEN_UNITS
    if (!Array.isArray(units) || units.length < 1 || units.length > TRAINING_LIMITS.maxHiddenLayers) {
      bad(`hiddenUnits must list 1 to ${TRAINING_LIMITS.maxHiddenLayers} layer widths, got ${JSON.stringify(units)}`)
    }
    hiddenUnits = units.map((u, i) => int(u, `hiddenUnits[${i}]`, 1, TRAINING_LIMITS.maxHiddenUnits))
  } else if (input.hiddenUnits !== undefined && input.hiddenUnits.length > 0) {
    bad(`hiddenUnits applies to mlp only, not to ${input.kind}`)
  }

  const dataset = normalizeDataset(input.dataset, input.kind)
  const rows = dataset.kind === 'inline' ? (dataset.features.shape[0] as number) : dataset.rows
  if (epochs * rows > TRAINING_LIMITS.maxWork) {
    bad(`epochs x rows = ${epochs * rows} exceeds the limit of ${TRAINING_LIMITS.maxWork}`)
  }
  return { kind: input.kind, name, dataset, epochs, learningRate, batchSize, seed, optimizer, hiddenUnits, activation }
}

function normalizeDataset(dataset: TrainingTaskInput['dataset'], kind: ModelKind): InlineDataset | GeneratedDatasetRef {
  if (typeof dataset !== 'object' || dataset === null) bad('dataset must be an object')
  if (dataset.kind === 'generated') {
    if (!(GENERATED_DATASETS as readonly unknown[]).includes(dataset.name)) {
      bad(`dataset.name must be one of ${GENERATED_DATASETS.join(', ')}, got ${JSON.stringify(dataset.name)}`)
    }
    if (kind === 'logistic' && dataset.name !== 'market-direction') {
      bad(`a logistic model needs 0/1 labels; dataset ${dataset.name} has real-valued labels`)
    }
    return {
      kind: 'generated',
      name: dataset.name,
      rows: int(dataset.rows ?? 2000, 'dataset.rows', 10, TRAINING_LIMITS.maxRows),
      seed: int(dataset.seed ?? 0, 'dataset.seed', 0, 0xffffffff),
    }
  }
  if (dataset.kind !== 'inline') {
    bad(`dataset.kind must be inline or generated, got ${JSON.stringify((dataset as { kind: unknown }).kind)}`)
  }
  const { features, labels } = dataset
  assertTensor({ tensor: features, what: 'dataset.features' })
  assertTensor({ tensor: labels, what: 'dataset.labels' })
  if (features.shape.length !== 2) bad(`dataset.features must be [rows, columns], got [${features.shape.join(', ')}]`)
  const [rows, columns] = features.shape as [number, number]
  int(rows, 'dataset rows', 2, TRAINING_LIMITS.maxRows)
  int(columns, 'dataset columns', 1, TRAINING_LIMITS.maxColumns)
  const labelShapeOk =
    (labels.shape.length === 1 && labels.shape[0] === rows) ||
    (labels.shape.length === 2 && labels.shape[0] === rows && labels.shape[1] === 1)
  if (!labelShapeOk) bad(`dataset.labels must be [${rows}] or [${rows}, 1], got [${labels.shape.join(', ')}]`)
  assertFinite({ tensor: features, what: 'dataset.features' })
  assertFinite({ tensor: labels, what: 'dataset.labels' })
  if (kind === 'logistic' && labels.data.some((v) => v !== 0 && v !== 1)) {
    bad('dataset.labels of a logistic model must all be 0 or 1')
  }
  return {
    kind: 'inline',
    features,
    labels: { dtype: 'float32', shape: [rows], data: labels.data },
  }
}
