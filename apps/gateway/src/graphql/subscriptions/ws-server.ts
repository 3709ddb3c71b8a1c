import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import type { ServerOptions } from 'graphql-ws'
import { useServer } from 'graphql-ws/use/ws'
import { WebSocketServer } from 'ws'
import type { GraphqlConfig } from '../../config/config'
import { formatGraphqlError, INTERNAL_MESSAGE, isInternalError } from '../error-formatter'
import { LimitExceededError } from '../graphql.errors'
import {
  type DocumentNode,
  execute,
  GraphQLError,
  type GraphQLFormattedError,
  GraphQLSchema,
  getOperationAST,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  subscribe,
  type ValidationRule,
  validate,
} from '../graphql-js'
import { costError, estimateCost, limitRules } from '../limits'
import type { GraphqlContext } from '../schema-extension'

export interface WsServerOptions {
  server: Server
  path: string
  schema: GraphQLSchema
  limits: GraphqlConfig
  /** A fresh context: each delivered event is executed with its own DataLoaders, as one query would be. */
  context: () => GraphqlContext
  log: (message: string) => void
}

/** Over HTTP a subscription could only fail inside Apollo; this says where it is served instead. */
export const subscriptionsOverWebSocketRule: ValidationRule = (context) => ({
  OperationDefinition(operation) {
    if (operation.operation !== 'subscription') return
    context.reportError(
      new GraphQLError('Subscriptions are served over WebSocket (graphql-ws protocol) on this path, not over HTTP', {
        nodes: operation,
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    )
  },
})

/**
 * A WebSocket carries no CORS check (any page may open one to any host), so nothing that starts work runs over it:
 * mutations are refused here and served over HTTP, where CSRF prevention applies.
 */
export const mutationsOverHttpRule: ValidationRule = (context) => ({
  OperationDefinition(operation) {
    if (operation.operation !== 'mutation') return
    context.reportError(
      new GraphQLError(
        'Mutations are served over HTTP (POST with content-type: application/json) on this path, not over WebSocket',
        { nodes: operation, extensions: { code: 'BAD_USER_INPUT' } },
      ),
    )
  },
})

// graphql-js's suggestion wording; stripped like Apollo's hideSchemaDetailsFromClientErrors does over HTTP.
const SUGGESTION = / ?Did you mean(.+?)\?$/

/**
 * The row estimate of a subscription: `estimateCost` measures from the query root, so the operation is measured
 * as a query over a schema whose query root is `Subscription`. Each event costs what such a query would.
 */
function operationCost({
  schema,
  subscriptionRoot,
  document,
  operationName,
  variables,
}: {
  schema: GraphQLSchema
  subscriptionRoot?: GraphQLSchema
  document: DocumentNode
  operationName?: string | null
  variables: Record<string, unknown>
}) {
  const operation = getOperationAST(document, operationName)
  if (operation?.operation !== 'subscription' || !subscriptionRoot) {
    return estimateCost({ schema, document, operationName, variables })
  }
  const asQuery = {
    ...document,
    definitions: document.definitions.map((d) => (d === operation ? { ...operation, operation: 'query' } : d)),
  } as DocumentNode
  return estimateCost({ schema: subscriptionRoot, document: asQuery, operationName, variables })
}

/**
 * graphql-ws on the HTTP server's upgrade requests for `path`: the same parsing, validation, depth, alias and cost
 * limits and error formatter as queries over HTTP, plus a cap on active operations per connection.
 */
export function startWsServer({ server, path, schema, limits, context, log }: WsServerOptions) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxBodyBytes })
  const subscriptionType = schema.getSubscriptionType()
  const subscriptionRoot = subscriptionType ? new GraphQLSchema({ query: subscriptionType }) : undefined
  const rules = [
    ...specifiedRules,
    mutationsOverHttpRule,
    ...limitRules(limits),
    ...(limits.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ]
  const format = (errors: readonly GraphQLError[], requestId: string): GraphQLFormattedError[] =>
    errors.map((error) => {
      const formatted = formatGraphqlError(error.toJSON(), error)
      const message = limits.suggestions ? formatted.message : formatted.message.replace(SUGGESTION, '')
      if (formatted.message !== INTERNAL_MESSAGE || !isInternalError(error)) return { ...formatted, message }
      const thrown = error.originalError ?? error
      log(`subscription ${requestId}: ${thrown.stack ?? thrown.message}`)
      return { ...formatted, extensions: { ...formatted.extensions, requestId } }
    })
  const requestIds = new WeakMap<object, Map<string, string>>()
  const requestIdOf = (ctx: object, id: string) => requestIds.get(ctx)?.get(id) ?? id

  const options: ServerOptions = {
    schema,
    onSubscribe: (ctx, id, payload) => {
      const active = Object.keys(ctx.subscriptions).length
      const max = limits.maxSubscriptionsPerConnection
      if (active > max) {
        return [
          new LimitExceededError(
            `This connection has ${max} active operations, the limit (GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION); ` +
              'complete one first',
          ),
        ]
      }
      let document: DocumentNode
      try {
        document = parse(payload.query, { maxTokens: limits.maxTokens })
      } catch (error) {
        return [error as GraphQLError]
      }
      const errors = validate(schema, document, rules)
      if (errors.length > 0) return errors
      const variables = payload.variables ?? {}
      const cost = operationCost({
        schema,
        subscriptionRoot,
        document,
        operationName: payload.operationName,
        variables,
      })
      if (cost > limits.maxCost) return [costError({ cost, maxCost: limits.maxCost })]
      const contextValue = context()
      const ids = requestIds.get(ctx) ?? new Map<string, string>()
      requestIds.set(ctx, ids.set(id, contextValue.requestId))
      return { schema, document, operationName: payload.operationName, variableValues: variables, contextValue }
    },
    // Each event runs with fresh loaders: a block's rows can change under a reorg, so nothing is cached across events.
    execute: (args) =>
      execute({ ...args, contextValue: { ...(args.contextValue as GraphqlContext), entities: context().entities } }),
    subscribe,
    onNext: (ctx, id, _payload, _args, result) => {
      if (!result.errors) return
      return { ...result, errors: format(result.errors, requestIdOf(ctx, id)) }
    },
    onError: (ctx, id, _payload, errors) => format(errors, requestIdOf(ctx, id)),
    onComplete: (ctx, id) => {
      requestIds.get(ctx)?.delete(id)
    },
  }
  const disposable = useServer(options, wss)

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname
    // Other upgrade listeners may own other paths; an unknown path is refused by whoever owns none.
    if (pathname !== path) return
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  }
  server.on('upgrade', onUpgrade)
  return {
    async close() {
      server.off('upgrade', onUpgrade)
      await disposable.dispose()
    },
  }
}
