import { createHash } from 'node:crypto'
import type { EntityField, EntityModel, SchemaModel } from './entity-model'

/**
 * Which fields of the large entities get indexes: entity name to a list of keys, each a field name or a list of
 * field names (equality prefixes first, the field sorted by last). An entity listed here is large and gets only these
 * keys besides `id` and its derived-list foreign keys; one not listed is small and gets every scalar, as graph-node
 * indexes every attribute. `subgraph/indexes.json` is the deployment's declaration.
 */
export type IndexDeclaration = Record<string, (string | string[])[]>

/** One index on a versioned entity table, over the current versions or over the superseded ones (time travel). */
export interface QueryIndex {
  name: string
  table: string
  /** Columns in index order; text columns that a query sorts or ranges by compare byte-wise (collate "C"). */
  columns: { column: string; collateC: boolean }[]
  /** `current`: `block_to is null`, what a query at the head reads; `history`: the versions time travel adds. */
  versions: 'current' | 'history'
}

export class IndexDeclarationError extends Error {
  override name = 'IndexDeclarationError'
}

const TEXT_KINDS = new Set(['id', 'bytes', 'string', 'enum'])
// Postgres truncates identifiers past this length, which would make two long index names collide.
const MAX_IDENTIFIER = 63

/**
 * The indexes the dialect's common query shapes need on each versioned entity table: `(key…, id)` for each key so
 * that ordering by a field (then id, as graph-node sorts) reads the first rows of an index instead of sorting the
 * table, `(id)` for the default order and keyset paging, and `(reference, id)` for each reference, which derived lists read. Mutable
 * entities get each twice: over the current versions and over the superseded ones, which the block-range queries
 * read as two branches of one union (see graphql/sql/block-range.ts). Timeseries keep the indexes their tables have.
 */
export function queryIndexes({
  model,
  declaration,
}: {
  model: SchemaModel
  declaration: IndexDeclaration
}): QueryIndex[] {
  for (const name of Object.keys(declaration)) {
    const e = model.entities.find((x) => x.name === name)
    if (!e || e.timeseries) throw new IndexDeclarationError(`indexes: ${name} is not an entity of the schema`)
  }
  const out: QueryIndex[] = []
  for (const entity of model.entities.filter((e) => !e.timeseries)) {
    const declared = declaration[entity.name]
    const keys: EntityField[][] = [[field(entity, 'id')]]
    if (declared) {
      for (const key of declared) keys.push((Array.isArray(key) ? key : [key]).map((f) => field(entity, f)))
    } else {
      for (const f of entity.fields.filter((x) => x.name !== 'id')) keys.push([f])
    }
    // References serve derived lists (`provider { stakeEvents }`) and joins back from the referenced entity.
    for (const f of entity.fields.filter((x) => x.ref)) keys.push([f])
    const seen = new Set<string>()
    for (const key of keys) {
      const columns = indexColumns(key)
      const signature = columns.map((c) => `${c.column}${c.collateC ? ' C' : ''}`).join(',')
      if (seen.has(signature)) continue
      seen.add(signature)
      for (const versions of entity.immutable ? (['current'] as const) : (['current', 'history'] as const)) {
        out.push({ name: indexName(entity.table, columns, versions), table: entity.table, columns, versions })
      }
    }
  }
  return out
}

function field(entity: EntityModel, name: string): EntityField {
  const f = entity.fields.find((x) => x.name === name)
  if (!f) throw new IndexDeclarationError(`indexes: ${entity.name} has no field ${name} to index`)
  return f
}

/**
 * The key's fields then id. The last field and id are sort keys, compared as the API sorts text (byte-wise); the
 * fields before them, and references, which derived lists match by equality, keep the column's own collation.
 */
function indexColumns(key: EntityField[]): QueryIndex['columns'] {
  const fields = key.at(-1)?.name === 'id' ? key : [...key, { name: 'id', column: 'id', kind: 'id' } as EntityField]
  const sortedFrom = fields.length - (key.at(-1)?.name === 'id' ? 1 : 2)
  return fields.map((f, i) => ({ column: f.column, collateC: i >= sortedFrom && !f.ref && TEXT_KINDS.has(f.kind) }))
}

function indexName(table: string, columns: QueryIndex['columns'], versions: QueryIndex['versions']): string {
  const name = `${table}_q_${columns.map((c) => c.column).join('_')}_${versions === 'current' ? 'cur' : 'hist'}`
  if (name.length <= MAX_IDENTIFIER) return name
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8)
  return `${name.slice(0, MAX_IDENTIFIER - 9)}_${hash}`
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`

/** `create index` for one query index; `concurrently` on Postgres so that writes go on while it builds. */
export function createIndexSql({ index, concurrently }: { index: QueryIndex; concurrently: boolean }): string {
  const columns = index.columns.map((c) => `${quote(c.column)}${c.collateC ? ' collate "C"' : ''}`).join(', ')
  const where = index.versions === 'current' ? 'block_to is null' : 'block_to is not null'
  return `create index ${concurrently ? 'concurrently ' : ''}if not exists ${quote(index.name)} on ${quote(index.table)} (${columns}) where ${where}`
}
