import { PGlite } from '@electric-sql/pglite'
import { type SQL, sql } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { drizzle } from 'drizzle-orm/pglite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readSchemaModel, type ScalarKind } from '../../db/entity-model'
import { buildApiModel, type EntityApi, type Relation } from '../api-model'
import { BadUserInputError } from '../graphql.errors'
import { Aliases, type BlockScope, liveAt } from './block-range'
import { compileFilter, type Where } from './filter'
import { validatePage } from './order'
import { byIdsStatement, type ListArgs, listStatement, relatedStatement } from './statements'

// A schema with every kind of field the compilers handle, including Int and Int8, which computegraph's own lacks.
const model = readSchemaModel(`
  enum Color { RED GREEN BLUE }
  type Thing @entity {
    id: ID!
    hash: Bytes!
    amount: BigInt!
    label: String
    flag: Boolean!
    count: Int!
    big: Int8!
    color: Color!
    owner: Owner
    parts: [Part!]! @derivedFrom(field: "thing")
    tag: Tag @derivedFrom(field: "thing")
  }
  type Owner @entity { id: Bytes! name: String! things: [Thing!]! @derivedFrom(field: "owner") }
  type Part @entity(immutable: true) { id: ID! thing: Thing! weight: BigInt! }
  type Tag @entity { id: ID! thing: Thing! name: String! }
`)
const api = buildApiModel(model)
const e = (name: string) => api.entities.get(name) as EntityApi

const SQL_TYPES: Record<ScalarKind, string> = {
  id: 'text',
  bytes: 'text',
  string: 'text',
  enum: 'text',
  bigint: 'numeric(78,0)',
  boolean: 'boolean',
  int: 'int4',
  int8: 'int8',
  timestamp: 'int8',
}

type Row = Record<string, unknown> & { from: number; to?: number }
const FIXTURE: Record<string, Row[]> = {
  Thing: [
    {
      id: '1',
      hash: '0xaabb',
      amount: '100',
      label: 'Alpha',
      flag: true,
      count: 1,
      big: '10',
      color: 'RED',
      owner: '0x01',
      from: 1,
    },
    {
      id: '2',
      hash: '0xbbcc',
      amount: '150',
      label: 'beta',
      flag: false,
      count: 2,
      big: '20',
      color: 'GREEN',
      owner: '0x01',
      from: 1,
      to: 5,
    },
    {
      id: '2',
      hash: '0xbbcc',
      amount: '200',
      label: 'beta',
      flag: false,
      count: 2,
      big: '20',
      color: 'GREEN',
      owner: '0x01',
      from: 5,
    },
    {
      id: '3',
      hash: '0xccaa',
      amount: '300',
      label: null,
      flag: true,
      count: 3,
      big: '30',
      color: 'BLUE',
      owner: '0x02',
      from: 1,
    },
    {
      id: '10',
      hash: '0xabab',
      amount: '50',
      label: 'ALPHABET',
      flag: false,
      count: -4,
      big: '9007199254740993',
      color: 'RED',
      owner: null,
      from: 7,
    },
  ],
  Owner: [
    { id: '0x01', name: 'one', from: 1 },
    { id: '0x02', name: 'two', from: 1 },
  ],
  Part: [
    { id: 'p1', thing: '1', weight: '5', from: 1 },
    { id: 'p2', thing: '1', weight: '7', from: 1 },
    { id: 'p3', thing: '2', weight: '1', from: 1 },
    { id: 'p4', thing: '3', weight: '9', from: 1 },
    { id: 'p5', thing: '1', weight: '2', from: 6 },
  ],
  Tag: [
    { id: 't1', thing: '3', name: 'zeta', from: 1 },
    { id: 't2', thing: '1', name: 'eta', from: 1 },
  ],
}

let client: PGlite
let db: ReturnType<typeof drizzle>
const run = async (statement: SQL) => (await db.execute(statement)).rows as Record<string, unknown>[]

beforeAll(async () => {
  client = new PGlite()
  db = drizzle(client)
  for (const entity of model.entities) {
    const cols = entity.fields.map((f) => `"${f.column}" ${SQL_TYPES[f.kind]}`).join(', ')
    await client.exec(
      `create table "${entity.table}" (vid serial primary key, ${cols}, block_from int8 not null, block_to int8)`,
    )
    for (const row of FIXTURE[entity.name] ?? []) {
      const values = [...entity.fields.map((f) => row[f.name]), row.from, row.to ?? null]
      const params = values.map((_, i) => `$${i + 1}`).join(', ')
      const names = [...entity.fields.map((f) => `"${f.column}"`), 'block_from', 'block_to'].join(', ')
      await client.query(`insert into "${entity.table}" (${names}) values (${params})`, values)
    }
  }
}, 30_000)
afterAll(async () => {
  await client?.close()
})

const page = (args: Partial<ListArgs> = {}): ListArgs => ({ first: 100, skip: 0, ...args })
const ids = async (where: Where, block: BlockScope = 'latest', entity = 'Thing') =>
  (await run(listStatement({ api, entity: e(entity), args: page({ where }), block }))).map((r) => r.id)

describe('compileFilter', () => {
  it('matches ID fields with every numeric suffix, comparing ids as text', async () => {
    expect(await ids({ id: '2' })).toEqual(['2'])
    expect(await ids({ id_not: '2' })).toEqual(['1', '10', '3'])
    expect(await ids({ id_gt: '1' })).toEqual(['10', '2', '3'])
    expect(await ids({ id_gte: '2' })).toEqual(['2', '3'])
    expect(await ids({ id_lt: '2' })).toEqual(['1', '10'])
    expect(await ids({ id_lte: '10' })).toEqual(['1', '10'])
    expect(await ids({ id_in: ['1', '3', 'nope'] })).toEqual(['1', '3'])
    expect(await ids({ id_not_in: ['1', '3'] })).toEqual(['10', '2'])
  })

  it('compares BigInt, Int and Int8 numerically, beyond 2^53', async () => {
    expect(await ids({ amount_gt: '99' })).toEqual(['1', '2', '3'])
    expect(await ids({ amount_lte: '100' })).toEqual(['1', '10'])
    expect(await ids({ amount_in: ['50', '300'] })).toEqual(['10', '3'])
    expect(await ids({ count_lt: 0 })).toEqual(['10'])
    expect(await ids({ count_gte: 2 })).toEqual(['2', '3'])
    expect(await ids({ big: '9007199254740993' })).toEqual(['10'])
    expect(await ids({ big_not_in: ['10', '20'] })).toEqual(['10', '3'])
  })

  it('matches Bytes in any case and only on byte boundaries for _contains', async () => {
    expect(await ids({ hash: '0xAABB' })).toEqual(['1'])
    expect(await ids({ hash_contains: '0xab' })).toEqual(['10'])
    expect(await ids({ hash_not_contains: '0xaa' })).toEqual(['10', '2'])
    expect(await ids({ hash_gt: '0xbb' })).toEqual(['2', '3'])
    expect(() =>
      compileFilter({
        api,
        entity: e('Thing'),
        where: { hash: '0xabc' },
        alias: 'c',
        block: 'latest',
        aliases: new Aliases(),
      }),
    ).toThrow('where.hash must be a hex string of whole bytes such as "0x1234", got "0xabc"')
  })

  it('gives String every suffix, case-sensitive unless _nocase, and never matches null with negations', async () => {
    expect(await ids({ label_contains: 'lph' })).toEqual(['1'])
    expect(await ids({ label_contains_nocase: 'LPH' })).toEqual(['1', '10'])
    expect(await ids({ label_not_contains: 'lph' })).toEqual(['10', '2'])
    expect(await ids({ label_not_contains_nocase: 'LPH' })).toEqual(['2'])
    expect(await ids({ label_starts_with: 'A' })).toEqual(['1', '10'])
    expect(await ids({ label_starts_with_nocase: 'al' })).toEqual(['1', '10'])
    expect(await ids({ label_not_starts_with: 'A' })).toEqual(['2'])
    expect(await ids({ label_not_starts_with_nocase: 'b' })).toEqual(['1', '10'])
    expect(await ids({ label_ends_with: 'ta' })).toEqual(['2'])
    expect(await ids({ label_ends_with_nocase: 'BET' })).toEqual(['10'])
    expect(await ids({ label_not_ends_with: 'ha' })).toEqual(['10', '2'])
    expect(await ids({ label_not_ends_with_nocase: 'BET' })).toEqual(['1', '2'])
    expect(await ids({ label_gt: 'B' })).toEqual(['2'])
    expect(await ids({ label: null })).toEqual(['3'])
    expect(await ids({ label_not: null })).toEqual(['1', '10', '2'])
    expect(await ids({ label_not: 'beta' })).toEqual(['1', '10'])
  })

  it('treats % and _ in a pattern as plain characters', async () => {
    expect(await ids({ label_contains: '%' })).toEqual([])
    expect(await ids({ label_starts_with: '_' })).toEqual([])
  })

  it('filters Boolean and enum fields by equality and membership', async () => {
    expect(await ids({ flag: true })).toEqual(['1', '3'])
    expect(await ids({ flag_not: true })).toEqual(['10', '2'])
    expect(await ids({ flag_in: [false] })).toEqual(['10', '2'])
    expect(await ids({ color: 'RED' })).toEqual(['1', '10'])
    expect(await ids({ color_not_in: ['RED', 'BLUE'] })).toEqual(['2'])
    expect(() =>
      compileFilter({
        api,
        entity: e('Thing'),
        where: { color: 'PINK' },
        alias: 'c',
        block: 'latest',
        aliases: new Aliases(),
      }),
    ).toThrow("where.color must be one of Color's values")
  })

  it('filters a reference by the related id, lower-casing Bytes ids, and by a nested filter', async () => {
    expect(await ids({ owner: '0X01' })).toEqual(['1', '2'])
    expect(await ids({ owner_not: '0x01' })).toEqual(['3'])
    expect(await ids({ owner: null })).toEqual(['10'])
    expect(await ids({ owner_starts_with: '0x0' })).toEqual(['1', '2', '3'])
    expect(await ids({ owner_: { name: 'two' } })).toEqual(['3'])
    expect(await ids({ owner_: { name_in: ['one', 'two'] }, amount_gt: '150' })).toEqual(['2', '3'])
  })

  it('filters through derived fields, lists and single, at the same block', async () => {
    expect(await ids({ parts_: { weight_gt: '6' } })).toEqual(['1', '3'])
    expect(await ids({ parts_: { weight: '2' } }, 5n)).toEqual([])
    expect(await ids({ parts_: { weight: '2' } }, 6n)).toEqual(['1'])
    expect(await ids({ tag_: { name: 'zeta' } })).toEqual(['3'])
    expect(await ids({ things_: { amount_gt: '150' } }, 'latest', 'Owner')).toEqual(['0x01', '0x02'])
  })

  it('refuses a child filter inside a child filter, as graph-node does', () => {
    expect(() =>
      compileFilter({
        api,
        entity: e('Thing'),
        where: { owner_: { things_: { id: '1' } } },
        alias: 'c',
        block: 'latest',
        aliases: new Aliases(),
      }),
    ).toThrow('where.owner_.things_: child filters cannot be nested (things_ inside owner_)')
  })

  it('combines with and/or, and refuses column filters beside or', async () => {
    expect(await ids({ or: [{ id: '1' }, { amount_gt: '250' }] })).toEqual(['1', '3'])
    expect(await ids({ and: [{ flag: false }, { or: [{ color: 'GREEN' }, { count: 3 }] }] })).toEqual(['2'])
    expect(await ids({ or: [] })).toEqual([])
    expect(await ids({ and: [] })).toEqual(['1', '10', '2', '3'])
    expect(() =>
      compileFilter({
        api,
        entity: e('Thing'),
        where: { flag: true, or: [{ id: '1' }] },
        alias: 'c',
        block: 'latest',
        aliases: new Aliases(),
      }),
    ).toThrow("where mixes column filters (flag) with 'or' at the same level")
  })

  it('keeps entities whose live version changed at or after _change_block', async () => {
    expect(await ids({ _change_block: { number_gte: 5 } })).toEqual(['10', '2'])
    expect(await ids({ _change_block: { number_gte: 5 } }, 6n)).toEqual(['2'])
    expect(await ids({ _change_block: { number_gte: 2 } }, 4n)).toEqual([])
  })

  it('sends every value as a parameter, never as SQL text', async () => {
    const evil = "x'); drop table thing; --"
    const statement = compileFilter({
      api,
      entity: e('Thing'),
      where: { label_contains_nocase: evil, id_in: [evil], owner_: { name: evil } },
      alias: 'c',
      block: 'latest',
      aliases: new Aliases(),
    }) as SQL
    const query = new PgDialect().sqlToQuery(statement)
    expect(query.sql).not.toContain('drop table')
    expect(query.params).toContain(evil)
    expect(await ids({ label_contains_nocase: evil })).toEqual([])
    expect(await ids({})).toHaveLength(4)
  })
})

describe('listStatement order and paging', () => {
  const list = async (args: Partial<ListArgs>, block: BlockScope = 'latest') =>
    (await run(listStatement({ api, entity: e('Thing'), args: page(args), block }))).map((r) => r.id)

  it('sorts by id, as text, when no order is given', async () => {
    expect(await list({})).toEqual(['1', '10', '2', '3'])
  })

  it('sorts by a field then by id in the same direction, nulls last ascending and first descending', async () => {
    expect(await list({ orderBy: 'amount' })).toEqual(['10', '1', '2', '3'])
    expect(await list({ orderBy: 'flag', orderDirection: 'desc' })).toEqual(['3', '1', '2', '10'])
    expect(await list({ orderBy: 'label' })).toEqual(['10', '1', '2', '3'])
    expect(await list({ orderBy: 'label', orderDirection: 'desc' })).toEqual(['3', '2', '1', '10'])
  })

  it('sorts by a child field through a reference or a derived single relation, at the query block', async () => {
    expect(await list({ orderBy: 'owner__name', orderDirection: 'desc' })).toEqual(['10', '3', '2', '1'])
    expect(await list({ orderBy: 'tag__name' })).toEqual(['1', '3', '10', '2'])
  })

  it('refuses to sort by a list', () => {
    expect(() => listStatement({ api, entity: e('Thing'), args: page({ orderBy: 'parts' }), block: 'latest' })).toThrow(
      'Ordering by `parts` is not supported for type `Thing`',
    )
  })

  it('applies skip and first after ordering, and reads versions at the block', async () => {
    expect(await list({ orderBy: 'amount', orderDirection: 'desc', skip: 1, first: 2 })).toEqual(['2', '1'])
    const at4 = await run(listStatement({ api, entity: e('Thing'), args: page({ where: { id: '2' } }), block: 4n }))
    expect(at4.map((r) => r.amount)).toEqual(['150'])
    expect(await list({}, 6n)).toEqual(['1', '2', '3'])
  })

  it('returns amounts and Int8 as exact strings, Int as numbers', async () => {
    const [row] = await run(
      listStatement({ api, entity: e('Thing'), args: page({ where: { id: '10' } }), block: 'latest' }),
    )
    expect(row).toMatchObject({ amount: '50', big: '9007199254740993', count: -4, flag: false, owner: null })
  })
})

describe('byIdsStatement and relatedStatement', () => {
  const parts = e('Thing').relations.get('parts') as Extract<Relation, { kind: 'derived' }>

  it('loads a batch of ids at a block in one statement', async () => {
    const rows = await run(byIdsStatement({ entity: e('Thing').entity, ids: ['2', '3', 'missing'], block: 4n }))
    expect(rows.map((r) => [r.id, r.amount]).sort()).toEqual([
      ['2', '150'],
      ['3', '300'],
    ])
  })

  it('pages, filters and sorts each parent’s children separately, grouped in the order of the parents', async () => {
    const rows = await run(
      relatedStatement({
        api,
        relation: parts,
        parentIds: ['3', '1', '2', '10'],
        args: page({ orderBy: 'weight', orderDirection: 'desc', first: 2, where: { weight_gt: '1' } }),
        block: 'latest',
      }),
    )
    expect(rows.map((r) => [r._parent, r.id])).toEqual([
      ['3', 'p4'],
      ['1', 'p2'],
      ['1', 'p1'],
    ])
    const skipped = await run(
      relatedStatement({ api, relation: parts, parentIds: ['1'], args: page({ skip: 1 }), block: 5n }),
    )
    expect(skipped.map((r) => r.id)).toEqual(['p2'])
  })
})

describe('liveAt', () => {
  it('selects the version whose block range holds the block', async () => {
    const at = async (block: BlockScope) =>
      (await run(sql`select id, amount::text from thing c where ${liveAt({ alias: 'c', block })} order by id`)).map(
        (r) => `${r.id}:${r.amount}`,
      )
    expect(await at(0n)).toEqual([])
    expect(await at(4n)).toEqual(['1:100', '2:150', '3:300'])
    expect(await at(5n)).toEqual(['1:100', '2:200', '3:300'])
    expect(await at('latest')).toEqual(['1:100', '10:50', '2:200', '3:300'])
  })

  it('reads immutable entities, whose one version never closes, by their creation block', async () => {
    const at = async (block: BlockScope) =>
      (await run(sql`select id from part c where ${liveAt({ alias: 'c', block, immutable: true })} order by id`)).map(
        (r) => r.id,
      )
    expect(e('Part').entity.immutable).toBe(true)
    expect(await at(5n)).toEqual(['p1', 'p2', 'p3', 'p4'])
    expect(await at(6n)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5'])
  })
})

describe('validatePage', () => {
  const limits = { maxFirst: 1000, maxSkip: 5000 }
  it('defaults first to 100 and skip to 0', () => {
    expect(validatePage({ ...limits })).toEqual({ first: 100, skip: 0 })
  })

  it('names the argument, the range and the value it refuses', () => {
    expect(() => validatePage({ first: 5000, ...limits })).toThrow(
      new BadUserInputError('first must be between 0 and 1000, got 5000'),
    )
    expect(() => validatePage({ first: -1, ...limits })).toThrow('first must be between 0 and 1000, got -1')
    expect(() => validatePage({ skip: 5001, ...limits })).toThrow('skip must be between 0 and 5000, got 5001')
  })
})
