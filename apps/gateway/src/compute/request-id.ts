import { createHash, randomBytes } from 'node:crypto'
import { canonicalJson } from '@computegraph/gpu-worker/canonical-bytes'
import type { Address } from 'viem'
import { RequestIdReusedError } from './compute.errors'

/**
 * Who sent a request, for the ids it chooses: the API key it presented (any value of the API-key header, configured
 * or not: only its sender knows it) and the requester address it names. Without a key the requester is only
 * claimed, so anyone naming the same requester shares that caller's ids: send a key to keep them private.
 */
export interface Caller {
  apiKey?: string
  requester: Address
}

/** What a caller may choose as its own request id. */
export const CALLER_REQUEST_ID = /^[A-Za-z0-9_-]{1,128}$/

/** A gateway-assigned request id: 128 random bits, so that holding one is what lets a caller read it. */
export function newRequestId(): string {
  return randomBytes(16).toString('hex')
}

/** The value of the API-key header, when the request carried exactly one. */
export function apiKeyOf({
  headers,
  apiKeyHeader,
}: {
  headers: Record<string, string | string[] | undefined>
  apiKeyHeader: string
}): string | undefined {
  const value = headers[apiKeyHeader.toLowerCase()]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * The stored key of a caller's own request id: sha256 over the caller and the id, so equal ids of two callers never
 * meet, and the key reveals neither the API key nor the id.
 */
export function callerKey({ caller, requestId }: { caller: Caller; requestId: string }): string {
  const scope = canonicalJson({ apiKey: caller.apiKey ?? null, requester: caller.requester.toLowerCase(), requestId })
  return createHash('sha256').update(scope).digest('hex')
}

/** The parts of a request that one caller id must always name the same way. */
export type RequestFields = Record<string, unknown>

/**
 * Refuses a caller id reused for another request (409), naming what differs; a request equal to the first in every
 * field is a retry and passes.
 */
export function checkSameRequest({
  requestId,
  stored,
  incoming,
}: {
  requestId: string
  stored: RequestFields
  incoming: RequestFields
}): void {
  const differ = Object.keys({ ...stored, ...incoming }).filter(
    (k) => canonicalJson(stored[k] ?? null) !== canonicalJson(incoming[k] ?? null),
  )
  if (differ.length === 0) return
  throw new RequestIdReusedError(
    `requestId ${JSON.stringify(requestId)} was used before for a different request: ${differ.join(', ')} ` +
      `${differ.length === 1 ? 'differs' : 'differ'}; send a new requestId for a new request`,
  )
}
