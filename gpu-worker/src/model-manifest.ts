import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { hashBytes } from '@computegraph/contracts/receipts'
import { type Hex, isHex } from 'viem'
import { NonRetryableError } from './errors'

export const MODEL_KINDS = ['linear', 'logistic', 'mlp'] as const
export type ModelKind = (typeof MODEL_KINDS)[number]

/** A symbolic dimension (a string such as 'batch') accepts any size. */
export type Dimension = number | string

export interface TensorSpec {
  name: string
  shape: Dimension[]
  dtype: 'float32'
  /** Column names of the last dimension, when they mean something (feature names). */
  columns?: string[]
}

/**
 * How far two executions of the same request may differ and still count as a match. Runs on the same CPU are
 * bitwise identical; these bounds are for comparing runs on other devices (a GPU, another CPU's kernels).
 */
export interface Tolerance {
  absolute: number
  relative: number
}

/** One model as the manifest, the hello message and the gateway describe it. */
export interface ModelEntry {
  /** keccak256 of the exact ONNX bytes. */
  id: Hex
  name: string
  kind: ModelKind
  description: string
  /** File name inside the models folder; absent for models trained at run time. */
  file?: string
  sizeBytes: number
  input: TensorSpec
  output: TensorSpec
  tolerance: Tolerance
  /** How the model was trained, enough to reproduce it. */
  training?: Record<string, unknown>
}

export interface ModelManifest {
  version: 1
  models: ModelEntry[]
}

export const MANIFEST_FILE = 'manifest.json'

export interface LoadedModel {
  entry: ModelEntry
  bytes: Uint8Array
}

/** Refuses bytes whose keccak256 is not the id they are loaded under. */
export function verifyModelBytes({ bytes, id, source }: { bytes: Uint8Array; id: Hex; source: string }): void {
  const actual = hashBytes(bytes)
  if (actual.toLowerCase() !== id.toLowerCase()) {
    throw new NonRetryableError(
      `${source} hashes to ${actual} but is declared as model ${id}: the file was modified or corrupted ` +
        `(rebuild the shipped models with \`npm run models -w @computegraph/gpu-worker\`)`,
      { code: 'MODEL_INTEGRITY' },
    )
  }
}

function fail(path: string, message: string): never {
  throw new NonRetryableError(`invalid model manifest: ${path} ${message}`, { code: 'MODEL_INTEGRITY' })
}

function parseTensorSpec(value: unknown, path: string): TensorSpec {
  if (typeof value !== 'object' || value === null) fail(path, 'must be an object')
  const o = value as Record<string, unknown>
  if (typeof o.name !== 'string' || o.name === '') fail(`${path}.name`, 'must be a non-empty string')
  if (
    !Array.isArray(o.shape) ||
    o.shape.length === 0 ||
    !o.shape.every((d) => (typeof d === 'number' && Number.isSafeInteger(d) && d > 0) || typeof d === 'string')
  ) {
    fail(`${path}.shape`, `must be a non-empty array of positive integers or names, got ${JSON.stringify(o.shape)}`)
  }
  if (o.dtype !== 'float32') fail(`${path}.dtype`, `must be "float32", got ${JSON.stringify(o.dtype)}`)
  if (o.columns !== undefined && (!Array.isArray(o.columns) || !o.columns.every((c) => typeof c === 'string'))) {
    fail(`${path}.columns`, 'must be an array of strings')
  }
  return {
    name: o.name,
    shape: o.shape as Dimension[],
    dtype: 'float32',
    ...(o.columns ? { columns: o.columns as string[] } : {}),
  }
}

/** Validates one manifest entry, naming the first wrong field. */
export function parseModelEntry(value: unknown, path = 'model'): ModelEntry {
  if (typeof value !== 'object' || value === null) fail(path, 'must be an object')
  const o = value as Record<string, unknown>
  if (typeof o.id !== 'string' || !isHex(o.id) || o.id.length !== 66) fail(`${path}.id`, 'must be a 32-byte hex string')
  if (typeof o.name !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(o.name)) {
    fail(`${path}.name`, `must be 1-64 lower-case letters, digits, '.', '_' or '-', got ${JSON.stringify(o.name)}`)
  }
  if (!(MODEL_KINDS as readonly unknown[]).includes(o.kind)) {
    fail(`${path}.kind`, `must be one of ${MODEL_KINDS.join(', ')}, got ${JSON.stringify(o.kind)}`)
  }
  if (typeof o.description !== 'string') fail(`${path}.description`, 'must be a string')
  if (o.file !== undefined && (typeof o.file !== 'string' || !/^[a-z0-9._-]+\.onnx$/i.test(o.file))) {
    fail(`${path}.file`, `must be a plain .onnx file name, got ${JSON.stringify(o.file)}`)
  }
  if (typeof o.sizeBytes !== 'number' || !Number.isSafeInteger(o.sizeBytes) || o.sizeBytes <= 0) {
    fail(`${path}.sizeBytes`, 'must be a positive integer')
  }
  const tolerance = o.tolerance as Record<string, unknown> | undefined
  if (
    typeof tolerance !== 'object' ||
    tolerance === null ||
    typeof tolerance.absolute !== 'number' ||
    typeof tolerance.relative !== 'number' ||
    !(tolerance.absolute >= 0) ||
    !(tolerance.relative >= 0)
  ) {
    fail(`${path}.tolerance`, 'must be { absolute, relative } with non-negative numbers')
  }
  if (o.training !== undefined && (typeof o.training !== 'object' || o.training === null)) {
    fail(`${path}.training`, 'must be an object')
  }
  return {
    id: o.id.toLowerCase() as Hex,
    name: o.name,
    kind: o.kind as ModelKind,
    description: o.description,
    ...(o.file !== undefined ? { file: o.file as string } : {}),
    sizeBytes: o.sizeBytes,
    input: parseTensorSpec(o.input, `${path}.input`),
    output: parseTensorSpec(o.output, `${path}.output`),
    tolerance: { absolute: tolerance.absolute as number, relative: tolerance.relative as number },
    ...(o.training !== undefined ? { training: o.training as Record<string, unknown> } : {}),
  }
}

export function parseManifest(value: unknown): ModelManifest {
  if (typeof value !== 'object' || value === null) fail('root', 'must be an object')
  const o = value as Record<string, unknown>
  if (o.version !== 1) fail('version', `must be 1, got ${JSON.stringify(o.version)}`)
  if (!Array.isArray(o.models)) fail('models', 'must be an array')
  const models = o.models.map((m, i) => parseModelEntry(m, `models[${i}]`))
  const seen = new Set<string>()
  for (const m of models) {
    if (seen.has(m.id)) fail('models', `lists model ${m.id} twice`)
    seen.add(m.id)
  }
  return { version: 1, models }
}

/** Reads `dir/manifest.json` and every model file it names, refusing any file whose hash is not its id. */
export async function loadModelDirectory({ dir }: { dir: string }): Promise<LoadedModel[]> {
  const manifestPath = join(dir, MANIFEST_FILE)
  let text: string
  try {
    text = await readFile(manifestPath, 'utf8')
  } catch (cause) {
    throw new NonRetryableError(`cannot read the model manifest ${manifestPath}: ${(cause as Error).message}`, {
      code: 'MODEL_INTEGRITY',
      cause,
    })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new NonRetryableError(`${manifestPath} is not valid JSON: ${(cause as Error).message}`, {
      code: 'MODEL_INTEGRITY',
      cause,
    })
  }
  const manifest = parseManifest(json)
  const loaded: LoadedModel[] = []
  for (const entry of manifest.models) {
    if (!entry.file) fail(`model ${entry.name}`, 'has no file')
    const path = join(dir, entry.file)
    const bytes = new Uint8Array(await readFile(path))
    verifyModelBytes({ bytes, id: entry.id, source: `model file ${path}` })
    loaded.push({ entry, bytes })
  }
  return loaded
}
