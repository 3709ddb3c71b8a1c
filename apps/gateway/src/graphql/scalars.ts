import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from './graphql-js'

const fail = (message: string) => new GraphQLError(message)

/** A decimal integer string, canonical (no leading zeros or plus sign); numbers are accepted when exact. */
export function normalizeBigInt(value: unknown, what = 'BigInt'): string {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value)
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'string' && /^-?[0-9]+$/.test(value) && value.length <= 80) return BigInt(value).toString()
  throw fail(`${what} must be a decimal integer string, got ${JSON.stringify(value)}`)
}

/** A 0x-prefixed, lower-case hex string of whole bytes, the way the tables store Bytes. */
export function normalizeBytes(value: unknown, what = 'Bytes'): string {
  if (typeof value === 'string') {
    const hex = value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value
    if (/^([0-9a-fA-F]{2})*$/.test(hex)) return `0x${hex.toLowerCase()}`
  }
  throw fail(`${what} must be a hex string of whole bytes such as "0x1234", got ${JSON.stringify(value)}`)
}

function literal(ast: ValueNode, name: string): string {
  if (ast.kind === Kind.STRING || ast.kind === Kind.INT) return ast.value
  throw fail(`${name} must be given as a string, got a ${ast.kind.toLowerCase()} literal`)
}

const asString = (v: unknown) => (typeof v === 'bigint' ? v.toString() : String(v))

/** graph-node serialises BigInt, BigDecimal, Int8 and Timestamp as strings, so amounts above 2^53 survive JSON. */
export const scalars = {
  BigInt: new GraphQLScalarType({
    name: 'BigInt',
    serialize: asString,
    parseValue: (v) => normalizeBigInt(v),
    parseLiteral: (ast) => normalizeBigInt(literal(ast, 'BigInt')),
  }),
  Int8: new GraphQLScalarType({
    name: 'Int8',
    serialize: asString,
    parseValue: (v) => normalizeBigInt(v, 'Int8'),
    parseLiteral: (ast) => normalizeBigInt(literal(ast, 'Int8'), 'Int8'),
  }),
  Timestamp: new GraphQLScalarType({
    name: 'Timestamp',
    serialize: asString,
    parseValue: (v) => normalizeBigInt(v, 'Timestamp'),
    parseLiteral: (ast) => normalizeBigInt(literal(ast, 'Timestamp'), 'Timestamp'),
  }),
  BigDecimal: new GraphQLScalarType({
    name: 'BigDecimal',
    serialize: asString,
    parseValue: (v) => {
      if (typeof v === 'string' && /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(v)) return v
      throw fail(`BigDecimal must be a decimal string, got ${JSON.stringify(v)}`)
    },
    parseLiteral: (ast) => {
      if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return ast.value
      throw fail(`BigDecimal must be given as a string, got a ${ast.kind.toLowerCase()} literal`)
    },
  }),
  Bytes: new GraphQLScalarType({
    name: 'Bytes',
    serialize: asString,
    parseValue: (v) => normalizeBytes(v),
    parseLiteral: (ast) => {
      if (ast.kind !== Kind.STRING)
        throw fail(`Bytes must be given as a hex string, got a ${ast.kind.toLowerCase()} literal`)
      return normalizeBytes(ast.value)
    },
  }),
}
