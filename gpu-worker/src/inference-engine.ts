import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { type Hex, keccak256, stringToBytes } from 'viem'
import { cpuDevice, type DeviceInfo, detectCudaDevice } from './device'
import { NonRetryableError, RetryableError } from './errors'
import { type LoadedModel, type ModelEntry, verifyModelBytes } from './model-manifest'
import { buildDenseModel, linearRegressionSpec } from './onnx/onnx-builder'
import { assertFinite, assertTensor, describeShape, type Tensor } from './tensor'

export type DevicePreference = 'auto' | 'cuda' | 'cpu'
export type ExecutionProvider = 'cuda' | 'cpu'

export interface RuntimeInfo {
  name: 'onnxruntime-node'
  version: string
  executionProvider: ExecutionProvider
  /** keccak256 of `onnxruntime-node@<version>/<provider>`: the receipt's runtimeId. */
  runtimeId: Hex
  /** Why CUDA is not used, when it was wanted. */
  fallbackReason?: string
}

export interface EngineOptions {
  device?: DevicePreference
  /** Most rows one execution takes; requests are merged up to this. */
  maxBatchSize?: number
  /** How long the first queued request waits for others before its batch runs anyway. */
  maxWaitMs?: number
  /** Executions in flight at once, across models. */
  concurrency?: number
  /** Rows waiting per model before new requests are refused as busy. */
  maxQueueRows?: number
  intraOpNumThreads?: number
}

export interface InferOutcome {
  output: Tensor
  /** Rows and requests in the execution this request rode in. */
  batch: { rows: number; requests: number }
  timings: { queuedMs: number; runMs: number }
}

export interface EngineLoad {
  queuedRequests: number
  queuedRows: number
  inFlight: number
  concurrency: number
}

interface Pending {
  input: Tensor
  rows: number
  enqueuedAt: number
  deadline: number | undefined
  resolve(outcome: InferOutcome): void
  reject(error: Error): void
}

interface ServedModel {
  entry: ModelEntry
  session: ort.InferenceSession
  inputName: string
  outputName: string
  /** Declared input shape from the session, symbolic dims as names. */
  inputShape: (number | string)[]
  queue: Pending[]
  queuedRows: number
  timer: NodeJS.Timeout | undefined
  executions: number
}

export const ONNXRUNTIME_VERSION: string = ort.env.versions.node ?? ort.env.versions.common

export function runtimeIdFor(executionProvider: ExecutionProvider): Hex {
  return keccak256(stringToBytes(`onnxruntime-node@${ONNXRUNTIME_VERSION}/${executionProvider}`))
}

/** Whether onnxruntime-node's CUDA provider library was installed (the npm package ships only the CPU build). */
export function cudaProviderInstalled(): boolean {
  const binding = join(
    dirname(createRequire(import.meta.url).resolve('onnxruntime-node')),
    '..',
    'bin',
    'napi-v6',
    process.platform,
    process.arch,
  )
  return existsSync(binding) && readdirSync(binding).some((f) => f.includes('onnxruntime_providers_cuda'))
}

const DEFAULTS = { maxBatchSize: 32, maxWaitMs: 2, concurrency: 1, maxQueueRows: 4096 }

/**
 * Serves ONNX models by id with dynamic batching: requests for one model queue up and run together, up to
 * maxBatchSize rows or after maxWaitMs, whichever comes first, then the output rows go back to their callers.
 * Dense row-wise models give each row the same result whatever batch it rides in (checked bitwise in tests).
 */
export class InferenceEngine {
  readonly runtime: RuntimeInfo
  readonly device: DeviceInfo
  readonly options: Required<Omit<EngineOptions, 'device' | 'intraOpNumThreads'>> & { intraOpNumThreads?: number }
  private readonly models = new Map<string, ServedModel>()
  private inFlight = 0
  private executionCount = 0
  private closing = false
  private idleWaiters: (() => void)[] = []

  private constructor(runtime: RuntimeInfo, device: DeviceInfo, options: EngineOptions) {
    this.runtime = runtime
    this.device = device
    this.options = {
      maxBatchSize: options.maxBatchSize ?? DEFAULTS.maxBatchSize,
      maxWaitMs: options.maxWaitMs ?? DEFAULTS.maxWaitMs,
      concurrency: options.concurrency ?? DEFAULTS.concurrency,
      maxQueueRows: options.maxQueueRows ?? DEFAULTS.maxQueueRows,
      intraOpNumThreads: options.intraOpNumThreads,
    }
    for (const [key, value] of Object.entries(this.options)) {
      if (value !== undefined && (!Number.isSafeInteger(value) || value < (key === 'maxWaitMs' ? 0 : 1))) {
        throw new RangeError(
          `engine option ${key} must be a ${key === 'maxWaitMs' ? 'non-negative' : 'positive'} integer, got ${value}`,
        )
      }
    }
  }

  /** Picks the execution provider (CUDA when present and wanted), describes the device and loads `models`. */
  static async create({ models = [], ...options }: EngineOptions & { models?: LoadedModel[] } = {}) {
    const { runtime, device } = await chooseRuntime({
      preference: options.device ?? 'auto',
      intraOpNumThreads: options.intraOpNumThreads,
    })
    const engine = new InferenceEngine(runtime, device, options)
    for (const model of models) await engine.addModel(model)
    return engine
  }

  /** Verifies the bytes against the entry's id, opens a session and starts serving the model. */
  async addModel({ entry, bytes }: LoadedModel): Promise<ModelEntry> {
    verifyModelBytes({ bytes, id: entry.id, source: `model ${entry.name}` })
    const existing = this.models.get(entry.id)
    if (existing) return existing.entry
    const session = await createSession({
      bytes,
      provider: this.runtime.executionProvider,
      intraOpNumThreads: this.options.intraOpNumThreads,
    })
    const inputMeta = session.inputMetadata[0]
    const outputName = session.outputNames[0]
    if (session.inputNames.length !== 1 || !inputMeta?.isTensor || outputName === undefined) {
      throw new NonRetryableError(`model ${entry.name} must have one tensor input and at least one output`)
    }
    const inputShape = [...inputMeta.shape]
    const declared = entry.input.shape
    const sameShape =
      declared.length === inputShape.length &&
      declared.every((d, i) => (typeof d === 'string' ? typeof inputShape[i] === 'string' : d === inputShape[i]))
    if (!sameShape || inputMeta.name !== entry.input.name || inputMeta.type !== 'float32') {
      throw new NonRetryableError(
        `model ${entry.name}: the manifest declares input ${entry.input.name} ${describeShape(declared)} float32 ` +
          `but the ONNX graph has ${inputMeta.name} ${describeShape(inputShape)} ${inputMeta.type}`,
        { code: 'MODEL_INTEGRITY' },
      )
    }
    this.models.set(entry.id, {
      entry,
      session,
      inputName: inputMeta.name,
      outputName,
      inputShape,
      queue: [],
      queuedRows: 0,
      timer: undefined,
      executions: 0,
    })
    return entry
  }

  hasModel(id: string): boolean {
    return this.models.has(id.toLowerCase())
  }

  listModels(): ModelEntry[] {
    return [...this.models.values()].map((m) => m.entry)
  }

  getModel(id: string): ModelEntry {
    return this.served(id).entry
  }

  load(): EngineLoad {
    let queuedRequests = 0
    let queuedRows = 0
    for (const m of this.models.values()) {
      queuedRequests += m.queue.length
      queuedRows += m.queuedRows
    }
    return { queuedRequests, queuedRows, inFlight: this.inFlight, concurrency: this.options.concurrency }
  }

  /** Number of session executions so far, per model or in all. */
  executions(modelId?: string): number {
    return modelId === undefined ? this.executionCount : this.served(modelId).executions
  }

  /**
   * Runs one request: `input` is [rows, ...feature dims] as the model declares. Throws NonRetryableError for an
   * unknown model or bad input, RetryableError when the queue is full, the deadline passes or the engine closes.
   */
  infer({ modelId, input, deadline }: { modelId: string; input: Tensor; deadline?: number }): Promise<InferOutcome> {
    try {
      if (this.closing) throw new RetryableError('the worker is shutting down', { code: 'SHUTTING_DOWN' })
      const model = this.served(modelId)
      this.validateInput(model, input)
      const rows = input.shape[0] as number
      if (model.queuedRows + rows > this.options.maxQueueRows && model.queue.length > 0) {
        throw new RetryableError(
          `model ${model.entry.name} has ${model.queuedRows} rows queued, at the limit of ${this.options.maxQueueRows}`,
          { code: 'BUSY' },
        )
      }
      return new Promise<InferOutcome>((resolve, reject) => {
        model.queue.push({ input, rows, enqueuedAt: performance.now(), deadline, resolve, reject })
        model.queuedRows += rows
        this.schedule(model)
      })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Stops taking requests, runs what is queued and resolves when nothing is in flight. */
  async close(): Promise<void> {
    this.closing = true
    for (const m of this.models.values()) this.schedule(m)
    if (this.inFlight > 0 || [...this.models.values()].some((m) => m.queue.length > 0)) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    }
    for (const m of this.models.values()) await m.session.release()
    this.models.clear()
  }

  private served(id: string): ServedModel {
    const model = typeof id === 'string' ? this.models.get(id.toLowerCase()) : undefined
    if (!model) {
      throw new NonRetryableError(`unknown model ${id}: this worker serves ${this.models.size} models`, {
        code: 'UNKNOWN_MODEL',
      })
    }
    return model
  }

  private validateInput(model: ServedModel, input: Tensor): void {
    const what = `input of model ${model.entry.name}`
    assertTensor({ tensor: input, what })
    const declared = model.inputShape
    const matches =
      input.shape.length === declared.length &&
      declared.every((d, i) => (typeof d === 'string' ? (input.shape[i] as number) >= 1 : d === input.shape[i]))
    if (!matches) {
      throw new NonRetryableError(
        `${what}: expected shape ${describeShape(declared)} (${model.inputName}), got ${describeShape(input.shape)}`,
      )
    }
    assertFinite({ tensor: input, what })
  }

  private schedule(model: ServedModel): void {
    if (model.queue.length === 0 || this.inFlight >= this.options.concurrency) return
    const waited = performance.now() - (model.queue[0] as Pending).enqueuedAt
    if (model.queuedRows >= this.options.maxBatchSize || waited >= this.options.maxWaitMs || this.closing) {
      if (model.timer) clearTimeout(model.timer)
      model.timer = undefined
      this.dispatch(model)
      return
    }
    model.timer ??= setTimeout(
      () => {
        model.timer = undefined
        this.schedule(model)
      },
      Math.max(0, this.options.maxWaitMs - waited),
    )
  }

  private dispatch(model: ServedModel): void {
    const batch: Pending[] = []
    let rows = 0
    const now = Date.now()
    while (model.queue.length > 0) {
      const next = model.queue[0] as Pending
      if (batch.length > 0 && rows + next.rows > this.options.maxBatchSize) break
      model.queue.shift()
      model.queuedRows -= next.rows
      if (next.deadline !== undefined && now > next.deadline) {
        next.reject(
          new RetryableError(`deadline passed while queued for model ${model.entry.name}`, {
            code: 'DEADLINE_EXCEEDED',
          }),
        )
        continue
      }
      batch.push(next)
      rows += next.rows
    }
    if (batch.length === 0) {
      this.afterExecution()
      return
    }
    this.inFlight++
    void this.execute(model, batch, rows).finally(() => {
      this.inFlight--
      this.afterExecution()
    })
  }

  private async execute(model: ServedModel, batch: Pending[], rows: number): Promise<void> {
    const first = batch[0] as Pending
    const rowShape = first.input.shape.slice(1)
    const rowSize = rowShape.reduce((n, d) => n * d, 1)
    const single = batch.length === 1 && first.input.data.byteOffset === 0
    const data = single ? first.input.data : new Float32Array(rows * rowSize)
    if (!single) {
      let offset = 0
      for (const p of batch) {
        data.set(p.input.data, offset)
        offset += p.input.data.length
      }
    }
    const started = performance.now()
    let output: ort.Tensor
    try {
      const result = await model.session.run({
        [model.inputName]: new ort.Tensor('float32', data, [rows, ...rowShape]),
      })
      output = result[model.outputName] as ort.Tensor
      model.executions++
      this.executionCount++
    } catch (cause) {
      const error = new RetryableError(`onnxruntime failed on model ${model.entry.name}: ${(cause as Error).message}`, {
        cause,
      })
      for (const p of batch) p.reject(error)
      return
    }
    const runMs = performance.now() - started
    const values = output.data as Float32Array
    const outRowShape = output.dims.slice(1)
    const outRowSize = outRowShape.reduce((n, d) => n * d, 1)
    let offset = 0
    for (const p of batch) {
      p.resolve({
        output: {
          dtype: 'float32',
          shape: [p.rows, ...outRowShape],
          data: values.slice(offset * outRowSize, (offset + p.rows) * outRowSize),
        },
        batch: { rows, requests: batch.length },
        timings: { queuedMs: started - p.enqueuedAt, runMs },
      })
      offset += p.rows
    }
  }

  private afterExecution(): void {
    for (const m of this.models.values()) this.schedule(m)
    const idle = this.inFlight === 0 && [...this.models.values()].every((m) => m.queue.length === 0)
    if (idle && this.idleWaiters.length > 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve()
    }
  }
}

async function createSession({
  bytes,
  provider,
  intraOpNumThreads,
}: {
  bytes: Uint8Array
  provider: ExecutionProvider
  intraOpNumThreads?: number
}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, {
    executionProviders: provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    graphOptimizationLevel: 'all',
    ...(intraOpNumThreads ? { intraOpNumThreads } : {}),
  })
}

/**
 * Uses CUDA when wanted and it works: 'auto' tries it only when the provider library is installed (trying without it
 * makes onnxruntime log an error) and falls back to the CPU; 'cuda' insists and fails with the reason.
 */
export async function chooseRuntime({
  preference,
  intraOpNumThreads,
}: {
  preference: DevicePreference
  intraOpNumThreads?: number
}): Promise<{ runtime: RuntimeInfo; device: DeviceInfo }> {
  const cpu = (fallbackReason?: string) => ({
    runtime: {
      name: 'onnxruntime-node' as const,
      version: ONNXRUNTIME_VERSION,
      executionProvider: 'cpu' as const,
      runtimeId: runtimeIdFor('cpu'),
      ...(fallbackReason ? { fallbackReason } : {}),
    },
    device: cpuDevice(),
  })
  if (preference === 'cpu') return cpu()
  if (preference === 'auto' && !cudaProviderInstalled()) {
    return cpu('the onnxruntime-node CUDA execution provider is not installed')
  }
  try {
    // A one-node probe model: a session that opens with CUDA proves the provider and driver load.
    const probe = buildDenseModel(linearRegressionSpec({ name: 'cuda-probe', weights: Float32Array.of(1), bias: 0 }))
    const session = await createSession({ bytes: probe.bytes, provider: 'cuda', intraOpNumThreads })
    await session.release()
    const device = await detectCudaDevice()
    return {
      runtime: {
        name: 'onnxruntime-node',
        version: ONNXRUNTIME_VERSION,
        executionProvider: 'cuda',
        runtimeId: runtimeIdFor('cuda'),
      },
      device,
    }
  } catch (cause) {
    const reason = `CUDA unavailable: ${(cause as Error).message.split('\n')[0]}`
    if (preference === 'cuda') throw new NonRetryableError(reason, { cause })
    return cpu(reason)
  }
}
