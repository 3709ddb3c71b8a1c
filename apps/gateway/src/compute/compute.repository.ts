import { randomUUID } from 'node:crypto'
import { Inject, Injectable } from '@nestjs/common'
import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm'
import type { Address } from 'viem'
import type { Database } from '../db/database'
import { DATABASE } from '../db/db.module'
import { computeInputTable, computeRequestTable, jobTable, networkTable, providerTable } from '../db/schema'

export type ComputeRequestRow = typeof computeRequestTable.$inferSelect
export type NewComputeRequest = Omit<
  typeof computeRequestTable.$inferInsert,
  'status' | 'attempts' | 'leaseOwner' | 'leaseUntil' | 'createdAt' | 'updatedAt'
>

/** An on-chain job the gateway can serve: indexed OPEN, with its request body uploaded. */
export interface OpenJob {
  jobId: bigint
  client: Address
  modelId: `0x${string}`
  payment: bigint
  deadline: bigint
  inputHash: `0x${string}`
  body: unknown
}

/** A computed on-chain job and where it stands on-chain. */
export interface JobToSubmit {
  jobId: bigint
  status: 'OPEN' | 'ASSIGNED'
  assignedTo: Address | null
  /** The indexed job's terms now: a reset or reorganised chain can hold another job under the same id. */
  client: Address
  modelId: `0x${string}`
  inputHash: `0x${string}`
  payment: bigint
  worker: Address
  result: unknown
}

/** A provider as the indexed state has it now. */
export interface ProviderStanding {
  provider: Address
  registered: boolean
  stake: bigint
  minStake: bigint
}

/** The compute module's storage: the request queue, job inputs, and the indexed provider state it admits by. */
@Injectable()
export class ComputeRepository {
  /** This process's name on the leases it takes. */
  readonly owner = `${process.pid}-${randomUUID().slice(0, 8)}`

  constructor(@Inject(DATABASE) private readonly database: Database) {}

  private get db() {
    return this.database.db
  }

  /** Current stake and registration of each provider, and the minimum stake, from the indexed entities. */
  async standings(providers: readonly Address[]): Promise<Map<string, ProviderStanding>> {
    const out = new Map<string, ProviderStanding>()
    if (providers.length === 0) return out
    const ids = providers.map((p) => p.toLowerCase())
    const [network] = await this.db
      .select({ minStake: networkTable.minStake })
      .from(networkTable)
      .where(isNull(networkTable.blockTo))
      .limit(1)
    const rows = await this.db
      .select({ id: providerTable.id, stake: providerTable.stake })
      .from(providerTable)
      .where(and(isNull(providerTable.blockTo), inArray(providerTable.id, ids)))
    const minStake = network?.minStake ?? 0n
    for (const id of ids) out.set(id, { provider: id as Address, registered: false, stake: 0n, minStake })
    for (const r of rows) out.set(r.id, { provider: r.id as Address, registered: true, stake: r.stake, minStake })
    return out
  }

  /**
   * Accepts a request, leased to this process. Returns false when its caller key exists already (the caller sent
   * this id before) or, for an on-chain job, when the job was taken.
   */
  async insert(request: NewComputeRequest, leaseMs: number): Promise<boolean> {
    const rows = await this.db
      .insert(computeRequestTable)
      .values({
        ...request,
        status: 'queued',
        leaseOwner: this.owner,
        leaseUntil: new Date(Date.now() + leaseMs),
      })
      .onConflictDoNothing()
      .returning({ id: computeRequestTable.id })
    return rows.length === 1
  }

  /** The request a caller sent under its own id (see request-id.ts). */
  async findByCallerKey(callerKey: string): Promise<ComputeRequestRow | undefined> {
    const [row] = await this.db.select().from(computeRequestTable).where(eq(computeRequestTable.callerKey, callerKey))
    return row
  }

  async find(id: string): Promise<ComputeRequestRow | undefined> {
    const [row] = await this.db.select().from(computeRequestTable).where(eq(computeRequestTable.id, id))
    return row
  }

  /**
   * Counts an attempt on an unfinished request. Callers fire this without waiting, so it may land after the request
   * completed: it must not turn a finished request back into a running one, which the next gateway would resume.
   */
  async markRunning(id: string, attempts: number): Promise<void> {
    const t = computeRequestTable
    await this.db
      .update(t)
      .set({ status: 'running', attempts, updatedAt: new Date() })
      .where(and(eq(t.id, id), inArray(t.status, ['queued', 'running'])))
  }

  async complete({ id, worker, result, attempts }: { id: string; worker: string; result: unknown; attempts: number }) {
    await this.db
      .update(computeRequestTable)
      .set({ status: 'completed', worker, result, attempts, leaseOwner: null, leaseUntil: null, updatedAt: new Date() })
      .where(eq(computeRequestTable.id, id))
  }

  /** Replaces the stored result (a spot check added its attestation). */
  async updateResult({ id, result }: { id: string; result: unknown }) {
    await this.db
      .update(computeRequestTable)
      .set({ result, updatedAt: new Date() })
      .where(eq(computeRequestTable.id, id))
  }

  async fail({ id, error, attempts }: { id: string; error: { reason: string; message: string }; attempts: number }) {
    await this.db
      .update(computeRequestTable)
      .set({ status: 'failed', error, attempts, leaseOwner: null, leaseUntil: null, updatedAt: new Date() })
      .where(eq(computeRequestTable.id, id))
  }

  /**
   * Takes up to `limit` unfinished requests whose lease lapsed (their gateway stopped or crashed), oldest first.
   * SKIP LOCKED lets replicas claim at once without taking the same row.
   */
  async claimOrphans({
    kind,
    leaseMs,
    limit,
  }: {
    kind: 'inference' | 'training'
    leaseMs: number
    limit: number
  }): Promise<ComputeRequestRow[]> {
    const t = computeRequestTable
    return this.db
      .update(t)
      .set({ leaseOwner: this.owner, leaseUntil: new Date(Date.now() + leaseMs) })
      .where(
        inArray(
          t.id,
          this.db
            .select({ id: t.id })
            .from(t)
            .where(
              and(
                eq(t.kind, kind),
                inArray(t.status, ['queued', 'running']),
                or(isNull(t.leaseUntil), lt(t.leaseUntil, new Date())),
              ),
            )
            .orderBy(t.createdAt)
            .limit(limit)
            .for('update', { skipLocked: true }),
        ),
      )
      .returning()
  }

  /** Extends this process's leases on the requests it is working on. */
  async renewLeases({ ids, leaseMs }: { ids: string[]; leaseMs: number }): Promise<void> {
    if (ids.length === 0) return
    const t = computeRequestTable
    await this.db
      .update(t)
      .set({ leaseUntil: new Date(Date.now() + leaseMs) })
      .where(and(inArray(t.id, ids), eq(t.leaseOwner, this.owner)))
  }

  /** Gives unfinished requests back at shutdown, so another replica (or the next start) resumes them at once. */
  async releaseLeases(ids: string[]): Promise<void> {
    if (ids.length === 0) return
    const t = computeRequestTable
    await this.db
      .update(t)
      .set({ leaseOwner: null, leaseUntil: null })
      .where(and(inArray(t.id, ids), eq(t.leaseOwner, this.owner), inArray(t.status, ['queued', 'running'])))
  }

  async saveInput({ requestHash, body }: { requestHash: string; body: unknown }): Promise<void> {
    await this.db.insert(computeInputTable).values({ requestHash, body }).onConflictDoNothing()
  }

  async findInput(requestHash: string): Promise<unknown | undefined> {
    const [row] = await this.db
      .select({ body: computeInputTable.body })
      .from(computeInputTable)
      .where(eq(computeInputTable.requestHash, requestHash.toLowerCase()))
    return row?.body
  }

  /**
   * Open inference jobs on-chain (as indexed) whose request body was uploaded and that the gateway has not taken
   * yet, oldest first.
   */
  async openJobs({ now, limit }: { now: bigint; limit: number }): Promise<OpenJob[]> {
    const rows = await this.database.query<{
      id: string
      client: string
      model: string
      payment: string
      deadline: string
      input_hash: string
      body: unknown
    }>(sql`
      select j.id, j.client, j.model, j.payment::text, j.deadline::text, j.input_hash, i.body
      from ${jobTable} j
      join ${computeInputTable} i on i.request_hash = j.input_hash
      where j.block_to is null and j.status = 'OPEN' and j.kind = 'INFERENCE' and j.deadline > ${now.toString()}::numeric
        and not exists (select 1 from ${computeRequestTable} r where r.id = 'job-' || j.id)
      order by j.created_at_block, j.id::numeric
      limit ${limit}`)
    return rows.map((r) => ({
      jobId: BigInt(r.id),
      client: r.client as Address,
      modelId: r.model as `0x${string}`,
      payment: BigInt(r.payment),
      deadline: BigInt(r.deadline),
      inputHash: r.input_hash as `0x${string}`,
      body: r.body,
    }))
  }

  /** Jobs the gateway computed whose indexed job is still OPEN or ASSIGNED: their receipts are to be submitted. */
  async jobsToSubmit({ limit }: { limit: number }): Promise<JobToSubmit[]> {
    const rows = await this.database.query<{
      id: string
      status: string
      provider: string | null
      client: string
      model: string
      input_hash: string
      payment: string
      worker: string
      result: unknown
    }>(sql`
      select j.id, j.status, j.provider, j.client, j.model, j.input_hash, j.payment::text, r.worker, r.result
      from ${computeRequestTable} r
      join ${jobTable} j on j.block_to is null and r.id = 'job-' || j.id
      where r.status = 'completed' and r.id like 'job-%' and r.error is null and j.status in ('OPEN', 'ASSIGNED')
      order by r.updated_at
      limit ${limit}`)
    return rows.map((r) => ({
      jobId: BigInt(r.id),
      status: r.status as 'OPEN' | 'ASSIGNED',
      assignedTo: r.provider as Address | null,
      client: r.client as Address,
      modelId: r.model as `0x${string}`,
      inputHash: r.input_hash as `0x${string}`,
      payment: BigInt(r.payment),
      worker: r.worker as Address,
      result: r.result,
    }))
  }

  /**
   * Records why a computed job's receipt was not (and will not be) submitted: the request keeps its result and
   * receipt, and leaves the submission queue for good.
   */
  async recordSubmissionFailure({ id, error }: { id: string; error: { reason: string; message: string } }) {
    await this.db
      .update(computeRequestTable)
      .set({ error, updatedAt: new Date() })
      .where(and(eq(computeRequestTable.id, id), eq(computeRequestTable.status, 'completed')))
  }

  /** Completed training jobs: the models they produced, registered again at start. */
  async trainedModels(): Promise<ComputeRequestRow[]> {
    return this.db
      .select()
      .from(computeRequestTable)
      .where(and(eq(computeRequestTable.kind, 'training'), eq(computeRequestTable.status, 'completed')))
  }

  /** Requests by status, for operators and the dashboard. */
  async counts(): Promise<Record<string, number>> {
    const rows = await this.db
      .select({ status: computeRequestTable.status, n: sql<number>`count(*)::int` })
      .from(computeRequestTable)
      .groupBy(computeRequestTable.status)
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]))
  }
}
