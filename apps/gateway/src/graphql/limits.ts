import { DEFAULT_FIRST } from './api-model'
import { LimitExceededError } from './graphql.errors'
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
  type ValueNode,
} from './graphql-js'

interface Stats {
  depth: number
  aliases: number
  directives: number
}

const fragmentsOf = (doc: DocumentNode) =>
  new Map(
    doc.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  )

/**
 * Depth, aliases and directives of an operation with its fragments expanded. Fragments are measured once and
 * reused, so a document that spreads fragments exponentially costs linear time to measure.
 */
export function operationStats({
  operation,
  document,
}: {
  operation: OperationDefinitionNode
  document: DocumentNode
}) {
  const fragments = fragmentsOf(document)
  const memo = new Map<string, Stats>()
  const measure = (set: SelectionSetNode): Stats => {
    const out: Stats = { depth: 0, aliases: 0, directives: 0 }
    const add = (s: Stats, depthOffset: number) => {
      out.depth = Math.max(out.depth, s.depth + depthOffset)
      out.aliases += s.aliases
      out.directives += s.directives
    }
    for (const sel of set.selections) {
      out.directives += sel.directives?.length ?? 0
      if (sel.kind === Kind.FIELD) {
        if (sel.alias) out.aliases++
        // Introspection's nesting is bounded by the schema and reads no rows.
        if (sel.name.value.startsWith('__')) continue
        add(sel.selectionSet ? measure(sel.selectionSet) : { depth: 0, aliases: 0, directives: 0 }, 1)
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        add(measure(sel.selectionSet), 0)
      } else {
        const name = sel.name.value
        let s = memo.get(name)
        if (!s) {
          const fragment = fragments.get(name)
          // A cycle reads as empty here; graphql's NoFragmentCycles rule reports it.
          memo.set(name, { depth: 0, aliases: 0, directives: 0 })
          s = fragment ? measure(fragment.selectionSet) : { depth: 0, aliases: 0, directives: 0 }
          s.directives += fragment?.directives?.length ?? 0
          memo.set(name, s)
        }
        add(s, 0)
      }
    }
    return out
  }
  const stats = measure(operation.selectionSet)
  stats.directives += operation.directives?.length ?? 0
  return stats
}

/** Validation rules for depth, aliases and directives; each error says what was found and which limit it broke. */
export function limitRules({
  maxDepth,
  maxAliases,
  maxDirectives,
}: {
  maxDepth: number
  maxAliases: number
  maxDirectives: number
}): ValidationRule[] {
  const rule: ValidationRule = (context) => ({
    OperationDefinition(operation) {
      const s = operationStats({ operation, document: context.getDocument() })
      const report = (message: string) => context.reportError(new LimitExceededError(message, { nodes: operation }))
      if (s.depth > maxDepth)
        report(`Query is nested ${s.depth} levels deep; the limit is ${maxDepth} (GRAPHQL_MAX_DEPTH)`)
      if (s.aliases > maxAliases)
        report(`Query uses ${s.aliases} aliases; the limit is ${maxAliases} (GRAPHQL_MAX_ALIASES)`)
      if (s.directives > maxDirectives) {
        report(`Query uses ${s.directives} directives; the limit is ${maxDirectives} (GRAPHQL_MAX_DIRECTIVES)`)
      }
    },
  })
  return [rule]
}

/** An enum argument's value, from a literal or a variable (else the variable's default). */
function enumArgument(
  field: FieldNode,
  name: string,
  variables: Record<string, unknown>,
  defaults: Map<string, ValueNode>,
): string | undefined {
  const value = field.arguments?.find((a) => a.name.value === name)?.value
  const literal = (v: ValueNode | undefined): string | undefined => {
    if (!v) return undefined
    if (v.kind === Kind.ENUM) return v.value
    if (v.kind === Kind.VARIABLE) {
      const given = variables[v.name.value]
      return typeof given === 'string' ? given : literal(defaults.get(v.name.value))
    }
    return undefined
  }
  return literal(value)
}

function intArgument(
  field: FieldNode,
  name: string,
  variables: Record<string, unknown>,
  defaults: Map<string, ValueNode>,
) {
  const value = field.arguments?.find((a) => a.name.value === name)?.value
  const literal = (v: ValueNode | undefined): number | undefined => {
    if (!v) return undefined
    if (v.kind === Kind.INT) return Number(v.value)
    if (v.kind === Kind.VARIABLE) {
      const given = variables[v.name.value]
      return typeof given === 'number' ? given : literal(defaults.get(v.name.value))
    }
    return undefined
  }
  return literal(value)
}

/**
 * Estimates the rows an operation reads: each list reads `skip + first` rows for every row of the lists around it,
 * each single entity one; an aggregation with `current: include` reads `first` more for the bucket in progress.
 * Arguments come from literals or variables, else graph-node's defaults.
 */
export function estimateCost({
  schema,
  document,
  operationName,
  variables = {},
}: {
  schema: GraphQLSchema
  document: DocumentNode
  operationName?: string | null
  variables?: Record<string, unknown>
}): number {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  )
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0]
  const root = schema.getQueryType()
  if (operation?.operation !== 'query' || !root) return 0
  const fragments = fragmentsOf(document)
  const defaults = new Map(
    (operation.variableDefinitions ?? [])
      .filter((v) => v.defaultValue)
      .map((v) => [v.variable.name.value, v.defaultValue as ValueNode]),
  )
  const memo = new Map<string, number>()
  // Cost is linear in the parent's row count, so each selection set is costed per parent row and scaled.
  const perRow = (set: SelectionSetNode, type: GraphQLNamedType): number => {
    if (!isObjectType(type)) return 0
    let total = 0
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value.startsWith('__')) continue
        const def = type.getFields()[sel.name.value] as GraphQLField<unknown, unknown> | undefined
        if (!def) continue
        const named = getNamedType(def.type)
        if (!isObjectType(named)) continue
        const child = sel.selectionSet ? perRow(sel.selectionSet, named) : 0
        if (isListType(getNullableType(def.type))) {
          const first = Math.max(0, intArgument(sel, 'first', variables, defaults) ?? DEFAULT_FIRST)
          const skip = Math.max(0, intArgument(sel, 'skip', variables, defaults) ?? 0)
          total += first + skip + first * child
          // The bucket in progress is aggregated from its data points at query time: a page's worth more reading.
          if (enumArgument(sel, 'current', variables, defaults) === 'include') total += first
        } else {
          total += 1 + child
        }
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const on = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : type
        total += on ? perRow(sel.selectionSet, on) : 0
      } else {
        const name = sel.name.value
        let cost = memo.get(name)
        if (cost === undefined) {
          memo.set(name, 0)
          const fragment = fragments.get(name)
          const on = fragment && schema.getType(fragment.typeCondition.name.value)
          cost = fragment && on ? perRow(fragment.selectionSet, on) : 0
          memo.set(name, cost)
        }
        total += cost
      }
    }
    return total
  }
  return perRow(operation.selectionSet, root)
}

/** The error for an operation estimated above `maxCost` rows. */
export function costError({ cost, maxCost }: { cost: number; maxCost: number }) {
  return new LimitExceededError(
    `Query would read about ${cost} rows; the limit is ${maxCost} (GRAPHQL_MAX_COST). ` +
      'Lower first on nested lists, or page through them',
    { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } },
  )
}
