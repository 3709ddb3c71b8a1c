import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { readSchemaModel, renderEntityTables } from '../src/db/entity-model'
import { SCHEMA_PATH } from '../src/db/schema-file'

export const GENERATED_TABLES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../src/db/entities.generated.ts',
)

const out = renderEntityTables(readSchemaModel(readFileSync(SCHEMA_PATH, 'utf8')))
writeFileSync(GENERATED_TABLES, out)
console.log(`wrote ${GENERATED_TABLES}`)
