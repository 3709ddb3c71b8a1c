import { Verification } from '@computegraph/contracts/receipts'
import type { ModelEntry } from '@computegraph/gpu-worker/model-manifest'
import { type InferMessage, type ResultMessage, tensorFromWire, tensorToWire } from '@computegraph/gpu-worker/protocol'
import type { Tensor } from '@computegraph/gpu-worker/tensor'
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common'
import type { Address, Hex } from 'viem'
import type { Config } from '../config/config'
import { CONFIG } from '../config/config.module'
import { IndexerService } from '../indexer/indexer.service'
import {
  NoWorkerForModelError,
  reasonOf,
  UnknownModelError,
  UnknownRequestError,
  WorkerFailedError,
} from './compute.errors'
import { ComputeRepository, type ComputeRequestRow } from './compute.repository'
import { COMPUTE_IDENTITY, type ComputeIdentity } from './compute-identity'
import { type InferRequest, parseInferRequest } from './infer-input'
import { ModelCatalog } from './model-catalog'
import { type Caller, callerKey, checkSameRequest, newRequestId, type RequestFields } from './request-id'
import { attest, attestationBlock, type ResultBundle, resultBundle } from './result-bundle'
import { checkInferenceResult } from './result-check'
import { clampDeadlineMs, Router } from './router'
import { SPOT_CHECKER, type SpotChecker } from './spot-check'
import { ReceiptRepository } from './verification/receipt.repository'
import { type LiveWorker, WorkerPool } from './worker-pool'

/** The request as stored and as workers receive it. */
export interface StoredInference {
  modelId: Hex
  input: ReturnType<typeof tensorToWire>
  parameters: Record<string, string>
  requester: Address
  jobId: string
  /** Total price agreed beforehand (an on-chain job's payment); otherwise the worker's price per row. */
  price?: string
  /** The provider the job is assigned to on-chain: only its workers may compute it. */
  provider?: Address
}

/** What an inference returns to its caller. */
export interface InferenceOutcome {
  requestId: string
  status: 'completed'
  model: { id: Hex; name: string }
  output: { shape: number[]; data: number[] }
  receipt: ResultBundle
  /** `provider` in lower case, as every endpoint writes addresses. */
  worker: { id: string; provider: string; device: string }
  attempts: number
  timings: { totalMs: number; workerMs: number }
}

export interface QueuedOutcome {
  requestId: string
  status: 'queued' | 'running' | 'failed'
  error?: { reason: string; message: string }
}

/**
 * Runs inference requests: validates them against the model, accepts them into the Postgres queue, routes them to
 * a worker (retrying elsewhere within the deadline), accepts a result only with a receipt that commits to it, and
 * answers with the output and a verifiable bundle. Resumes requests that a stopped or crashed gateway left.
 */
@Injectable()
export class InferenceService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Inference')
  private readonly running = new Map<string, Promise<InferenceOutcome>>()
  private readonly router: Router
  private timer?: NodeJS.Timeout
  private stopping = false

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(COMPUTE_IDENTITY) private readonly identity: ComputeIdentity | null,
    @Inject(ComputeRepository) private readonly repository: ComputeRepository,
    @Inject(WorkerPool) pool: WorkerPool,
    @Inject(ModelCatalog) private readonly catalog: ModelCatalog,
    @Inject(SPOT_CHECKER) private readonly spotChecker: SpotChecker,
    @Inject(ReceiptRepository) private readonly receipts: ReceiptRepository,
    @Inject(IndexerService) private readonly indexer: IndexerService,
  ) {
    this.router = new Router(pool, config.compute)
  }

  onApplicationBootstrap(): void {
    if (!this.identity) return
    // Renews this replica's leases and picks up requests whose replica stopped; a third of the lease apart.
    const tick = () => void this.maintain().catch((e: Error) => this.logger.warn(`queue upkeep: ${e.message}`))
    this.timer = setInterval(tick, Math.max(50, Math.floor(this.config.compute.leaseMs / 3)))
    tick()
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true
    clearInterval(this.timer)
    await this.repository.releaseLeases([...this.running.keys()]).catch(() => {})
  }

  private get ready(): ComputeIdentity {
    if (!this.identity) throw new NoWorkerForModelError('the compute router is off: this gateway serves no deployment')
    return this.identity
  }

  /**
   * Runs a request and waits for its outcome (`wait`), or accepts it and returns its id at once. A caller's own
   * `requestId` makes retries idempotent within that caller's scope (its `apiKey` and requester); reused for a
   * different request it is refused with 409.
   */
  async infer(
    request: InferRequest,
    { wait = true, apiKey }: { wait?: boolean; apiKey?: string } = {},
  ): Promise<InferenceOutcome | QueuedOutcome> {
    this.ready
    const model = this.model(request.model)
    const parsed = parseInferRequest({ request, model })
    const caller: Caller = { apiKey, requester: parsed.requester }
    const key = parsed.requestId === undefined ? null : callerKey({ caller, requestId: parsed.requestId })
    const id = newRequestId()
    const body: StoredInference = {
      modelId: model.id,
      input: tensorToWire(parsed.tensor),
      parameters: parsed.parameters,
      requester: parsed.requester,
      jobId: '0',
    }
    const ttl = wait ? this.config.compute.requestTimeoutMs : this.config.compute.queuedRequestTtlMs
    const inserted = await this.repository.insert(
      {
        id,
        kind: 'inference',
        modelId: model.id,
        requester: parsed.requester,
        maxPrice: parsed.maxPricePerUnit?.toString() ?? null,
        callerKey: key,
        body,
        expiresAt: new Date(Date.now() + ttl),
      },
      this.config.compute.leaseMs,
    )
    if (!inserted) {
      const first = key === null ? undefined : await this.repository.findByCallerKey(key)
      if (!first) throw new Error(`request ${id} was not stored and no earlier request holds its caller key`)
      checkSameRequest({
        requestId: parsed.requestId as string,
        stored: requestFields(first),
        incoming: requestFields({
          kind: 'inference',
          modelId: model.id,
          maxPrice: parsed.maxPricePerUnit?.toString() ?? null,
          body,
        }),
      })
      return wait ? this.await(first.id) : this.status(first.id)
    }
    const run = this.start({ id, body, maxPrice: parsed.maxPricePerUnit, deadline: Date.now() + ttl, wait: !wait })
    if (!wait) {
      run.catch(() => {})
      return { requestId: id, status: 'queued' }
    }
    return run
  }

  /** The outcome of a request by id: its result when completed, its status otherwise. */
  async status(id: string): Promise<InferenceOutcome | QueuedOutcome> {
    const row = await this.repository.find(id)
    if (!row) throw new UnknownRequestError(`no request with id ${id}`)
    if (row.status === 'completed') return row.result as InferenceOutcome
    if (row.status === 'failed') return { requestId: id, status: 'failed', error: row.error as QueuedOutcome['error'] }
    return { requestId: id, status: row.status }
  }

  /** Waits for a request this replica runs; reports the stored outcome otherwise. */
  private async await(id: string): Promise<InferenceOutcome | QueuedOutcome> {
    const mine = this.running.get(id)
    if (mine) return mine
    return this.status(id)
  }

  private model(idOrName: string): ModelEntry {
    if (typeof idOrName !== 'string' || idOrName === '') {
      throw new UnknownModelError('model must name a model by id (0x…) or name')
    }
    const model = this.catalog.resolve(idOrName)
    if (!model) {
      const names = this.catalog.all().map((m) => m.name)
      throw new UnknownModelError(`unknown model ${JSON.stringify(idOrName)}; known models: ${names.join(', ')}`)
    }
    return model
  }

  private start(args: { id: string; body: StoredInference; maxPrice?: bigint; deadline: number; wait: boolean }) {
    const run = this.run(args).finally(() => this.running.delete(args.id))
    this.running.set(args.id, run)
    return run
  }

  private async run({
    id,
    body,
    maxPrice,
    deadline,
    wait,
  }: {
    id: string
    body: StoredInference
    maxPrice?: bigint
    deadline: number
    wait: boolean
  }): Promise<InferenceOutcome> {
    const identity = this.ready
    const started = performance.now()
    const input = tensorFromWire(body.input, 'input')
    const rows = BigInt(input.shape[0] ?? 0)
    const task = (worker: LiveWorker): InferMessage => ({
      type: 'infer',
      requestId: id,
      modelId: body.modelId,
      input,
      parameters: body.parameters,
      requester: body.requester,
      jobId: body.jobId,
      price: body.price ?? (worker.pricePerUnit * rows).toString(),
      deadlineMs: clampDeadlineMs(deadline - Date.now()),
    })
    let attempts = 0
    try {
      let receipt: Awaited<ReturnType<typeof checkInferenceResult>> | undefined
      const sent = new Map<string, InferMessage>()
      const { worker, result } = await this.router.dispatch<ResultMessage>({
        modelId: body.modelId,
        task: (w) => {
          const message = task(w)
          sent.set(w.id, message)
          return message
        },
        maxPricePerUnit: maxPrice,
        providers: body.provider ? new Set([body.provider.toLowerCase()]) : undefined,
        deadline,
        wait,
        onAttempt: (n) => {
          attempts = n
          void this.repository.markRunning(id, n).catch(() => {})
        },
        check: async ({ worker: w, result: r }) => {
          receipt = await checkInferenceResult({
            domain: identity.domain,
            task: sent.get(w.id) as InferMessage,
            provider: w.provider,
            runtimeId: w.runtime.runtimeId,
            result: r,
          })
        },
      })
      const checked = receipt as NonNullable<typeof receipt>
      const model = this.catalog.resolve(body.modelId) as ModelEntry
      const bundle = resultBundle({
        identity,
        receipt: checked,
        signature: result.signature,
        request: { modelId: body.modelId, input, parameters: body.parameters },
        output: result.output,
        attestation: await attest({
          identity,
          receipt: checked,
          verification: Verification.SIGNATURE_ONLY,
          blockNumber: attestationBlock(this.indexer),
        }),
      })
      // The receipt store is the replay check's memory: a worker reusing a nonce is refused, not believed.
      const recorded = await this.receipts.record(bundle.bundle)
      if (recorded.status === 'nonce-reused-with-different-digest') {
        throw new WorkerFailedError(
          `worker ${worker.provider} reused nonce ${checked.nonce} (receipt ${recorded.existingDigest}); result refused`,
        )
      }
      const outcome: InferenceOutcome = {
        requestId: id,
        status: 'completed',
        model: { id: model.id, name: model.name },
        output: { shape: result.output.shape, data: Array.from(result.output.data) },
        receipt: bundle.json,
        worker: {
          id: worker.id,
          provider: worker.provider.toLowerCase(),
          device: `${worker.device.kind}: ${worker.device.name}`,
        },
        attempts,
        timings: { totalMs: Math.round((performance.now() - started) * 100) / 100, workerMs: result.timings.totalMs },
      }
      await this.repository.complete({ id, worker: worker.provider.toLowerCase(), result: outcome, attempts })
      this.spotChecker.consider({ requestId: id, worker, task: sent.get(worker.id) as InferMessage, result, outcome })
      return outcome
    } catch (error) {
      const e = error as Error
      const reason = reasonOf(error) ?? 'WORKER_FAILED'
      await this.repository
        .fail({ id, error: { reason, message: e.message }, attempts })
        .catch((dbError: Error) => this.logger.error(`request ${id}: could not record its failure: ${dbError.message}`))
      if (reasonOf(error)) throw error
      this.logger.error(`request ${id}: ${e.stack ?? e.message}`)
      throw new WorkerFailedError(`request ${id} failed: ${e.message}`)
    }
  }

  /** Lease upkeep and resumption of requests left by a stopped replica. */
  private async maintain(): Promise<void> {
    if (this.stopping) return
    const { leaseMs } = this.config.compute
    await this.repository.renewLeases({ ids: [...this.running.keys()], leaseMs })
    const orphans = await this.repository.claimOrphans({ kind: 'inference', leaseMs, limit: 100 })
    for (const row of orphans) this.resume(row)
  }

  private resume(row: ComputeRequestRow): void {
    if (row.kind !== 'inference' || this.running.has(row.id)) return
    const deadline = row.expiresAt.getTime()
    this.logger.log(`resuming request ${row.id} (${row.status}, ${row.attempts} attempts so far)`)
    this.start({
      id: row.id,
      body: row.body as StoredInference,
      maxPrice: row.maxPrice === null ? undefined : BigInt(row.maxPrice),
      deadline,
      wait: true,
    }).catch(() => {})
  }

  /**
   * Accepts and runs an on-chain job's inference on the assigned provider's workers: the job's client, id and
   * payment go into the receipt JobMarket will check. Undefined when the job was taken already.
   */
  async runForJob({
    id,
    body,
    deadline,
    maxPricePerUnit,
  }: {
    id: string
    body: StoredInference
    deadline: number
    maxPricePerUnit?: bigint
  }) {
    const inserted = await this.repository.insert(
      {
        id,
        kind: 'inference',
        modelId: body.modelId,
        requester: body.requester,
        jobId: body.jobId,
        body,
        expiresAt: new Date(deadline),
      },
      this.config.compute.leaseMs,
    )
    if (!inserted) return undefined
    return this.start({ id, body, deadline, maxPrice: maxPricePerUnit, wait: true })
  }

  /** For spot checks: outputs of `model` on `input` from a worker other than `exclude`. */
  get routerForChecks(): Router {
    return this.router
  }

  decodeOutput(outcome: InferenceOutcome): Tensor {
    return tensorFromWire(outcome.receipt.output, 'output')
  }
}

/** What a caller's request id must name the same way each time it is sent. */
function requestFields(row: Pick<ComputeRequestRow, 'kind' | 'modelId' | 'maxPrice' | 'body'>): RequestFields {
  if (row.kind !== 'inference') return { kind: row.kind }
  const body = row.body as StoredInference
  return {
    kind: row.kind,
    model: row.modelId,
    input: body.input,
    parameters: body.parameters,
    maxPricePerUnit: row.maxPrice,
  }
}
