import { describe, expect, it } from 'vitest'
import { readSchemaModel } from './entity-model'
import { createIndexSql, IndexDeclarationError, queryIndexes } from './query-indexes'
import { loadIndexDeclaration, loadSchemaModel } from './schema-file'

const model = readSchemaModel(`
  enum Status { OPEN DONE }
  type Owner @entity { id: Bytes! name: String! score: BigInt! items: [Item!]! @derivedFrom(field: "owner") }
  type Item @entity { id: ID! owner: Owner! status: Status! price: BigInt! createdAt: BigInt! note: String }
  type Log @entity(immutable: true) { id: Bytes! owner: Owner! at: BigInt! }
`)
const columnsOf = (table: string, versions = 'current') =>
  queryIndexes({ model, declaration: { Item: ['createdAt', ['status', 'createdAt']] } })
    .filter((i) => i.table === table && i.versions === versions)
    .map((i) => i.columns.map((c) => `${c.column}${c.collateC ? ' C' : ''}`).join(','))

describe('query indexes from the schema and the declaration', () => {
  it('index every scalar of an entity the declaration does not name, as graph-node does', () => {
    expect(columnsOf('owner')).toEqual(['id C', 'name C,id C', 'score,id C'])
  })

  it('index only the declared keys of a large entity, besides id and its references', () => {
    expect(columnsOf('item')).toEqual(['id C', 'created_at,id C', 'status,created_at,id C', 'owner,id C'])
  })

  it('index the superseded versions of mutable entities for time travel, and only the current ones of immutable', () => {
    expect(columnsOf('item', 'history')).toEqual(columnsOf('item'))
    expect(columnsOf('log', 'history')).toEqual([])
  })

  it('creates partial indexes that sort text byte-wise, as the API does', () => {
    const index = queryIndexes({ model, declaration: {} }).find((i) => i.name === 'owner_q_name_id_cur')
    expect(index && createIndexSql({ index, concurrently: true })).toBe(
      'create index concurrently if not exists "owner_q_name_id_cur" on "owner" ("name" collate "C", "id" collate "C") where block_to is null',
    )
  })

  it('refuses a declaration that names a field the entity lacks', () => {
    expect(() => queryIndexes({ model, declaration: { Item: ['cost'] } })).toThrow(
      new IndexDeclarationError('indexes: Item has no field cost to index'),
    )
  })

  it('accepts subgraph/indexes.json for subgraph/schema.graphql, with names Postgres keeps whole', () => {
    const indexes = queryIndexes({ model: loadSchemaModel(), declaration: loadIndexDeclaration() })
    expect(indexes.every((i) => i.name.length <= 63)).toBe(true)
    expect(new Set(indexes.map((i) => i.name)).size).toBe(indexes.length)
  })
})
