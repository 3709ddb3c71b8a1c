import { BadUserInputError, ConflictError, NotFoundError, UnavailableError } from '../graphql/graphql.errors'

/**
 * Why a compute request was refused or failed, beside the GraphQL code: clients tell "no worker holds this model"
 * from "all workers busy" from "price too low" by `extensions.reason` (GraphQL) or `error.reason` (HTTP).
 */
export type ComputeReason =
  | 'BAD_INPUT'
  | 'UNKNOWN_MODEL'
  | 'NO_WORKER_FOR_MODEL'
  | 'WORKERS_BUSY'
  | 'PRICE_TOO_LOW'
  | 'DEADLINE_EXCEEDED'
  | 'WORKER_FAILED'
  | 'UNKNOWN_REQUEST'
  | 'REQUEST_ID_REUSED'

/** The request itself is wrong: a tensor of the wrong shape, NaN inputs, a bad address. */
export class InvalidComputeInputError extends BadUserInputError {
  override name = 'InvalidComputeInputError'
  readonly reason: ComputeReason = 'BAD_INPUT'
}

export class UnknownModelError extends NotFoundError {
  override name = 'UnknownModelError'
  readonly reason: ComputeReason = 'UNKNOWN_MODEL'
}

export class UnknownRequestError extends NotFoundError {
  override name = 'UnknownRequestError'
  readonly reason: ComputeReason = 'UNKNOWN_REQUEST'
}

/** A caller's request id came back with another model, input, parameters or price cap than it first named. */
export class RequestIdReusedError extends ConflictError {
  override name = 'RequestIdReusedError'
  readonly reason: ComputeReason = 'REQUEST_ID_REUSED'
}

/** The requester's price cap is below every worker that holds the model. */
export class PriceTooLowError extends BadUserInputError {
  override name = 'PriceTooLowError'
  readonly reason: ComputeReason = 'PRICE_TOO_LOW'
}

/** The model is known, but no admitted worker holds it now. */
export class NoWorkerForModelError extends UnavailableError {
  override name = 'NoWorkerForModelError'
  readonly reason: ComputeReason = 'NO_WORKER_FOR_MODEL'
}

/** Every worker holding the model is at capacity (or suspended); retry after a moment. */
export class WorkersBusyError extends UnavailableError {
  override name = 'WorkersBusyError'
  readonly reason: ComputeReason = 'WORKERS_BUSY'
}

export class ComputeDeadlineError extends UnavailableError {
  override name = 'ComputeDeadlineError'
  readonly reason: ComputeReason = 'DEADLINE_EXCEEDED'
}

/** Every attempt failed on a worker (errors, disconnects, invalid receipts). */
export class WorkerFailedError extends UnavailableError {
  override name = 'WorkerFailedError'
  readonly reason: ComputeReason = 'WORKER_FAILED'
}

export const reasonOf = (error: unknown): ComputeReason | undefined =>
  typeof error === 'object' && error !== null && 'reason' in error ? (error.reason as ComputeReason) : undefined
