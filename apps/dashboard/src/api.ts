import { type Client, createClient } from 'graphql-ws'
import type { TypedDocumentString } from './gql/graphql'
import { GraphqlError, type Request } from './graphql-error'

export { GraphqlError, type Request }

/** Same origin as the page: the gateway serves both (Vite's dev server proxies /graphql). */
const httpUrl = () => new URL('/graphql', window.location.href).toString()

interface ErrorBody {
  message: string
  extensions?: { code?: string }
}

/** A document typed by codegen (queries.ts) gives its result type; a text built at run time names its own. */
export async function gql<T, V>(query: TypedDocumentString<T, V>, variables?: V): Promise<T>
export async function gql<T>(query: string, variables?: Record<string, unknown>): Promise<T>
export async function gql<T>(query: string | TypedDocumentString<T, unknown>, variables?: unknown): Promise<T> {
  let res: Response
  try {
    res = await fetch(httpUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: query.toString(), variables }),
    })
  } catch (error) {
    throw new GraphqlError(`gateway unreachable: ${(error as Error).message}`)
  }
  let body: { data?: T; errors?: ErrorBody[] }
  try {
    body = await res.json()
  } catch {
    throw new GraphqlError(`HTTP ${res.status} from /graphql`)
  }
  if (body.errors?.length) {
    throw new GraphqlError(
      body.errors.map((e) => e.message).join('; '),
      body.errors.map((e) => e.extensions?.code),
    )
  }
  if (!body.data) throw new GraphqlError(`HTTP ${res.status} from /graphql without data`)
  return body.data
}

export type LiveState = 'connecting' | 'open' | 'closed'

/**
 * The graphql-ws connection every live section shares. It reconnects forever (the gateway may restart) and re-sends
 * active subscriptions itself; `onConnected` (with `again` after a reconnect) lets the page refetch what it may have
 * missed while no subscription was running.
 */
export function connectLive({
  onState,
  onConnected,
}: {
  onState: (state: LiveState) => void
  onConnected: (again: boolean) => void
}): Client {
  let connectedBefore = false
  return createClient({
    url: httpUrl().replace(/^http/, 'ws'),
    lazy: false,
    keepAlive: 15_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    on: {
      connecting: () => onState('connecting'),
      connected: () => {
        onState('open')
        onConnected(connectedBefore)
        connectedBefore = true
      },
      closed: () => onState('closed'),
    },
  })
}

/** Subscribes with `next` called for each result's data; errors are reported to the console and not retried. */
export function subscribe<T, V extends Record<string, unknown>>(
  client: Client,
  query: TypedDocumentString<T, V>,
  variables: V,
  next: (data: T) => void,
): () => void {
  return client.subscribe<T>(
    { query: query.toString(), variables },
    {
      next: (result) => {
        if (result.errors?.length) console.warn('subscription error', result.errors)
        if (result.data) next(result.data as T)
      },
      error: (error) => console.warn('subscription failed', error),
      complete: () => {},
    },
  )
}
