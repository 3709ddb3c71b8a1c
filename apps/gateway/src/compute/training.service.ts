import { hashBytes, receiptFromJson, receiptToJson, verifyReceiptSignature } from '@computegraph/contracts/receipts'
import { hashTrainingRequest } from '@computegraph/gpu-worker/canonical-bytes'
import { parseModelEntry } from '@computegraph/gpu-worker/model-manifest'
import {
  type ProgressMessage,
  parseGatewayMessage,
  type TrainedMessage,
  type TrainMessage,
  trainingTaskToWire,
} from '@computegraph/gpu-worker/protocol'
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common'
import { type Address, getAddress, isAddress, isAddressEqual, zeroAddress } from 'viem'
import type { Config } from '../config/config'
import { CONFIG } from '../config/config.module'
import { InvalidComputeInputError, reasonOf, UnknownRequestError } from './compute.errors'
import { ComputeRepository, type ComputeRequestRow } from './compute.repository'
import { COMPUTE_IDENTITY, type ComputeIdentity } from './compute-identity'
import { ModelCatalog } from './model-catalog'
import { CALLER_REQUEST_ID, callerKey, checkSameRequest, newRequestId } from './request-id'
import { clampDeadlineMs, InvalidResultError, Router } from './router'
import { WorkerPool } from './worker-pool'

/** One step of a training job as subscribers see it. */
export interface TrainingUpdate {
  id: string
  status: 'queued' | 'running' | 'completed' | 'failed'
  epoch: number | null
  epochs: number | null
  loss: number | null
  model: { id: string; name: string } | null
  worker: string | null
  error: string | null
}

interface StoredTraining {
  /** The train message's task in wire form; parsed (and normalised) again by the protocol parser. */
  task: Record<string, unknown>
  requester: Address
}

interface TrainingResult {
  model: { id: string; name: string; entry: unknown; bytesB64: string }
  history: { epoch: number; loss: number }[]
  receipt: { domain: unknown; receipt: Record<string, string>; signature: string }
  worker: string
}

type Listener = (update: TrainingUpdate) => void

/**
 * Training jobs: validated like the worker validates them, accepted into the Postgres queue, run on a worker that
 * trains (progress streamed to subscribers), and the trained model registered so inference serves it at once (the
 * worker that trained it loads it). A restarted gateway resumes jobs it had accepted.
 */
@Injectable()
export class TrainingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Training')
  private readonly router: Router
  private readonly running = new Map<string, Promise<void>>()
  private readonly listeners = new Map<string, Set<Listener>>()
  private readonly latest = new Map<string, TrainingUpdate>()
  private timer?: NodeJS.Timeout

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(COMPUTE_IDENTITY) private readonly identity: ComputeIdentity | null,
    @Inject(ComputeRepository) private readonly repository: ComputeRepository,
    @Inject(WorkerPool) pool: WorkerPool,
    @Inject(ModelCatalog) private readonly catalog: ModelCatalog,
  ) {
    this.router = new Router(pool, config.compute)
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.identity) return
    for (const row of await this.repository.trainedModels().catch(() => [])) {
      const result = row.result as TrainingResult
      try {
        this.catalog.register({
          entry: parseModelEntry(result.model.entry),
          bytes: new Uint8Array(Buffer.from(result.model.bytesB64, 'base64')),
        })
      } catch (error) {
        this.logger.warn(`trained model of ${row.id} not registered: ${(error as Error).message}`)
      }
    }
    const tick = () => void this.maintain().catch((e: Error) => this.logger.warn(`queue upkeep: ${e.message}`))
    this.timer = setInterval(tick, Math.max(50, Math.floor(this.config.compute.leaseMs / 3)))
    tick()
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer)
    await this.repository.releaseLeases([...this.running.keys()]).catch(() => {})
  }

  /**
   * Accepts a training job and returns its id; follow it with the `trainingJob` subscription or query. A caller's
   * own `requestId` is scoped to that caller (its `apiKey` and requester), as for inference.
   */
  async train(input: Record<string, unknown>, { apiKey }: { apiKey?: string } = {}): Promise<TrainingUpdate> {
    const { requester: rawRequester, requestId: rawId, ...task } = input
    let requester: Address = zeroAddress
    if (rawRequester !== undefined && rawRequester !== null) {
      if (typeof rawRequester !== 'string' || !isAddress(rawRequester, { strict: false })) {
        throw new InvalidComputeInputError(
          `requester must be a 0x-prefixed 20-byte address, got ${JSON.stringify(rawRequester)}`,
        )
      }
      requester = getAddress(rawRequester)
    }
    if (rawId !== undefined && rawId !== null && (typeof rawId !== 'string' || !CALLER_REQUEST_ID.test(rawId))) {
      throw new InvalidComputeInputError('requestId must be 1 to 128 letters, digits, _ or -')
    }
    const id = newRequestId()
    const key = typeof rawId === 'string' ? callerKey({ caller: { apiKey, requester }, requestId: rawId }) : null
    const message = this.message({ id, body: { task, requester } })
    const body: StoredTraining = { task: trainingTaskToWire(message.task), requester }
    const inserted = await this.repository.insert(
      {
        id,
        kind: 'training',
        modelId: null,
        requester,
        callerKey: key,
        body,
        expiresAt: new Date(Date.now() + this.config.compute.queuedRequestTtlMs),
      },
      this.config.compute.leaseMs,
    )
    if (!inserted) {
      const first = key === null ? undefined : await this.repository.findByCallerKey(key)
      if (!first) throw new Error(`training job ${id} was not stored and no earlier request holds its caller key`)
      const fields = (row: { kind: string; body: unknown }) =>
        row.kind === 'training' ? { kind: row.kind, task: (row.body as StoredTraining).task } : { kind: row.kind }
      checkSameRequest({
        requestId: rawId as string,
        stored: fields(first),
        incoming: fields({ kind: 'training', body }),
      })
      return this.status(first.id)
    }
    this.start(id, message)
    return this.update(id, { status: 'queued' })
  }

  async status(id: string): Promise<TrainingUpdate> {
    const live = this.latest.get(id)
    if (live) return live
    const row = await this.repository.find(id)
    if (row?.kind !== 'training') throw new UnknownRequestError(`no training job with id ${id}`)
    return fromRow(row as ComputeRequestRow)
  }

  /** Calls `listener` with each update of job `id` from now on; returns the unsubscribe function. */
  subscribe(id: string, listener: Listener): () => void {
    const set = this.listeners.get(id) ?? new Set<Listener>()
    this.listeners.set(id, set)
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0) this.listeners.delete(id)
    }
  }

  /** A train message for a stored or submitted job; the protocol's parser validates and fills the task. */
  private message({
    id,
    body,
  }: {
    id: string
    body: { task: Record<string, unknown>; requester: Address }
  }): TrainMessage {
    try {
      const parsed = parseGatewayMessage(
        JSON.stringify({
          type: 'train',
          requestId: id,
          task: body.task,
          requester: body.requester,
          jobId: '0',
          price: '0',
          deadlineMs: 1,
        }),
      )
      return parsed as TrainMessage
    } catch (error) {
      throw new InvalidComputeInputError((error as Error).message.replace(/^train\.task: /, ''))
    }
  }

  private update(id: string, change: Partial<TrainingUpdate>): TrainingUpdate {
    const previous = this.latest.get(id) ?? {
      id,
      status: 'queued',
      epoch: null,
      epochs: null,
      loss: null,
      model: null,
      worker: null,
      error: null,
    }
    const next: TrainingUpdate = { ...previous, ...change }
    this.latest.set(id, next)
    for (const l of this.listeners.get(id) ?? []) l(next)
    if (next.status === 'completed' || next.status === 'failed')
      setTimeout(() => this.latest.delete(id), 60_000).unref()
    return next
  }

  private start(id: string, message: TrainMessage): void {
    if (this.running.has(id)) return
    const run = this.run(id, message).finally(() => this.running.delete(id))
    this.running.set(id, run)
  }

  private async run(id: string, message: TrainMessage): Promise<void> {
    const identity = this.identity as ComputeIdentity
    const { task } = message
    const rows = BigInt(task.dataset.kind === 'inline' ? (task.dataset.features.shape[0] ?? 0) : task.dataset.rows)
    const units = rows * BigInt(task.epochs)
    let attempts = 0
    try {
      const { worker, result } = await this.router.dispatch<TrainedMessage>({
        modelId: null,
        task: (w) => ({
          ...message,
          price: (w.pricePerUnit * units).toString(),
          deadlineMs: clampDeadlineMs(this.config.compute.queuedRequestTtlMs),
        }),
        deadline: Date.now() + this.config.compute.queuedRequestTtlMs,
        wait: true,
        onAttempt: (n) => {
          attempts = n
          this.update(id, { status: 'running' })
          void this.repository.markRunning(id, n).catch(() => {})
        },
        onProgress: (p: ProgressMessage) =>
          this.update(id, { status: 'running', epoch: p.epoch, epochs: p.epochs, loss: p.loss }),
        check: async ({ worker: w, result: r }) => {
          const receipt = receiptFromJson(r.receipt)
          const bad = (what: string) => {
            throw new InvalidResultError(`worker ${w.provider} returned an unacceptable trained model: ${what}`)
          }
          if (receipt.requestHash !== hashTrainingRequest({ task }))
            bad('receipt.requestHash is not the hash of this task')
          const modelHash = hashBytes(r.model.bytes)
          if (receipt.outputHash !== modelHash || receipt.modelId !== modelHash)
            bad('receipt does not commit to the model bytes')
          if (!isAddressEqual(receipt.worker, w.provider)) bad(`receipt.worker ${receipt.worker}`)
          const signature = await verifyReceiptSignature({ domain: identity.domain, receipt, signature: r.signature })
          if (!signature.valid) bad(`receipt signature: ${signature.reason}`)
        },
      })
      this.catalog.register({ entry: result.model.entry, bytes: result.model.bytes })
      const stored: TrainingResult = {
        model: {
          id: result.model.entry.id,
          name: result.model.entry.name,
          entry: result.model.entry,
          bytesB64: Buffer.from(result.model.bytes).toString('base64'),
        },
        history: result.history,
        receipt: {
          domain: identity.domain,
          receipt: receiptToJson(receiptFromJson(result.receipt)),
          signature: result.signature,
        },
        worker: worker.provider.toLowerCase(),
      }
      await this.repository.complete({ id, worker: worker.provider.toLowerCase(), result: stored, attempts })
      const last = result.history[result.history.length - 1]
      this.update(id, {
        status: 'completed',
        epoch: last?.epoch ?? null,
        epochs: task.epochs,
        loss: last?.loss ?? null,
        model: { id: result.model.entry.id, name: result.model.entry.name },
        worker: worker.provider.toLowerCase(),
      })
      this.logger.log(
        `training ${id}: model ${result.model.entry.name} (${result.model.entry.id}) by ${worker.provider}`,
      )
    } catch (error) {
      const message = (error as Error).message
      await this.repository
        .fail({ id, error: { reason: reasonOf(error) ?? 'WORKER_FAILED', message }, attempts })
        .catch(() => {})
      this.update(id, { status: 'failed', error: message })
    }
  }

  private async maintain(): Promise<void> {
    const { leaseMs } = this.config.compute
    await this.repository.renewLeases({ ids: [...this.running.keys()], leaseMs })
    for (const row of await this.repository.claimOrphans({ kind: 'training', leaseMs, limit: 20 })) {
      if (this.running.has(row.id)) continue
      this.logger.log(`resuming training ${row.id}`)
      this.start(row.id, this.message({ id: row.id, body: row.body as StoredTraining }))
    }
  }
}

function fromRow(row: ComputeRequestRow): TrainingUpdate {
  const result = row.result as TrainingResult | null
  const last = result?.history[result.history.length - 1]
  return {
    id: row.id,
    status: row.status,
    epoch: last?.epoch ?? null,
    epochs: result ? result.history.length : null,
    loss: last?.loss ?? null,
    model: result ? { id: result.model.id, name: result.model.name } : null,
    worker: result?.worker ?? null,
    error: (row.error as { message?: string } | null)?.message ?? null,
  }
}
