import { NonRetryableError } from '@computegraph/gpu-worker/errors'
import type {
  InferMessage,
  ProgressMessage,
  ResultMessage,
  TrainedMessage,
  TrainMessage,
} from '@computegraph/gpu-worker/protocol'
import type { Hex } from 'viem'
import type { ComputeConfig } from '../config/config'
import {
  ComputeDeadlineError,
  InvalidComputeInputError,
  NoWorkerForModelError,
  PriceTooLowError,
  WorkerFailedError,
  WorkersBusyError,
} from './compute.errors'
import { attemptTimeout, LATENCY_DEFAULTS, type SelectionPolicy, selectWorker } from './select-worker'
import type { LiveWorker, WorkerPool } from './worker-pool'

// The protocol's bound on a task's time budget (gpu-worker/src/protocol.ts): one day.
const MAX_TASK_DEADLINE_MS = 86_400_000

/** A task's time budget as the worker protocol accepts it: 1 ms to one day. */
export const clampDeadlineMs = (ms: number) => Math.min(MAX_TASK_DEADLINE_MS, Math.max(1, Math.floor(ms)))

/** A result that arrived but cannot be accepted (wrong hashes, bad signature): the worker is at fault. */
export class InvalidResultError extends Error {
  override name = 'InvalidResultError'
}

export interface DispatchArgs<R extends ResultMessage | TrainedMessage> {
  /** Model the worker must hold; null for training (any worker that trains). */
  modelId: Hex | null
  /** Builds the task for the chosen worker (the price depends on its asking price). */
  task: (worker: LiveWorker) => InferMessage | TrainMessage
  maxPricePerUnit?: bigint
  /** Epoch ms by which an answer must be in. */
  deadline: number
  /** Workers not to use (a spot check's first worker). */
  exclude?: ReadonlySet<string>
  /** Only workers of these providers (lower-case addresses): an on-chain job is assigned to one provider. */
  providers?: ReadonlySet<string>
  /** Wait for a worker to join or free up instead of failing at once (queued and resumed requests). */
  wait: boolean
  /** Throws InvalidResultError when the worker's answer cannot be accepted. */
  check: (args: { worker: LiveWorker; result: R }) => Promise<void> | void
  onProgress?: (m: ProgressMessage) => void
  onAttempt?: (attempt: number) => void
}

export interface Dispatched<R> {
  worker: LiveWorker
  result: R
  attempts: number
}

/**
 * Sends a task to the best worker and retries on another (of another provider where one is available) on failure,
 * timeout or an unacceptable result, within the request's deadline and the attempt cap. An attempt may take what
 * the worker's measured latency predicts, with margin; failing workers are suspended after repeated errors.
 */
export class Router {
  constructor(
    private readonly pool: WorkerPool,
    private readonly config: ComputeConfig,
  ) {}

  async dispatch<R extends ResultMessage | TrainedMessage>(args: DispatchArgs<R>): Promise<Dispatched<R>> {
    const tried = new Set(args.exclude)
    const triedProviders = new Set<string>()
    const policy: SelectionPolicy = {
      maxQueuePerWorker: this.config.maxQueuePerWorker,
      unmeasuredLatencyMs: 1,
      stallFactor: LATENCY_DEFAULTS.stallFactor,
      stallFloorMs: LATENCY_DEFAULTS.stallFloorMs,
    }
    let attempts = 0
    let lastError: Error | undefined
    // An attempt cut short by the request's deadline ends the request: timers may fire a little before Date.now()
    // reaches the deadline, and the client should hear DEADLINE_EXCEEDED, not that the worker failed.
    let cutByDeadline = false
    while (attempts < this.config.maxAttempts) {
      const now = Date.now()
      if (now >= args.deadline || cutByDeadline) {
        throw new ComputeDeadlineError(
          `no result within the request's deadline after ${attempts} attempt(s)` +
            (lastError ? `; last error: ${lastError.message}` : ''),
        )
      }
      const candidates = this.pool
        .all()
        .filter(
          (w) =>
            w.isOpen &&
            (args.modelId === null ? w.trainingKinds.length > 0 : true) &&
            (!args.providers || args.providers.has(w.provider.toLowerCase())),
        )
      const choice = selectWorker({
        candidates,
        modelId: args.modelId,
        maxPricePerUnit: args.maxPricePerUnit,
        exclude: tried,
        avoidProviders: triedProviders,
        preferMeasured: attempts > 0,
        now,
        policy,
      })
      if (choice.kind !== 'chosen') {
        if (choice.kind === 'price-too-low') {
          throw new PriceTooLowError(
            `every worker holding the model asks more than ${args.maxPricePerUnit} per unit; the lowest asks ${choice.lowestPrice}`,
          )
        }
        if (attempts > 0 && choice.kind === 'no-model') {
          throw new WorkerFailedError(
            `all ${attempts} worker(s) that could take the request failed; last error: ${lastError?.message}`,
          )
        }
        if (!args.wait) {
          if (choice.kind === 'no-model') {
            throw new NoWorkerForModelError(
              args.modelId === null
                ? 'no connected worker accepts training tasks'
                : `no connected worker holds model ${args.modelId}`,
            )
          }
          throw new WorkersBusyError(
            `all ${choice.holders} worker(s) holding the model are busy` +
              (choice.suspended ? ` (${choice.suspended} suspended after errors)` : '') +
              '; retry shortly',
          )
        }
        await this.pool.waitForChange(Math.min(250, Math.max(1, args.deadline - now)))
        continue
      }
      const worker = choice.worker as LiveWorker
      tried.add(worker.id)
      triedProviders.add(worker.provider.toLowerCase())
      attempts++
      args.onAttempt?.(attempts)
      const timeout =
        args.modelId === null
          ? // Training takes as long as its data and epochs do, which no inference latency predicts: the attempt
            // runs to the task's deadline, which the worker enforces too; a worker that disconnects ends it at once.
            { ms: Math.max(1, Math.floor(args.deadline - now)), byDeadline: true }
          : attemptTimeout({
              measured: worker.latencyEmaMs !== null,
              expectedMs: choice.expectedMs,
              remainingMs: args.deadline - now,
              policy: {
                factor: LATENCY_DEFAULTS.timeoutFactor,
                floorMs: this.config.attemptFloorMs,
                unmeasuredMs: this.config.attemptTimeoutMs,
              },
            })
      try {
        const result = (await worker.run(args.task(worker), {
          timeoutMs: timeout.ms,
          onProgress: args.onProgress,
        })) as R
        await args.check({ worker, result })
        worker.recordOutcome({
          ok: true,
          suspendAfter: this.config.suspendAfterErrors,
          suspendMs: this.config.suspendMs,
        })
        return { worker, result, attempts }
      } catch (error) {
        const e = error as Error & { code?: string }
        // The request's own fault: another worker would refuse it the same way.
        if (error instanceof NonRetryableError && e.code === 'BAD_INPUT') {
          throw new InvalidComputeInputError(e.message.replace(/^worker 0x[0-9a-fA-F]{40}: /, ''))
        }
        // A busy worker or one that shuts down did nothing wrong; anything else counts against it.
        const blameless = e.code === 'BUSY' || e.code === 'SHUTTING_DOWN' || e.code === 'PRICE_TOO_LOW'
        if (!blameless) {
          worker.recordOutcome({
            ok: false,
            suspendAfter: this.config.suspendAfterErrors,
            suspendMs: this.config.suspendMs,
          })
        }
        lastError = e
        cutByDeadline = e.code === 'DEADLINE_EXCEEDED' && timeout.byDeadline
      }
    }
    throw new WorkerFailedError(
      `the request failed on ${attempts} worker(s) (COMPUTE_MAX_ATTEMPTS=${this.config.maxAttempts}); last error: ${lastError?.message}`,
    )
  }
}
