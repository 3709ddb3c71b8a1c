import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { readSchemaModel, type SchemaModel } from './entity-model'

const require = createRequire(import.meta.url)

/** subgraph/schema.graphql, resolved through the workspace so it works from any working directory. */
export const SCHEMA_PATH = path.join(
  path.dirname(require.resolve('@computegraph/subgraph/package.json')),
  'schema.graphql',
)

let cached: SchemaModel | undefined
export function loadSchemaModel(): SchemaModel {
  cached ??= readSchemaModel(readFileSync(SCHEMA_PATH, 'utf8'))
  return cached
}
