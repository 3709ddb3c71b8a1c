import type { DeviceInfo } from '@computegraph/gpu-worker/device'
import { NonRetryableError, RetryableError } from '@computegraph/gpu-worker/errors'
import type { ModelEntry } from '@computegraph/gpu-worker/model-manifest'
import {
  encodeMessage,
  type GatewayMessage,
  type HelloMessage,
  type InferMessage,
  type Load,
  type ProgressMessage,
  type ResultMessage,
  type TrainedMessage,
  type TrainMessage,
  type WorkerMessage,
} from '@computegraph/gpu-worker/protocol'
import type { Address, Hex } from 'viem'
import type { WebSocket } from 'ws'
import { nextLatencyEma, type WorkerCandidate } from './select-worker'

interface Pending {
  resolve: (message: ResultMessage | TrainedMessage) => void
  reject: (error: Error) => void
  onProgress?: (message: ProgressMessage) => void
  timer: NodeJS.Timeout
  sentAt: number
  /** Epoch ms, for the selection policy's clock. */
  sentAtEpochMs: number
}

/** One admitted worker: what it advertised, how it has been doing, and the requests it holds. */
export class LiveWorker implements WorkerCandidate {
  readonly provider: Address
  readonly device: DeviceInfo
  readonly runtime: HelloMessage['runtime']
  readonly concurrency: number
  readonly maxBatchSize: number
  readonly pricePerUnit: bigint
  readonly software: string
  readonly trainingKinds: readonly string[]
  readonly connectedAt = Date.now()
  lastHeardAt = Date.now()
  models: ReadonlySet<Hex>
  modelEntries: ModelEntry[]
  stake: bigint
  outstanding = 0
  latencyEmaMs: number | null = null
  suspendedUntil = 0
  consecutiveErrors = 0
  completed = 0
  failed = 0
  load: Load | null = null
  pingRttMs: number | null = null
  /** Epoch ms of the last answer (result, error, progress) to any request. */
  lastAnsweredAt = 0
  private readonly pending = new Map<string, Pending>()
  private closed = false

  constructor(
    readonly id: string,
    private readonly ws: WebSocket,
    hello: HelloMessage,
    stake: bigint,
  ) {
    this.provider = hello.provider
    this.device = hello.device
    this.runtime = hello.runtime
    this.concurrency = hello.concurrency
    this.maxBatchSize = hello.maxBatchSize
    this.pricePerUnit = BigInt(hello.pricePerUnit)
    this.software = hello.software
    this.trainingKinds = hello.training.kinds
    this.modelEntries = hello.models
    this.models = new Set(hello.models.map((m) => m.id.toLowerCase() as Hex))
    this.stake = stake
  }

  get isOpen(): boolean {
    return !this.closed
  }

  get unansweredSince(): number | null {
    // The map keeps insertion order: its first entry is the oldest request still held.
    const oldest = this.pending.values().next().value
    return oldest ? Math.max(oldest.sentAtEpochMs, this.lastAnsweredAt) : null
  }

  send(message: GatewayMessage): void {
    if (!this.closed) this.ws.send(encodeMessage(message))
  }

  /**
   * Sends an infer or train task and resolves with its result. Rejects with a RetryableError on timeout or
   * disconnect, and with the worker's own error (retryable or not, as the worker says) otherwise.
   */
  run(
    message: InferMessage | TrainMessage,
    { timeoutMs, onProgress }: { timeoutMs: number; onProgress?: (m: ProgressMessage) => void },
  ): Promise<ResultMessage | TrainedMessage> {
    if (this.closed) return Promise.reject(new RetryableError(`worker ${this.provider} disconnected`))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(message.requestId)
        this.outstanding--
        if (message.type === 'train') this.send({ type: 'cancel', requestId: message.requestId })
        reject(
          new RetryableError(`worker ${this.provider} did not answer within ${timeoutMs} ms`, {
            code: 'DEADLINE_EXCEEDED',
          }),
        )
      }, timeoutMs)
      this.pending.set(message.requestId, {
        resolve,
        reject,
        onProgress,
        timer,
        sentAt: performance.now(),
        sentAtEpochMs: Date.now(),
      })
      this.outstanding++
      this.send(message)
    })
  }

  /** Routes a worker frame to the request it answers; returns false for frames that answer nothing pending. */
  deliver(message: WorkerMessage): boolean {
    if (message.type === 'progress') {
      // Progress may trail a cancelled or timed-out task: nothing to route, nothing to complain about.
      const pending = this.pending.get(message.requestId)
      if (pending) {
        this.lastAnsweredAt = Date.now()
        pending.onProgress?.(message)
      }
      return true
    }
    if (message.type !== 'result' && message.type !== 'trained' && message.type !== 'error') return false
    if (message.requestId === null) return false
    const pending = this.pending.get(message.requestId)
    if (!pending) return false
    this.pending.delete(message.requestId)
    clearTimeout(pending.timer)
    this.outstanding--
    this.lastAnsweredAt = Date.now()
    if (message.type === 'error') {
      const Err = message.retryable ? RetryableError : NonRetryableError
      pending.reject(new Err(`worker ${this.provider}: ${message.message}`, { code: message.code }))
    } else {
      if (message.type === 'result') {
        this.latencyEmaMs = nextLatencyEma({
          previous: this.latencyEmaMs,
          sampleMs: performance.now() - pending.sentAt,
        })
      }
      pending.resolve(message)
    }
    return true
  }

  /** Counts an outcome; `suspendAfter` failures in a row suspend the worker for `suspendMs`. */
  recordOutcome({ ok, suspendAfter, suspendMs }: { ok: boolean; suspendAfter: number; suspendMs: number }): void {
    if (ok) {
      this.completed++
      this.consecutiveErrors = 0
      return
    }
    this.failed++
    this.consecutiveErrors++
    if (this.consecutiveErrors >= suspendAfter) {
      this.suspendedUntil = Date.now() + suspendMs
      this.consecutiveErrors = 0
    }
  }

  /** Fails everything pending (retryable: another worker may take it) and closes the socket. */
  close({ code = 1000, reason = 'closing' }: { code?: number; reason?: string } = {}): void {
    if (this.closed) return
    this.closed = true
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer)
      p.reject(new RetryableError(`worker ${this.provider} disconnected (${reason}) while holding ${id}`))
    }
    this.pending.clear()
    this.outstanding = 0
    this.ws.close(code, reason)
  }
}

/** The admitted workers of this gateway replica. */
export class WorkerPool {
  private readonly workers = new Map<string, LiveWorker>()
  private readonly listeners = new Set<() => void>()

  add(worker: LiveWorker): void {
    this.workers.set(worker.id, worker)
    this.changed()
  }

  remove(id: string): void {
    if (this.workers.delete(id)) this.changed()
  }

  get(id: string): LiveWorker | undefined {
    return this.workers.get(id)
  }

  all(): LiveWorker[] {
    return [...this.workers.values()]
  }

  /** Called on every join, leave or model change: waiting requests look again. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  changed(): void {
    for (const l of [...this.listeners]) l()
  }

  /** Resolves on the next pool change or after `ms`, whichever comes first. */
  waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const off = this.onChange(done)
      function done() {
        clearTimeout(timer)
        off()
        resolve()
      }
    })
  }
}
