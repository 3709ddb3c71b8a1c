import { canonicalJson } from './canonical-bytes'
import type { ModelEntry, ModelManifest } from './model-manifest'
import { evaluateDense } from './onnx/onnx-builder'
import { generateDataset } from './training/market-data'
import { type TrainedModel, trainModel } from './training/trainer'
import { normalizeTrainingTask, type TrainingTaskInput } from './training/training-task'

/**
 * The models the repository ships in gpu-worker/models, built from synthetic market data by
 * `npm run models -w @computegraph/gpu-worker`. Everything here is seeded, so the build is reproducible
 * byte for byte; a test rebuilds them and compares with the committed files.
 */
export interface ShippedModelRecipe {
  file: string
  description: string
  task: TrainingTaskInput
  /** A held-out dataset from another seed, to report how good the model is. */
  holdout: { rows: number; seed: number }
}

export const SHIPPED_MODELS: readonly ShippedModelRecipe[] = [
  {
    file: 'price-direction-logistic.onnx',
    description:
      'Probability that the price rises over the next 5 steps, from 8 features of recent returns and volatility ' +
      '(logistic regression on synthetic regime-switching GBM data).',
    task: {
      kind: 'logistic',
      name: 'price-direction-logistic',
      dataset: { kind: 'generated', name: 'market-direction', rows: 4000, seed: 7 },
      epochs: 20,
      learningRate: 0.01,
      batchSize: 64,
      seed: 42,
    },
    holdout: { rows: 4000, seed: 1007 },
  },
  {
    file: 'volatility-mlp.onnx',
    description:
      'Realised volatility (percent per step) over the next 10 steps, from 8 features of recent returns and ' +
      'volatility (MLP 8-16-8-1, ReLU, on synthetic regime-switching GBM data).',
    task: {
      kind: 'mlp',
      name: 'volatility-mlp',
      dataset: { kind: 'generated', name: 'market-volatility', rows: 4000, seed: 11 },
      epochs: 30,
      learningRate: 0.005,
      batchSize: 64,
      seed: 43,
      hiddenUnits: [16, 8],
      activation: 'relu',
    },
    holdout: { rows: 4000, seed: 1011 },
  },
]

export interface ShippedModelsBuild {
  files: { file: string; bytes: Uint8Array }[]
  manifest: ModelManifest
  /** manifest.json's exact text. */
  manifestText: string
}

function holdoutMetrics(recipe: ShippedModelRecipe, trained: TrainedModel): Record<string, number> {
  const dataset = recipe.task.dataset
  if (dataset.kind !== 'generated') return {}
  const data = generateDataset({ name: dataset.name, rows: recipe.holdout.rows, seed: recipe.holdout.seed })
  const predictions = evaluateDense({ spec: trained.spec, input: data.features, rows: data.rows })
  const round = (x: number) => Math.round(x * 1e4) / 1e4
  if (trained.entry.kind === 'logistic') {
    let correct = 0
    let positives = 0
    predictions.forEach((p, i) => {
      const label = data.labels[i] as number
      positives += label
      if ((p > 0.5 ? 1 : 0) === label) correct++
    })
    const base = positives / data.rows
    return { holdoutAccuracy: round(correct / data.rows), holdoutMajorityBaseline: round(Math.max(base, 1 - base)) }
  }
  let absError = 0
  let mean = 0
  for (const y of data.labels) mean += y
  mean /= data.rows
  let baseline = 0
  predictions.forEach((p, i) => {
    absError += Math.abs(p - (data.labels[i] as number))
    baseline += Math.abs(mean - (data.labels[i] as number))
  })
  return { holdoutMae: round(absError / data.rows), holdoutMeanPredictorMae: round(baseline / data.rows) }
}

/** Trains every shipped model (twice when `verifyDeterminism`, refusing to go on if the runs differ). */
export async function buildShippedModels({
  verifyDeterminism = false,
  log,
}: {
  verifyDeterminism?: boolean
  log?: (line: string) => void
} = {}): Promise<ShippedModelsBuild> {
  const files: ShippedModelsBuild['files'] = []
  const models: ModelEntry[] = []
  for (const recipe of SHIPPED_MODELS) {
    const task = normalizeTrainingTask(recipe.task)
    const trained = await trainModel({ task, description: recipe.description })
    if (verifyDeterminism) {
      const again = await trainModel({ task, description: recipe.description })
      if (again.id !== trained.id) {
        throw new Error(`training ${task.name} twice from seed ${task.seed} gave ${trained.id} and ${again.id}`)
      }
    }
    const metrics = holdoutMetrics(recipe, trained)
    log?.(`${recipe.file}: ${trained.bytes.length} bytes, id ${trained.id}, ${canonicalJson(metrics)}`)
    files.push({ file: recipe.file, bytes: trained.bytes })
    const { id, name, kind, description, ...rest } = trained.entry
    models.push({ id, name, kind, description, file: recipe.file, ...rest, training: { ...rest.training, ...metrics } })
  }
  const manifest: ModelManifest = { version: 1, models }
  return { files, manifest, manifestText: formatJson(manifest) }
}

const LINE_WIDTH = 120

/**
 * JSON laid out as Biome formats it (objects expanded, arrays of scalars on one line when they fit), so the
 * generated manifest passes `biome check` unchanged and a rebuild gives the committed text.
 */
export function formatJson(value: unknown): string {
  const render = (v: unknown, indent: string, prefixLength: number): string => {
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]'
      const scalars = v.every((x) => typeof x !== 'object' || x === null)
      const inline = `[${v.map((x) => JSON.stringify(x)).join(', ')}]`
      // +1 for a trailing comma
      if (scalars && indent.length + prefixLength + inline.length + 1 <= LINE_WIDTH) return inline
      const inner = `${indent}  `
      return `[\n${v.map((x) => `${inner}${render(x, inner, 0)}`).join(',\n')}\n${indent}]`
    }
    if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v).filter(([, x]) => x !== undefined)
      if (entries.length === 0) return '{}'
      const inner = `${indent}  `
      const lines = entries.map(([k, x]) => {
        const key = `${JSON.stringify(k)}: `
        return `${inner}${key}${render(x, inner, key.length)}`
      })
      return `{\n${lines.join(',\n')}\n${indent}}`
    }
    return JSON.stringify(v)
  }
  return `${render(value, '', 0)}\n`
}
