import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server'
import { Plugin } from '@nestjs/apollo'
import { Inject } from '@nestjs/common'
import { getOperationAST } from '../graphql/graphql-js'
import { recordGraphqlResponse } from './metrics'
import { MetricsService } from './metrics.service'

/** Counts and times every GraphQL response; the Apollo driver picks up `@Plugin()` providers from any module. */
@Plugin()
export class GraphqlMetricsPlugin implements ApolloServerPlugin {
  constructor(@Inject(MetricsService) private readonly service: MetricsService) {}

  async requestDidStart(): Promise<GraphQLRequestListener<BaseContext>> {
    const started = performance.now()
    const metrics = this.service.metrics
    return {
      async willSendResponse({ response, operation, document, request }) {
        const body = response.body
        // A document that parsed but failed validation has no resolved operation yet; its type is still known.
        const type = operation ?? (document && getOperationAST(document, request.operationName))
        recordGraphqlResponse({
          metrics,
          operation: type?.operation ?? 'unknown',
          errors: body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors,
          seconds: (performance.now() - started) / 1_000,
        })
      },
    }
  }
}
