import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled'
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo'
import {
  type DynamicModule,
  Inject,
  Injectable,
  type InjectionToken,
  Logger,
  Module,
  type ModuleMetadata,
} from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import { type GqlOptionsFactory, GraphQLModule } from '@nestjs/graphql'
import { apiKeyOf } from '../compute/request-id'
import type { Config } from '../config/config'
import { CONFIG } from '../config/config.module'
import { loadSchemaModel, SCHEMA_PATH } from '../db/schema-file'
import { IndexerModule } from '../indexer/indexer.module'
import { buildApiModel } from './api-model'
import { readDescriptions } from './api-schema'
import { ChainHeadService, deploymentId } from './chain-head.service'
import { EntityRepository } from './entity.repository'
import { EntityQueries } from './entity-queries'
import { formatGraphqlError } from './error-formatter'
import { costLimitPlugin, requestIdPlugin } from './graphql.plugins'
import { jsonBody, rateLimit } from './http-guards'
import { limitRules } from './limits'
import { createApiSchema } from './resolvers'
import { type GraphqlContext, SCHEMA_EXTENSIONS, type SchemaExtension } from './schema-extension'
import { ChangeFeedService } from './subscriptions/change-feed.service'
import { FeedRepository } from './subscriptions/feed.repository'
import { subscriptionsSchema } from './subscriptions/subscription-resolvers'
import { WsService } from './subscriptions/ws.service'
import { subscriptionsOverWebSocketRule } from './subscriptions/ws-server'

export const GRAPHQL_PATH = '/graphql'
const HTTP_GUARDS = Symbol('GRAPHQL_HTTP_GUARDS')

const requestId = (req: IncomingMessage) => {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && /^[\w-]{1,64}$/.test(given) ? given : randomUUID()
}

/** Builds the Apollo options: the schema generated from subgraph/schema.graphql, the limits, the error formatter. */
@Injectable()
class GraphqlOptions implements GqlOptionsFactory<ApolloDriverConfig> {
  private readonly logger = new Logger('GraphQL')

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(EntityRepository) private readonly repository: EntityRepository,
    @Inject(ChainHeadService) private readonly heads: ChainHeadService,
    @Inject(ChangeFeedService) private readonly changes: ChangeFeedService,
    @Inject(WsService) private readonly ws: WsService,
    @Inject(SCHEMA_EXTENSIONS) private readonly extensions: SchemaExtension[],
  ) {}

  async createGqlOptions(): Promise<ApolloDriverConfig> {
    const limits = this.config.graphql
    const api = buildApiModel(loadSchemaModel())
    const schema = createApiSchema({
      api,
      descriptions: readDescriptions(readFileSync(SCHEMA_PATH, 'utf8')),
      extensions: [subscriptionsSchema({ feed: this.changes.feed, maxIn: limits.maxFirst }), ...this.extensions],
    })
    const identity = await this.heads.deployment()
    const fixedId = identity && deploymentId(identity)
    const deployment = (chainId: number | null) => fixedId ?? deploymentId({ chainId: chainId ?? 0, contracts: [] })
    const entities = () =>
      new EntityQueries({ api, repository: this.repository, heads: this.heads, limits, deployment })
    // Subscriptions (graphql-ws) share the path; the upgrade request never reaches Apollo.
    this.ws.configure({
      path: GRAPHQL_PATH,
      schema,
      limits,
      context: () => ({ requestId: randomUUID(), entities: entities() }),
    })
    return {
      path: GRAPHQL_PATH,
      schema,
      context: ({ req }: { req: IncomingMessage }): GraphqlContext => ({
        requestId: requestId(req),
        entities: entities(),
        apiKey: apiKeyOf({ headers: req.headers, apiKeyHeader: limits.rateLimit.apiKeyHeader }),
      }),
      validationRules: [...limitRules(limits), subscriptionsOverWebSocketRule],
      parseOptions: { maxTokens: limits.maxTokens },
      introspection: limits.introspection,
      hideSchemaDetailsFromClientErrors: !limits.suggestions,
      // The page @nestjs/apollo would serve loads its scripts from a CDN: the explorer at /explorer replaces it.
      graphiql: false,
      includeStacktraceInErrorResponses: false,
      // `infer` and `train` start paid work: a request a browser sends cross-site without a CORS preflight (a form
      // post, text/plain, a GET without the apollo-require-preflight header) is refused before it runs.
      csrfPrevention: true,
      autoTransformHttpErrors: false,
      formatError: formatGraphqlError,
      plugins: [
        // Entities carry no cache hints; skipping the per-field bookkeeping is measurable under load.
        ApolloServerPluginCacheControlDisabled(),
        costLimitPlugin({ maxCost: limits.maxCost }),
        requestIdPlugin({ log: (message) => this.logger.error(message) }),
      ],
    }
  }
}

@Module({
  imports: [IndexerModule],
  providers: [
    EntityRepository,
    ChainHeadService,
    FeedRepository,
    ChangeFeedService,
    WsService,
    {
      // Installed while the app is built, ahead of the framework's 100 kB body parser that `listen` adds.
      provide: HTTP_GUARDS,
      inject: [HttpAdapterHost, CONFIG],
      useFactory: (host: HttpAdapterHost, config: Config) => {
        const { rateLimit: rate, maxBodyBytes } = config.graphql
        if (rate.perSecond > 0) host.httpAdapter.use(GRAPHQL_PATH, rateLimit({ config: rate }))
        host.httpAdapter.use(GRAPHQL_PATH, jsonBody({ maxBytes: maxBodyBytes }))
        return true
      },
    },
  ],
  exports: [EntityRepository, ChainHeadService, ChangeFeedService, WsService],
})
class GraphqlCoreModule {}

/** `/graphql` in The Graph's dialect, over the indexed entities, plus what other modules add to it. */
@Module({})
export class GraphqlModule {
  /**
   * `extensions` are tokens of SchemaExtension providers exported by `imports` (the compute module's mutations, for
   * example); the schema is built once, with all of them.
   */
  static forRoot({
    imports = [],
    extensions = [],
  }: {
    imports?: ModuleMetadata['imports']
    extensions?: InjectionToken[]
  } = {}): DynamicModule {
    const extensionsModule: DynamicModule = {
      module: class GraphqlExtensionsModule {},
      imports,
      providers: [
        { provide: SCHEMA_EXTENSIONS, inject: extensions, useFactory: (...found: SchemaExtension[]) => found },
      ],
      exports: [SCHEMA_EXTENSIONS],
    }
    return {
      module: GraphqlModule,
      imports: [
        GraphqlCoreModule,
        GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          imports: [GraphqlCoreModule, extensionsModule],
          useClass: GraphqlOptions,
        }),
      ],
    }
  }
}
