import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core'
import { uint256 } from './columns'

export * from './entities.generated'

const int8 = (name: string) => bigint(name, { mode: 'bigint' })

/** Every decoded event, append-only: analysts read it, and the entity tables can be rebuilt from it. */
export const chainEventTable = pgTable(
  'chain_event',
  {
    chainId: integer('chain_id').notNull(),
    blockNumber: int8('block_number').notNull(),
    logIndex: integer('log_index').notNull(),
    blockHash: text('block_hash').notNull(),
    transactionHash: text('transaction_hash').notNull(),
    transactionIndex: integer('transaction_index').notNull(),
    address: text('address').notNull(),
    contract: text('contract').notNull(),
    name: text('name').notNull(),
    /** Decoded arguments; uint256 values as decimal strings. */
    args: jsonb('args').notNull(),
    timestamp: int8('timestamp').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.chainId, t.blockNumber, t.logIndex] }),
    index('chain_event_name').on(t.name, t.blockNumber),
  ],
)

/** Blocks the indexer has seen: those with events, and every block followed at the head (for reorg checks). */
export const blockTable = pgTable(
  'block',
  {
    chainId: integer('chain_id').notNull(),
    number: int8('number').notNull(),
    hash: text('hash').notNull(),
    parentHash: text('parent_hash'),
    timestamp: int8('timestamp').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.chainId, t.number] }),
    index('block_hash').on(t.hash),
    // Receipt verification reads the state at the newest block at or before a receipt's issuedAt.
    index('block_timestamp').on(t.chainId, t.timestamp),
  ],
)

/** Where indexing stands; written in the same transaction as the entities it describes. */
export const syncStateTable = pgTable('sync_state', {
  chainId: integer('chain_id').primaryKey(),
  blockNumber: int8('block_number').notNull(),
  blockHash: text('block_hash').notNull(),
  blockTimestamp: int8('block_timestamp').notNull(),
  finalizedBlock: int8('finalized_block').notNull(),
  hasIndexingErrors: boolean('has_indexing_errors').notNull().default(false),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
})

/**
 * Inference requests and training jobs the gateway accepted: the queue the router works from, kept so that a
 * restart (or another replica, once the lease lapses) finishes what was accepted.
 */
export const computeRequestTable = pgTable(
  'compute_request',
  {
    /** Assigned by the gateway (128 random bits, or `job-<id>` for an on-chain job): who holds it may read it. */
    id: text('id').primaryKey(),
    /**
     * A caller's own request id, scoped to that caller: sha256 over the caller (API key, requester) and the id, so
     * two callers' ids never meet and one cannot claim or read another's.
     */
    callerKey: text('caller_key'),
    kind: text('kind').notNull().$type<'inference' | 'training'>(),
    status: text('status').notNull().$type<'queued' | 'running' | 'completed' | 'failed'>(),
    modelId: text('model_id'),
    requester: text('requester').notNull(),
    /** On-chain job id, decimal; '0' for off-chain requests. */
    jobId: text('job_id').notNull().default('0'),
    /** Highest price per unit the requester accepts, decimal; null for no cap. */
    maxPrice: text('max_price'),
    /** The request as workers receive it (model, input tensor in wire form, parameters; or the training task). */
    body: jsonb('body').notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** Provider address of the worker whose result was accepted. */
    worker: text('worker'),
    result: jsonb('result'),
    error: jsonb('error'),
    /** The gateway process working on it, until when; another picks it up after the lease lapses. */
    leaseOwner: text('lease_owner'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /** After this the request fails with DEADLINE_EXCEEDED instead of waiting for a worker. */
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('compute_request_pending').on(t.status, t.leaseUntil),
    index('compute_request_job').on(t.jobId),
    uniqueIndex('compute_request_caller_key').on(t.callerKey),
  ],
)

/**
 * Request bodies uploaded for on-chain jobs, by the hash a client puts in `createJob(…, inputHash, …)`: the chain
 * holds only the hash, and the gateway needs the bytes to hand the job to a worker.
 */
export const computeInputTable = pgTable('compute_input', {
  requestHash: text('request_hash').primaryKey(),
  body: jsonb('body').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
})

/**
 * Every receipt the gateway handed out, with its bundle: the replay check's memory ((worker, nonce) is used once)
 * and what `receipt(digest)` returns. Written by the router, read by verification.
 */
export const computeReceiptTable = pgTable(
  'compute_receipt',
  {
    /** EIP-712 digest, lower-case hex. */
    digest: text('digest').primaryKey(),
    /** Lower-case address, as the entity tables store them. */
    worker: text('worker').notNull(),
    nonce: uint256('nonce').notNull(),
    requester: text('requester').notNull(),
    modelId: text('model_id').notNull(),
    requestHash: text('request_hash').notNull(),
    outputHash: text('output_hash').notNull(),
    jobId: uint256('job_id').notNull(),
    issuedAt: uint256('issued_at').notNull(),
    /** The receipt bundle's JSON (receipt-bundle.ts), bigints as decimal strings. */
    bundle: jsonb('bundle').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('compute_receipt_worker_nonce').on(t.worker, t.nonce), index('compute_receipt_job').on(t.jobId)],
)
