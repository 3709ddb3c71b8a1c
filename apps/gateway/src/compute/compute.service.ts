import { hashInferenceRequest } from '@computegraph/gpu-worker/canonical-bytes'
import { describe as describeValue, tensorToWire } from '@computegraph/gpu-worker/protocol'
import { Inject, Injectable } from '@nestjs/common'
import { UnknownModelError } from './compute.errors'
import { ComputeRepository } from './compute.repository'
import { type InferRequest, parseInferRequest } from './infer-input'
import { InferenceService } from './inference.service'
import { ModelCatalog } from './model-catalog'
import { WorkerPool } from './worker-pool'

/** A live worker as the API shows it. */
export interface WorkerView {
  id: string
  provider: string
  device: { kind: string; name: string; memoryBytes: number }
  runtime: string
  models: { id: string; name: string }[]
  concurrency: number
  maxBatchSize: number
  pricePerUnit: string
  stake: string
  outstanding: number
  queuedRows: number
  latencyMs: number | null
  pingMs: number | null
  completed: number
  failed: number
  suspended: boolean
  connectedAt: string
  software: string
}

/** The compute module's face to the HTTP and GraphQL entry points. */
@Injectable()
export class ComputeService {
  constructor(
    @Inject(InferenceService) private readonly inference: InferenceService,
    @Inject(ComputeRepository) private readonly repository: ComputeRepository,
    @Inject(WorkerPool) private readonly pool: WorkerPool,
    @Inject(ModelCatalog) private readonly catalog: ModelCatalog,
  ) {}

  infer(request: InferRequest, options: { wait?: boolean; apiKey?: string } = {}) {
    return this.inference.infer(request, options)
  }

  request(id: string) {
    return this.inference.status(id)
  }

  /**
   * Keeps the exact request of an on-chain job under its hash, which the client then passes to
   * `JobMarket.createJob(modelId, INFERENCE, inputHash, …)`; the gateway serves the job from it.
   */
  async saveJobInput(request: InferRequest) {
    const model = typeof request.model === 'string' ? this.catalog.resolve(request.model) : undefined
    if (!model) throw new UnknownModelError(`unknown model ${describeValue(request.model)}`)
    const { tensor, parameters } = parseInferRequest({ request, model })
    const inputHash = hashInferenceRequest({ modelId: model.id, input: tensor, parameters })
    await this.repository.saveInput({
      requestHash: inputHash.toLowerCase(),
      body: { modelId: model.id, input: tensorToWire(tensor), parameters },
    })
    return { inputHash, modelId: model.id }
  }

  models() {
    const served = new Map<string, number>()
    for (const w of this.pool.all()) for (const id of w.models) served.set(id, (served.get(id) ?? 0) + 1)
    return this.catalog.all().map((m) => ({
      id: m.id,
      name: m.name,
      kind: m.kind,
      description: m.description,
      input: m.input,
      output: m.output,
      tolerance: m.tolerance,
      workers: served.get(m.id.toLowerCase()) ?? 0,
    }))
  }

  workers(): WorkerView[] {
    const now = Date.now()
    return this.pool.all().map((w) => ({
      id: w.id,
      // Lower case, as The Graph's dialect writes addresses over GraphQL: one spelling on every endpoint.
      provider: w.provider.toLowerCase(),
      device: w.device,
      runtime: `${w.runtime.name}@${w.runtime.version}/${w.runtime.executionProvider}`,
      models: w.modelEntries.map((m) => ({ id: m.id, name: m.name })),
      concurrency: w.concurrency,
      maxBatchSize: w.maxBatchSize,
      pricePerUnit: w.pricePerUnit.toString(),
      stake: w.stake.toString(),
      outstanding: w.outstanding,
      queuedRows: w.load?.queuedRows ?? 0,
      latencyMs: w.latencyEmaMs === null ? null : Math.round(w.latencyEmaMs * 100) / 100,
      pingMs: w.pingRttMs,
      completed: w.completed,
      failed: w.failed,
      suspended: w.suspendedUntil > now,
      connectedAt: new Date(w.connectedAt).toISOString(),
      software: w.software,
    }))
  }
}
