import { randomUUID } from 'node:crypto'
import { receiptFromJson, Verification } from '@computegraph/contracts/receipts'
import type { InferMessage, ResultMessage } from '@computegraph/gpu-worker/protocol'
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common'
import type { Hex } from 'viem'
import type { Config } from '../config/config'
import { CONFIG } from '../config/config.module'
import { IndexerService } from '../indexer/indexer.service'
import { ComputeRepository } from './compute.repository'
import { COMPUTE_CHAIN, type ComputeChainRef } from './compute-chain.provider'
import { COMPUTE_IDENTITY, type ComputeIdentity } from './compute-identity'
import type { InferenceOutcome } from './inference.service'
import { ModelCatalog } from './model-catalog'
import { attest, attestationBlock } from './result-bundle'
import { checkInferenceResult } from './result-check'
import { clampDeadlineMs, Router } from './router'
import { compareOutputs, faultyByReferee, Referee, type SpotChecker, spotCheckEvidence } from './spot-check'
import { ReceiptRepository } from './verification/receipt.repository'
import { type BundleAttestation, parseReceiptBundle, receiptBundleToJson } from './verification/receipt-bundle'
import { type LiveWorker, WorkerPool } from './worker-pool'

/** The outcome with its bundle's attestation replaced. */
function withAttestation(outcome: InferenceOutcome, attestation: BundleAttestation): InferenceOutcome {
  const bundle = parseReceiptBundle(outcome.receipt)
  return { ...outcome, receipt: receiptBundleToJson({ ...bundle, attestation }) }
}

/** What happened to one spot check; kept with the request's result. */
export interface SpotCheckRecord {
  status: 'matched' | 'mismatched' | 'skipped'
  checker?: string
  bitwise?: boolean
  faulty?: string[]
  evidenceHash?: Hex
  transactions?: Hex[]
  reason?: string
}

export interface SpotCheckCounts {
  considered: number
  checked: number
  matched: number
  mismatched: number
  skipped: number
  slashed: number
}

// Re-executions in flight at once; past it a check is skipped rather than queued behind live traffic.
const MAX_CHECKS_IN_FLIGHT = 8

/**
 * Re-executes a share of inference requests on a second worker (the first cannot know which), compares outputs
 * within the model's tolerance, and attests what it found. On a disagreement the gateway runs the model itself
 * on its CPU to tell who is wrong, keeps both receipts as evidence, and slashes the worker at fault on-chain.
 */
@Injectable()
export class SpotCheckService implements SpotChecker, OnApplicationShutdown {
  private readonly logger = new Logger('SpotCheck')
  private readonly router: Router
  private readonly referee: Referee
  private readonly inFlight = new Set<Promise<void>>()
  readonly counts: SpotCheckCounts = { considered: 0, checked: 0, matched: 0, mismatched: 0, skipped: 0, slashed: 0 }
  /** Draws the sampling decision; replaceable in unit tests. */
  random: () => number = Math.random

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(COMPUTE_IDENTITY) private readonly identity: ComputeIdentity | null,
    @Inject(COMPUTE_CHAIN) private readonly chain: ComputeChainRef,
    @Inject(ComputeRepository) private readonly repository: ComputeRepository,
    @Inject(WorkerPool) pool: WorkerPool,
    @Inject(ModelCatalog) private readonly catalog: ModelCatalog,
    @Inject(IndexerService) private readonly indexer: IndexerService,
    @Inject(ReceiptRepository) private readonly receipts: ReceiptRepository,
  ) {
    this.router = new Router(pool, config.compute)
    this.referee = new Referee((id) => catalog.modelBytes(id))
  }

  consider(args: {
    requestId: string
    worker: LiveWorker
    task: InferMessage
    result: ResultMessage
    outcome: unknown
  }) {
    this.counts.considered++
    if (this.random() >= this.config.compute.spotCheckShare) return
    if (this.inFlight.size >= MAX_CHECKS_IN_FLIGHT) {
      this.counts.skipped++
      return
    }
    const run = this.check(args as typeof args & { outcome: InferenceOutcome })
      .catch((e: Error) => this.logger.error(`spot check of ${args.requestId}: ${e.message}`))
      .finally(() => this.inFlight.delete(run))
    this.inFlight.add(run)
  }

  /** Resolves when every check started so far has finished (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight])
  }

  async onApplicationShutdown(): Promise<void> {
    await this.settled()
    await this.referee.close()
  }

  private async check({
    requestId,
    worker,
    task,
    result,
    outcome,
  }: {
    requestId: string
    worker: LiveWorker
    task: InferMessage
    result: ResultMessage
    outcome: InferenceOutcome
  }): Promise<void> {
    const identity = this.identity as ComputeIdentity
    const model = this.catalog.resolve(task.modelId)
    if (!model) return
    const rows = BigInt(task.input.shape[0] ?? 0)
    let second: { worker: LiveWorker; result: ResultMessage }
    try {
      const sent = new Map<string, InferMessage>()
      second = await this.router.dispatch<ResultMessage>({
        modelId: task.modelId,
        task: (w) => {
          const m: InferMessage = {
            ...task,
            requestId: `check-${randomUUID()}`,
            jobId: '0',
            price: (w.pricePerUnit * rows).toString(),
            deadlineMs: clampDeadlineMs(this.config.compute.requestTimeoutMs),
          }
          sent.set(w.id, m)
          return m
        },
        exclude: new Set([worker.id]),
        deadline: Date.now() + this.config.compute.requestTimeoutMs,
        wait: false,
        check: async ({ worker: w, result: r }) => {
          await checkInferenceResult({
            domain: identity.domain,
            task: sent.get(w.id) as InferMessage,
            provider: w.provider,
            runtimeId: w.runtime.runtimeId,
            result: r,
          })
        },
      })
    } catch (error) {
      this.counts.skipped++
      return this.record(requestId, outcome, { status: 'skipped', reason: (error as Error).message })
    }
    this.counts.checked++
    const receipt = receiptFromJson(result.receipt)
    const firstSide = { receipt, signature: result.signature, output: result.output }
    const secondSide = {
      receipt: receiptFromJson(second.result.receipt),
      signature: second.result.signature,
      output: second.result.output,
    }
    const comparison = compareOutputs({ a: result.output, b: second.result.output, tolerance: model.tolerance })
    if (comparison.match) {
      this.counts.matched++
      const { evidence, evidenceHash } = spotCheckEvidence({
        first: firstSide,
        second: secondSide,
        tolerance: model.tolerance,
        match: true,
      })
      const attestation = await attest({
        identity,
        receipt,
        verification: Verification.REEXECUTED_MATCH,
        evidence,
        blockNumber: attestationBlock(this.indexer),
      })
      return this.record(requestId, await this.attach(outcome, attestation), {
        status: 'matched',
        checker: second.worker.provider.toLowerCase(),
        bitwise: comparison.bitwise,
        evidenceHash,
      })
    }
    this.counts.mismatched++
    const referee = await this.referee.run({ model, input: task.input })
    const { evidence, evidenceHash } = spotCheckEvidence({
      first: firstSide,
      second: secondSide,
      tolerance: model.tolerance,
      match: false,
    })
    const faulty = referee
      ? faultyByReferee({
          first: result.output,
          second: second.result.output,
          referee: referee.output,
          tolerance: model.tolerance,
        }).map((side) => (side === 'first' ? worker : second.worker))
      : []
    const transactions: Hex[] = []
    for (const w of faulty) {
      const tx = await this.slash({ provider: w.provider, evidenceHash, jobId: w === worker ? BigInt(task.jobId) : 0n })
      if (tx) transactions.push(tx)
    }
    // The client's receipt is disputed only when its own worker is at fault (or the referee could not run); when
    // only the checker was wrong, the original output stands and its attestation claims no more than before.
    const originalFaulty = !referee || faulty.includes(worker)
    const attestation = originalFaulty
      ? await attest({
          identity,
          receipt,
          verification: Verification.DISPUTED,
          evidence,
          blockNumber: attestationBlock(this.indexer),
        })
      : undefined
    this.logger.warn(
      `request ${requestId}: outputs of ${worker.provider} and ${second.worker.provider} disagree at element ` +
        `${comparison.at} (${comparison.a} vs ${comparison.b}); at fault: ${faulty.map((w) => w.provider).join(', ') || 'undetermined'}`,
    )
    await this.record(requestId, attestation ? await this.attach(outcome, attestation) : outcome, {
      status: 'mismatched',
      checker: second.worker.provider.toLowerCase(),
      faulty: faulty.map((w) => w.provider.toLowerCase()),
      evidenceHash,
      transactions,
      ...(referee ? {} : { reason: 'the gateway holds no copy of the model to referee; nobody slashed' }),
    })
  }

  private async slash({ provider, evidenceHash, jobId }: { provider: Hex; evidenceHash: Hex; jobId: bigint }) {
    const chain = this.chain.current
    if (!chain) {
      this.logger.warn(`would slash ${provider}, but slashing is off (no GATEWAY_PRIVATE_KEY or RPC)`)
      return undefined
    }
    try {
      const amount = this.config.compute.slashAmount
      const tx =
        jobId > 0n
          ? await chain.disputeJob({ jobId, amount, evidenceHash })
          : await chain.slash({ provider, amount, evidenceHash })
      this.counts.slashed++
      this.logger.warn(`slashed ${provider} (evidence ${evidenceHash}) in ${tx}`)
      return tx
    } catch (error) {
      this.logger.error(`slashing ${provider} failed: ${(error as Error).message.split('\n')[0]}`)
      return undefined
    }
  }

  /**
   * The outcome with its new attestation, also put in the receipt store: verifiers read the gateway's latest claim
   * there, so a client cannot set a DISPUTED verdict aside by presenting the signature-only attestation it got first.
   */
  private async attach(outcome: InferenceOutcome, attestation: BundleAttestation): Promise<InferenceOutcome> {
    await this.receipts.replaceAttestation({ digest: attestation.attestation.receiptDigest, attestation })
    return withAttestation(outcome, attestation)
  }

  private async record(id: string, outcome: InferenceOutcome, spotCheck: SpotCheckRecord): Promise<void> {
    await this.repository.updateResult({ id, result: { ...outcome, spotCheck } })
  }
}
