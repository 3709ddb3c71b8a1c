import { Inject, Injectable } from '@nestjs/common'
import { and, eq, or } from 'drizzle-orm'
import type { Address, Hex } from 'viem'
import type { Database } from '../../db/database'
import { DATABASE } from '../../db/db.module'
import { computeReceiptTable } from '../../db/schema'
import { storeError } from '../../graphql/entity.repository'
import { type BundleAttestation, parseReceiptBundle, type ReceiptBundle, receiptBundleToJson } from './receipt-bundle'
import { receiptDigest } from './receipt-crypto'

export type RecordOutcome =
  | { status: 'recorded'; digest: Hex }
  /** The same receipt was recorded before: nothing changed. */
  | { status: 'duplicate'; digest: Hex }
  /** The worker already used this nonce for another receipt: a replay, or a worker reusing nonces. */
  | { status: 'nonce-reused-with-different-digest'; digest: Hex; existingDigest: Hex }

/** The receipt store: every receipt the gateway handed out, unique by digest and by (worker, nonce). */
@Injectable()
export class ReceiptRepository {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  /** Records a bundle the gateway returns; says whether it was new, already there, or a reused nonce. */
  async record(bundle: ReceiptBundle): Promise<RecordOutcome> {
    const { receipt } = bundle
    const digest = receiptDigest({ domain: bundle.domain, receipt })
    const worker = receipt.worker.toLowerCase()
    try {
      // One statement for both unique keys; a conflict on either inserts nothing and is told apart below.
      const inserted = await this.database.db
        .insert(computeReceiptTable)
        .values({
          digest,
          worker,
          nonce: receipt.nonce,
          requester: receipt.requester.toLowerCase(),
          modelId: receipt.modelId,
          requestHash: receipt.requestHash,
          outputHash: receipt.outputHash,
          jobId: receipt.jobId,
          issuedAt: receipt.issuedAt,
          bundle: receiptBundleToJson(bundle),
        })
        .onConflictDoNothing()
        .returning({ digest: computeReceiptTable.digest })
      if (inserted.length > 0) return { status: 'recorded', digest }
      const existing = await this.database.db
        .select({ digest: computeReceiptTable.digest })
        .from(computeReceiptTable)
        .where(
          or(
            eq(computeReceiptTable.digest, digest),
            and(eq(computeReceiptTable.worker, worker), eq(computeReceiptTable.nonce, receipt.nonce)),
          ),
        )
      if (existing.some((r) => r.digest === digest)) return { status: 'duplicate', digest }
      const other = existing[0]
      if (!other) throw new Error(`receipt ${digest} was neither inserted nor found: a concurrent delete?`)
      return { status: 'nonce-reused-with-different-digest', digest, existingDigest: other.digest as Hex }
    } catch (error) {
      throw storeError(error)
    }
  }

  /** The stored bundle with this digest, or null. */
  async find(digest: Hex): Promise<ReceiptBundle | null> {
    try {
      const rows = await this.database.db
        .select({ bundle: computeReceiptTable.bundle })
        .from(computeReceiptTable)
        .where(eq(computeReceiptTable.digest, digest.toLowerCase()))
      const row = rows[0]
      return row ? parseReceiptBundle(row.bundle) : null
    } catch (error) {
      throw storeError(error)
    }
  }

  /**
   * Replaces the stored bundle's attestation with a later one (a spot check's REEXECUTED_MATCH or DISPUTED), so that
   * verifiers asking this store see the gateway's latest claim, not the signature-only one a client may still hold.
   */
  async replaceAttestation({ digest, attestation }: { digest: Hex; attestation: BundleAttestation }): Promise<void> {
    const bundle = await this.find(digest)
    if (!bundle) return
    try {
      await this.database.db
        .update(computeReceiptTable)
        .set({ bundle: receiptBundleToJson({ ...bundle, attestation }) })
        .where(eq(computeReceiptTable.digest, digest.toLowerCase()))
    } catch (error) {
      throw storeError(error)
    }
  }

  /** Digests of the stored receipts with this worker and nonce (at most one, by the unique index). */
  async digestsWithNonce({ worker, nonce }: { worker: Address; nonce: bigint }): Promise<Hex[]> {
    try {
      const rows = await this.database.db
        .select({ digest: computeReceiptTable.digest })
        .from(computeReceiptTable)
        .where(and(eq(computeReceiptTable.worker, worker.toLowerCase()), eq(computeReceiptTable.nonce, nonce)))
      return rows.map((r) => r.digest as Hex)
    } catch (error) {
      throw storeError(error)
    }
  }
}
