import type { EntityQueries } from './entity-queries'

/** What every resolver receives: the request's id (for logs) and its batched entity reads. */
export interface GraphqlContext {
  requestId: string
  entities: EntityQueries
  /** The API key the request presented, which scopes the compute request ids it chooses. */
  apiKey?: string
}

/** Hooks of one field: how it resolves and, on `Subscription`, how it subscribes. */
export interface FieldHooks {
  resolve?: (parent: never, args: never, ctx: GraphqlContext) => unknown
  subscribe?: (parent: unknown, args: never, ctx: GraphqlContext) => unknown
}

/**
 * What a module adds to the API beside the entities: SDL (new types, `extend type Query`, `extend type Mutation`,
 * `extend type Subscription`) and the hooks of the fields it declares.
 */
export interface SchemaExtension {
  typeDefs: string
  resolvers: Record<string, Record<string, FieldHooks>>
}

/** Injection token: the SchemaExtension[] the GraphQL module builds into the schema (see GraphqlModule.forRoot). */
export const SCHEMA_EXTENSIONS = Symbol('SCHEMA_EXTENSIONS')
