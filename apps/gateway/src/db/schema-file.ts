import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { readSchemaModel, type SchemaModel } from './entity-model'
import { type IndexDeclaration, IndexDeclarationError } from './query-indexes'

const require = createRequire(import.meta.url)
const SUBGRAPH_DIR = path.dirname(require.resolve('@computegraph/subgraph/package.json'))

/** subgraph/schema.graphql, resolved through the workspace so it works from any working directory. */
export const SCHEMA_PATH = path.join(SUBGRAPH_DIR, 'schema.graphql')

/** subgraph/indexes.json: the large entities and the fields their queries filter and sort by. */
export const INDEXES_PATH = path.join(SUBGRAPH_DIR, 'indexes.json')

let cached: SchemaModel | undefined
export function loadSchemaModel(): SchemaModel {
  cached ??= readSchemaModel(readFileSync(SCHEMA_PATH, 'utf8'))
  return cached
}

/** Reads an index declaration file (subgraph/indexes.json unless a deployment names its own). */
export function loadIndexDeclaration(file: string = INDEXES_PATH): IndexDeclaration {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new IndexDeclarationError(`cannot read the index declaration ${file}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every(
      (keys) =>
        Array.isArray(keys) &&
        keys.every(
          (k) => typeof k === 'string' || (Array.isArray(k) && k.length > 0 && k.every((f) => typeof f === 'string')),
        ),
    )
  if (!valid) {
    throw new IndexDeclarationError(
      `${file}: expected { "Entity": ["field", ["prefixField", "sortField"], …] }, got ${JSON.stringify(parsed).slice(0, 200)}`,
    )
  }
  return parsed as IndexDeclaration
}
