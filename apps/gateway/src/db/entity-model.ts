import {
  type DocumentNode,
  type FieldDefinitionNode,
  Kind,
  type ObjectTypeDefinitionNode,
  parse,
  type TypeNode,
} from 'graphql'

/** How an entity field is stored and exposed; read from subgraph/schema.graphql. */
export type ScalarKind = 'id' | 'bytes' | 'bigint' | 'string' | 'boolean' | 'int' | 'int8' | 'enum'

export interface EntityField {
  name: string
  column: string
  kind: ScalarKind
  nullable: boolean
  /** For references to another entity: that entity's name; the column holds its id. */
  ref?: string
  enumName?: string
}

export interface DerivedField {
  name: string
  entity: string
  /** The field of `entity` that points back here. */
  field: string
  list: boolean
}

export interface EntityModel {
  name: string
  table: string
  immutable: boolean
  idKind: 'id' | 'bytes'
  fields: EntityField[]
  derived: DerivedField[]
}

export interface SchemaModel {
  entities: EntityModel[]
  enums: Record<string, string[]>
}

const SCALARS: Record<string, ScalarKind> = {
  ID: 'id',
  Bytes: 'bytes',
  BigInt: 'bigint',
  String: 'string',
  Boolean: 'boolean',
  Int: 'int',
  Int8: 'int8',
  Timestamp: 'int8',
}

export const snakeCase = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()

function unwrap(type: TypeNode): { name: string; nullable: boolean; list: boolean } {
  let nullable = true
  let list = false
  let t = type
  if (t.kind === Kind.NON_NULL_TYPE) {
    nullable = false
    t = t.type
  }
  if (t.kind === Kind.LIST_TYPE) {
    list = true
    t = t.type.kind === Kind.NON_NULL_TYPE ? t.type.type : t.type
  }
  if (t.kind !== Kind.NAMED_TYPE) throw new Error('nested list types are not supported')
  return { name: t.name.value, nullable, list }
}

function directiveArg(node: FieldDefinitionNode | ObjectTypeDefinitionNode, directive: string, arg: string) {
  const d = node.directives?.find((x) => x.name.value === directive)
  const a = d?.arguments?.find((x) => x.name.value === arg)
  if (!d) return undefined
  if (!a) return null
  return a.value.kind === Kind.STRING || a.value.kind === Kind.BOOLEAN ? a.value.value : null
}

/** Reads the entity types of a subgraph schema: the one model both the tables and the GraphQL API derive from. */
export function readSchemaModel(sdl: string | DocumentNode): SchemaModel {
  const doc = typeof sdl === 'string' ? parse(sdl) : sdl
  const enums: Record<string, string[]> = {}
  const objects: ObjectTypeDefinitionNode[] = []
  for (const def of doc.definitions) {
    if (def.kind === Kind.ENUM_TYPE_DEFINITION) enums[def.name.value] = (def.values ?? []).map((v) => v.name.value)
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION && def.directives?.some((d) => d.name.value === 'entity')) {
      objects.push(def)
    }
  }
  const entityNames = new Set(objects.map((o) => o.name.value))
  const entities = objects.map((obj): EntityModel => {
    const name = obj.name.value
    const fields: EntityField[] = []
    const derived: DerivedField[] = []
    let idKind: 'id' | 'bytes' = 'id'
    for (const f of obj.fields ?? []) {
      const t = unwrap(f.type)
      const derivedFrom = directiveArg(f, 'derivedFrom', 'field')
      if (derivedFrom) {
        derived.push({ name: f.name.value, entity: t.name, field: String(derivedFrom), list: t.list })
        continue
      }
      if (t.list) throw new Error(`${name}.${f.name.value}: list fields are not supported yet`)
      const column = snakeCase(f.name.value)
      if (f.name.value === 'id') {
        const kind = SCALARS[t.name]
        if (kind !== 'id' && kind !== 'bytes') throw new Error(`${name}.id must be ID or Bytes, got ${t.name}`)
        idKind = kind
        fields.push({ name: 'id', column: 'id', kind, nullable: false })
      } else if (entityNames.has(t.name)) {
        fields.push({ name: f.name.value, column, kind: 'string', nullable: t.nullable, ref: t.name })
      } else if (enums[t.name]) {
        fields.push({ name: f.name.value, column, kind: 'enum', nullable: t.nullable, enumName: t.name })
      } else {
        const kind = SCALARS[t.name]
        if (!kind) throw new Error(`${name}.${f.name.value}: unsupported type ${t.name}`)
        fields.push({ name: f.name.value, column, kind, nullable: t.nullable })
      }
    }
    return {
      name,
      table: snakeCase(name),
      immutable: directiveArg(obj, 'entity', 'immutable') === true,
      idKind,
      fields,
      derived,
    }
  })
  // Reference columns take the kind of the referenced entity's id.
  for (const e of entities) {
    for (const f of e.fields) {
      if (f.ref) f.kind = entities.find((x) => x.name === f.ref)?.idKind === 'bytes' ? 'bytes' : 'id'
    }
  }
  return { entities, enums }
}

const COLUMN_BUILDERS: Record<ScalarKind, string> = {
  id: 'text',
  bytes: 'text',
  bigint: 'uint256',
  string: 'text',
  boolean: 'boolean',
  int: 'integer',
  int8: 'int8',
  enum: 'text',
}

/** Renders the drizzle tables of every entity, versioned by block range the way graph-node stores them. */
export function renderEntityTables(model: SchemaModel): string {
  const out = [
    '// Generated from subgraph/schema.graphql by apps/gateway/scripts/generate-entities.ts. Do not edit.',
    "import { sql } from 'drizzle-orm'",
    "import { bigint, bigserial, boolean, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core'",
    "import { uint256 } from './columns'",
    '',
    "const int8 = (name: string) => bigint(name, { mode: 'bigint' })",
    '',
  ]
  for (const e of model.entities) {
    out.push(`export const ${lowerFirst(e.name)}Table = pgTable(`)
    out.push(`  '${e.table}',`)
    out.push('  {')
    out.push("    vid: bigserial('vid', { mode: 'bigint' }).primaryKey(),")
    for (const f of e.fields) {
      out.push(`    ${f.name}: ${COLUMN_BUILDERS[f.kind]}('${f.column}')${f.nullable ? '' : '.notNull()'},`)
    }
    out.push("    blockFrom: int8('block_from').notNull(),")
    out.push('    /** Null while this is the current version. */')
    out.push("    blockTo: int8('block_to'),")
    out.push('  },')
    out.push('  (t) => [')
    out.push(`    uniqueIndex('${e.table}_current').on(t.id).where(sql\`\${t.blockTo} is null\`),`)
    // Immutable entities have one version each: the current-id index serves them, and block_to stays null.
    if (!e.immutable) out.push(`    index('${e.table}_id_block').on(t.id, t.blockFrom),`)
    out.push(`    index('${e.table}_block_from').using('brin', t.blockFrom),`)
    if (!e.immutable) out.push(`    index('${e.table}_block_to').using('brin', t.blockTo),`)
    for (const f of e.fields.filter((x) => x.ref)) {
      out.push(`    index('${e.table}_${f.column}').on(t.${f.name}),`)
    }
    out.push('  ],')
    out.push(')')
    out.push('')
  }
  out.push('export const entityTables = {')
  for (const e of model.entities) out.push(`  ${e.name}: ${lowerFirst(e.name)}Table,`)
  out.push('} as const')
  out.push('')
  return out.join('\n')
}

export const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1)
