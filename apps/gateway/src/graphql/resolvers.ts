import type { ApiModel } from './api-model'
import { type Descriptions, renderApiSchema } from './api-schema'
import type { CollectionArgs, ScopedRow } from './entity-queries'
import { buildSchema, type GraphQLObjectType, type GraphQLScalarType, type GraphQLSchema } from './graphql-js'
import { scalars } from './scalars'
import type { GraphqlContext, SchemaExtension } from './schema-extension'

type Resolver = (
  parent: ScopedRow,
  args: CollectionArgs & { id: string; interval: string; current?: string | null },
  ctx: GraphqlContext,
) => unknown

/** One resolver per root field and relation field, each handing its arguments to the request's EntityQueries. */
export function buildResolvers(api: ApiModel): Record<string, Record<string, Resolver>> {
  const query: Record<string, Resolver> = {
    _meta: (_, args, ctx) => ctx.entities.meta({ block: args.block }),
  }
  const types: Record<string, Record<string, Resolver>> = { Query: query }
  for (const e of api.entities.values()) {
    const entity = e.entity.name
    query[e.singular] = (_, args, ctx) => ctx.entities.one({ entity, id: args.id, block: args.block })
    query[e.plural] = (_, args, ctx) => ctx.entities.list({ entity, args })
    const fields: Record<string, Resolver> = {}
    for (const field of e.relations.keys()) {
      fields[field] = (parent, args, ctx) => ctx.entities.related({ entity, field, parent, args })
    }
    types[entity] = fields
  }
  for (const a of api.aggregations.values()) {
    const aggregation = a.entity.name
    query[a.plural] = (_, args, ctx) => ctx.entities.aggregation({ aggregation, args })
    const fields: Record<string, Resolver> = {}
    for (const field of a.relations.keys()) {
      fields[field] = (parent, args, ctx) => ctx.entities.related({ entity: aggregation, field, parent, args })
    }
    types[aggregation] = fields
  }
  return types
}

/**
 * The executable API schema: SDL rendered from the model, with resolvers and graph-node's scalars attached, plus
 * what each extension adds (the `Subscription` root is one of them).
 */
export function createApiSchema({
  api,
  descriptions,
  extensions = [],
}: {
  api: ApiModel
  descriptions?: Descriptions
  /** Root fields and types other modules add (subscriptions, compute, verification): SDL plus their field hooks. */
  extensions?: SchemaExtension[]
}): GraphQLSchema {
  const sdl = [renderApiSchema({ api, descriptions })]
  // `extend type Mutation` needs a Mutation to extend; the entity API itself is read-only.
  if (extensions.some((e) => /\bextend\s+type\s+Mutation\b/.test(e.typeDefs))) sdl.push('type Mutation')
  for (const e of extensions) sdl.push(e.typeDefs)
  const schema = buildSchema(sdl.join('\n\n'))
  for (const [typeName, resolvers] of Object.entries(buildResolvers(api))) {
    const fields = (schema.getType(typeName) as GraphQLObjectType).getFields()
    for (const [name, resolve] of Object.entries(resolvers)) {
      const field = fields[name]
      if (!field) throw new Error(`resolver for ${typeName}.${name}, which the schema lacks`)
      field.resolve = resolve as never
    }
  }
  for (const hooksByType of extensions.map((e) => e.resolvers)) {
    for (const [typeName, hooks] of Object.entries(hooksByType)) {
      const type = schema.getType(typeName) as GraphQLObjectType | undefined
      if (!type) throw new Error(`field hooks for ${typeName}, which the schema lacks`)
      const fields = type.getFields()
      for (const [name, hook] of Object.entries(hooks)) {
        if (!fields[name]) throw new Error(`field hooks for ${typeName}.${name}, which the schema lacks`)
        Object.assign(fields[name], hook)
      }
    }
  }
  for (const [name, impl] of Object.entries(scalars)) {
    const type = schema.getType(name) as GraphQLScalarType
    type.serialize = impl.serialize
    type.parseValue = impl.parseValue
    type.parseLiteral = impl.parseLiteral
  }
  return schema
}
