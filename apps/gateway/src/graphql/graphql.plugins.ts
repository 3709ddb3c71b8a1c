import type { ApolloServerPlugin } from '@apollo/server'
import { INTERNAL_MESSAGE, isInternalError } from './error-formatter'
import { costError, estimateCost } from './limits'
import type { GraphqlContext } from './schema-extension'

/** Refuses an operation whose estimated row count exceeds `maxCost`, once its variables are known. */
export function costLimitPlugin({ maxCost }: { maxCost: number }): ApolloServerPlugin<GraphqlContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, schema, operationName, request }) {
          const cost = estimateCost({ schema, document, operationName, variables: request.variables ?? {} })
          if (cost > maxCost) throw costError({ cost, maxCost })
        },
      }
    },
  }
}

/**
 * Logs internal errors with their stack and the request id, answers with that id (header `x-request-id`, and
 * `extensions.requestId` on "Internal server error") so a report can be matched to the log line.
 */
export function requestIdPlugin({ log }: { log: (message: string) => void }): ApolloServerPlugin<GraphqlContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            if (!isInternalError(error)) continue
            const thrown = error.originalError ?? error
            const cause = thrown.cause instanceof Error ? `\ncaused by: ${thrown.cause.message}` : ''
            log(`request ${contextValue.requestId}: ${thrown.stack ?? thrown.message}${cause}`)
          }
        },
        async willSendResponse({ response, contextValue }) {
          response.http.headers.set('x-request-id', contextValue.requestId)
          if (response.body.kind !== 'single') return
          for (const e of response.body.singleResult.errors ?? []) {
            if (e.message === INTERNAL_MESSAGE) {
              ;(e as { extensions?: Record<string, unknown> }).extensions = {
                ...e.extensions,
                requestId: contextValue.requestId,
              }
            }
          }
        },
      }
    },
  }
}
