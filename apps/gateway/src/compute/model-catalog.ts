import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { MANIFEST_FILE, type ModelEntry, parseManifest } from '@computegraph/gpu-worker/model-manifest'
import type { Hex } from 'viem'
import type { WorkerPool } from './worker-pool'

const require = createRequire(import.meta.url)

/** The folder of the models computegraph ships (gpu-worker/models). */
export const SHIPPED_MODELS_DIR = path.dirname(require.resolve(`@computegraph/gpu-worker/models/${MANIFEST_FILE}`))

/**
 * Every model the gateway can name: the shipped ones, those trained through it, and whatever live workers
 * advertise. Resolves a model by id or by name.
 */
export class ModelCatalog {
  private readonly known = new Map<string, ModelEntry>()
  private readonly bytes = new Map<string, Uint8Array>()

  constructor(private readonly pool: WorkerPool) {
    const manifest = parseManifest(JSON.parse(readFileSync(path.join(SHIPPED_MODELS_DIR, MANIFEST_FILE), 'utf8')))
    for (const entry of manifest.models) this.known.set(entry.id.toLowerCase(), entry)
  }

  /** Adds a trained model (with its ONNX bytes, so the gateway can referee spot checks of it). */
  register({ entry, bytes }: { entry: ModelEntry; bytes?: Uint8Array }): void {
    this.known.set(entry.id.toLowerCase(), entry)
    if (bytes) this.bytes.set(entry.id.toLowerCase(), bytes)
  }

  all(): ModelEntry[] {
    const out = new Map(this.known)
    for (const w of this.pool.all()) for (const m of w.modelEntries) out.set(m.id.toLowerCase(), m)
    return [...out.values()]
  }

  /** The model named by id (0x…, 32 bytes) or by name; undefined when nobody knows it. */
  resolve(idOrName: string): ModelEntry | undefined {
    const key = idOrName.toLowerCase()
    const all = this.all()
    return all.find((m) => m.id.toLowerCase() === key) ?? all.find((m) => m.name === idOrName)
  }

  /** ONNX bytes of a shipped or registered model, for re-execution in the gateway itself. */
  modelBytes(id: Hex): Uint8Array | undefined {
    const key = id.toLowerCase()
    const cached = this.bytes.get(key)
    if (cached) return cached
    const entry = this.known.get(key)
    if (!entry?.file) return undefined
    const bytes = new Uint8Array(readFileSync(path.join(SHIPPED_MODELS_DIR, entry.file)))
    this.bytes.set(key, bytes)
    return bytes
  }
}
