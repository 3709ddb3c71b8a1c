import { type ComputeReceipt, receiptFromJson } from '@computegraph/contracts/receipts'
import { tensorFromWire } from '@computegraph/gpu-worker/protocol'
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common'
import { type Hex, isAddressEqual } from 'viem'
import { backoffMs, RetryableError } from '../common/errors'
import type { Config } from '../config/config'
import { CONFIG } from '../config/config.module'
import { ComputeRepository, type JobToSubmit, type OpenJob } from './compute.repository'
import { TransactionRevertedError } from './compute-chain'
import { COMPUTE_CHAIN, type ComputeChainRef } from './compute-chain.provider'
import { COMPUTE_IDENTITY, type ComputeIdentity } from './compute-identity'
import { type InferenceOutcome, InferenceService, type StoredInference } from './inference.service'

// Jobs taken per poll: bounds the burst one poll sends to the workers.
const JOBS_PER_POLL = 20
// A submission that failed in transit (RPC down, nonce race) is retried with backoff from 1 s to a minute; after this
// many attempts (several minutes) it is given up and recorded, so an unreachable chain costs a bounded effort.
const SUBMIT_ATTEMPTS = 8

/**
 * Closes the on-chain loop: an OPEN inference job (indexed) whose request body was uploaded to the gateway is
 * computed by a worker, assigned on-chain to that worker's provider (dispatcher role), and the worker's receipt is
 * submitted to JobMarket, which verifies it and pays; JobCompleted and RewardPaid are then indexed like any event.
 * Every step is driven from what is stored, so a restart resumes wherever it stopped.
 */
@Injectable()
export class JobDispatcherService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Jobs')
  private timer?: NodeJS.Timeout
  private polling = false
  private readonly inFlight = new Set<string>()
  /** Jobs whose uploaded body cannot serve them: said once, not on every poll. */
  private readonly refused = new Set<bigint>()
  /** Submissions that failed in transit: how often, and not before when to try again. */
  private readonly submitRetries = new Map<bigint, { attempts: number; notBefore: number }>()
  /** Jobs submitted, or found moved on on-chain, that the index still shows open (it lags by its finality depth). */
  private readonly submitted = new Set<bigint>()

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(COMPUTE_IDENTITY) private readonly identity: ComputeIdentity | null,
    @Inject(COMPUTE_CHAIN) private readonly chain: ComputeChainRef,
    @Inject(ComputeRepository) private readonly repository: ComputeRepository,
    @Inject(InferenceService) private readonly inference: InferenceService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.identity || !this.config.compute.onchainJobs) return
    if (!this.chain.current) {
      this.logger.warn('on-chain jobs are off: set GATEWAY_PRIVATE_KEY (the dispatcher) and RPC_URL to serve them')
      return
    }
    if (!isAddressEqual(this.identity.deployment.dispatcher, this.identity.account.address)) {
      this.logger.warn(
        `on-chain jobs are off: GATEWAY_PRIVATE_KEY is ${this.identity.account.address}, the deployment's dispatcher is ${this.identity.deployment.dispatcher}`,
      )
      return
    }
    this.timer = setInterval(() => void this.poll(), this.config.indexer.pollIntervalMs)
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer)
  }

  /** One round: submit what was computed, then take new open jobs. */
  async poll(): Promise<void> {
    if (this.polling) return
    this.polling = true
    try {
      const toSubmit = await this.repository.jobsToSubmit({ limit: JOBS_PER_POLL })
      const listed = new Set(toSubmit.map((job) => job.jobId))
      for (const id of this.submitted) if (!listed.has(id)) this.submitted.delete(id)
      for (const job of toSubmit) {
        if (this.submitted.has(job.jobId) || Date.now() < (this.submitRetries.get(job.jobId)?.notBefore ?? 0)) continue
        this.launch(`submit-${job.jobId}`, () => this.submit(job))
      }
      const now = BigInt(Math.floor(Date.now() / 1000))
      for (const job of await this.repository.openJobs({ now, limit: JOBS_PER_POLL }))
        this.launch(`run-${job.jobId}`, () => this.run(job))
    } catch (error) {
      this.logger.warn(`job poll: ${(error as Error).message.split('\n')[0]}`)
    } finally {
      this.polling = false
    }
  }

  private launch(key: string, work: () => Promise<void>): void {
    if (this.inFlight.has(key)) return
    this.inFlight.add(key)
    void work()
      .catch((error: Error) => this.logger.warn(`${key}: ${error.message.split('\n')[0]}`))
      .finally(() => this.inFlight.delete(key))
  }

  private async run(job: OpenJob): Promise<void> {
    if (this.refused.has(job.jobId)) return
    const body = jobBody(job)
    if (!body) {
      this.refused.add(job.jobId)
      this.logger.warn(
        `job ${job.jobId}: the request body uploaded under its input hash is for another model or does not decode; left open`,
      )
      return
    }
    const rows = BigInt(tensorFromWire(body.input, 'input').shape[0] ?? 1)
    const outcome = await this.inference
      .runForJob({
        id: `job-${job.jobId}`,
        body: { ...body, requester: job.client, jobId: job.jobId.toString(), price: job.payment.toString() },
        // The job's deadline is in block time; past the queue's TTL the job waits for the next poll instead.
        deadline: Math.min(Number(job.deadline) * 1000, Date.now() + this.config.compute.queuedRequestTtlMs),
        maxPricePerUnit: job.payment / (rows === 0n ? 1n : rows),
      })
      .catch((error: Error) => {
        this.logger.warn(`job ${job.jobId}: ${error.message}`)
        return undefined
      })
    if (outcome) this.logger.log(`job ${job.jobId}: computed by ${outcome.worker.provider}; submitting`)
  }

  /**
   * Assigns (if still open) and submits one computed job. A transaction the contract refuses is decided at once, with
   * its revert, and recorded; one that did not get through is retried on a later poll, a bounded number of times.
   */
  private async submit(job: JobToSubmit): Promise<void> {
    const chain = this.chain.current
    if (!chain) return
    const outcome = job.result as InferenceOutcome
    const receipt = receiptFromJson(outcome.receipt.receipt)
    const changed = changedTerm(job, receipt)
    if (changed) {
      // Assigning it would hand another client's job to this worker, and the receipt could never be accepted.
      return this.giveUp(job.jobId, {
        reason: 'JOB_CHANGED',
        message: `the chain's job ${job.jobId} is not the one computed (its ${changed} differs: the chain was reset or reorganised)`,
      })
    }
    if (job.status === 'ASSIGNED' && job.assignedTo && !isAddressEqual(job.assignedTo, receipt.worker)) {
      return this.giveUp(job.jobId, {
        reason: 'SUBMISSION_REFUSED',
        message: `assigned to ${job.assignedTo}, but ${receipt.worker} computed it`,
      })
    }
    try {
      if (job.status === 'OPEN') await chain.assignJob({ jobId: job.jobId, provider: receipt.worker })
      const tx = await chain.submitResult({ receipt, signature: outcome.receipt.signature as Hex })
      this.submitRetries.delete(job.jobId)
      this.submitted.add(job.jobId)
      this.logger.log(`job ${job.jobId}: receipt submitted in ${tx}`)
    } catch (error) {
      const message = (error as Error).message.split('\n')[0] ?? ''
      const attempts = (this.submitRetries.get(job.jobId)?.attempts ?? 0) + 1
      if (error instanceof RetryableError && attempts < SUBMIT_ATTEMPTS) {
        const notBefore = Date.now() + 1_000 + backoffMs({ attempt: attempts, baseMs: 1_000, capMs: 60_000 })
        this.submitRetries.set(job.jobId, { attempts, notBefore })
        this.logger.warn(`job ${job.jobId}: submission attempt ${attempts} failed, will retry: ${message}`)
        return
      }
      this.submitRetries.delete(job.jobId)
      if (error instanceof TransactionRevertedError && error.revert.errorName === 'WrongStatus') {
        // The chain is ahead of the index (it lags by its finality depth; a restart can meet a job this gateway had
        // submitted just before it stopped). Not tried again while the index still lists it; then it leaves the queue.
        this.submitted.add(job.jobId)
        this.logger.log(`job ${job.jobId}: already moved on on-chain (${message}); waiting for the index`)
        return
      }
      const reason = error instanceof TransactionRevertedError ? 'SUBMISSION_REVERTED' : 'SUBMISSION_FAILED'
      return this.giveUp(job.jobId, { reason, message: attempts > 1 ? `${message} (${attempts} attempts)` : message })
    }
  }

  private async giveUp(jobId: bigint, error: { reason: string; message: string }): Promise<void> {
    this.logger.warn(`job ${jobId}: not submitted, given up: ${error.message}`)
    await this.repository.recordSubmissionFailure({ id: `job-${jobId}`, error })
  }
}

/** The first of the job's terms that the computed receipt does not match (JobMarket's ReceiptMismatch rule). */
function changedTerm(job: JobToSubmit, receipt: ComputeReceipt): string | undefined {
  if (!isAddressEqual(receipt.requester, job.client)) return 'client'
  if (receipt.modelId.toLowerCase() !== job.modelId.toLowerCase()) return 'model'
  if (receipt.requestHash.toLowerCase() !== job.inputHash.toLowerCase()) return 'input hash'
  if (receipt.price !== job.payment) return 'payment'
  return undefined
}

/** The uploaded request of a job, if it is for the job's model (the job's inputHash already matched its hash). */
function jobBody(job: OpenJob): StoredInference | undefined {
  const body = job.body as Partial<StoredInference>
  if (typeof body?.modelId !== 'string' || body.modelId.toLowerCase() !== job.modelId.toLowerCase()) return undefined
  try {
    tensorFromWire(body.input, 'input')
  } catch {
    return undefined
  }
  return {
    modelId: job.modelId,
    input: body.input as StoredInference['input'],
    parameters: body.parameters ?? {},
    requester: job.client,
    jobId: '0',
  }
}
