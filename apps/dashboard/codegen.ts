import type { CodegenConfig } from '@graphql-codegen/cli'

/**
 * Types the page's GraphQL documents from the gateway's checked-in schema (apps/gateway/schema.graphql): a field the
 * server drops or changes fails `npm run typecheck`, which regenerates src/gql with `--check` first.
 */
const config: CodegenConfig = {
  schema: '../gateway/schema.graphql',
  documents: ['src/**/*.ts', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        // Sent as text by fetch and graphql-ws: no AST in the bundle.
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        // graph-node's scalars travel as strings.
        scalars: { BigInt: 'string', BigDecimal: 'string', Bytes: 'string', Int8: 'string', Timestamp: 'string' },
      },
    },
  },
}

export default config
