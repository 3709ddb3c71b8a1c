import { type SQL, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../db/database'
import { buildQueryIndexes } from '../../db/query-index-builder'
import { queryIndexes } from '../../db/query-indexes'
import { loadIndexDeclaration, loadSchemaModel } from '../../db/schema-file'
import { openTestDatabase } from '../../db/testing'
import { buildApiModel, type EntityApi, type Relation } from '../api-model'
import { seedLargeIndex } from '../testing/large-index'
import type { BlockScope } from './block-range'
import { byIdsStatement, type ListArgs, listStatement, relatedStatement } from './statements'

// The dialect's common query shapes, planned by Postgres over tables of a busy month (100,000 jobs of two versions
// each, 100,000 stake events and as many versions of one provider): each must read a page of an index, never scan and
// sort a whole table. Real Postgres, as planning depends on its statistics.
const JOBS = 100_000
const STAKE_EVENTS = 100_000
// seedLargeIndex writes job j at blocks 3j and 3j + 1, and stake event s at block 3s.
const HEAD = 300_000n
const PAST = 150_000n
const BUSY = `0x${'11'.repeat(20)}`

const schema = loadSchemaModel()
const api = buildApiModel(schema)
const entity = (name: string) => api.entities.get(name) as EntityApi
const model = (name: string) => entity(name).entity
const derived = (parent: string, field: string) =>
  entity(parent).relations.get(field) as Extract<Relation, { kind: 'derived' }>
const page = (args: Partial<ListArgs>): ListArgs => ({ first: 100, skip: 0, ...args })

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Actual Rows'?: number
  Plans?: PlanNode[]
}

/** Whole-table work in a plan: a sequential scan of a large table, or a sort of more rows than a page. */
function wholeTableWork(plan: PlanNode, found: string[] = []): string[] {
  const rows = plan['Actual Rows'] ?? 0
  if (plan['Node Type'] === 'Seq Scan' && rows > 1_000)
    found.push(`Seq Scan on ${plan['Relation Name']} (${rows} rows)`)
  if (plan['Node Type'] === 'Sort' && rows > 1_000) found.push(`Sort of ${rows} rows`)
  if (plan['Node Type'] === 'Bitmap Heap Scan' && rows > 10_000)
    found.push(`Bitmap Heap Scan on ${plan['Relation Name']} (${rows} rows)`)
  for (const child of plan.Plans ?? []) wholeTableWork(child, found)
  return found
}

const SHAPES: { name: string; statement: (block: BlockScope) => SQL }[] = [
  {
    name: 'jobs(first: 100, orderBy: createdAt, orderDirection: desc)',
    statement: (block) =>
      listStatement({
        api,
        entity: entity('Job'),
        block,
        args: page({ orderBy: 'createdAt', orderDirection: 'desc' }),
      }),
  },
  {
    name: 'jobs(first: 100) in the default id order',
    statement: (block) => listStatement({ api, entity: entity('Job'), block, args: page({}) }),
  },
  {
    name: 'jobs(where: { id_gt }), keyset paging',
    statement: (block) =>
      listStatement({ api, entity: entity('Job'), block, args: page({ where: { id_gt: '5' }, orderBy: 'id' }) }),
  },
  {
    name: 'jobs(where: { status: OPEN, payment_gte, payment_lt }, orderBy: createdAt, orderDirection: desc)',
    statement: (block) =>
      listStatement({
        api,
        entity: entity('Job'),
        block,
        args: page({
          where: { status: 'OPEN', payment_gte: '10000000', payment_lt: '90000000' },
          orderBy: 'createdAt',
          orderDirection: 'desc',
        }),
      }),
  },
  {
    name: 'jobs(where: { status_in: [OPEN, ASSIGNED] }, orderBy: payment)',
    statement: (block) =>
      listStatement({
        api,
        entity: entity('Job'),
        block,
        args: page({ where: { status_in: ['OPEN', 'ASSIGNED'] }, orderBy: 'payment' }),
      }),
  },
  {
    name: 'provider(id:), the provider with 100,000 versions',
    statement: (block) => byIdsStatement({ entity: model('Provider'), ids: [BUSY], block }),
  },
  {
    name: 'job.provider, client and model of a page of jobs',
    statement: (block) =>
      byIdsStatement({
        entity: model('Job'),
        ids: Array.from({ length: 100 }, (_, i) => String(JOBS - i)),
        block,
      }),
  },
  {
    name: 'provider { stakeEvents(first: 20, orderBy: timestamp, orderDirection: desc) }',
    statement: (block) =>
      relatedStatement({
        api,
        relation: derived('Provider', 'stakeEvents'),
        parentIds: [BUSY],
        block,
        args: page({ first: 20, orderBy: 'timestamp', orderDirection: 'desc' }),
      }),
  },
  {
    name: 'provider { jobs(first: 20) } in the default id order',
    statement: (block) =>
      relatedStatement({
        api,
        relation: derived('Provider', 'jobs'),
        parentIds: [BUSY],
        block,
        args: page({ first: 20 }),
      }),
  },
  {
    name: 'provider { jobs(first: 20, orderBy: createdAt, orderDirection: desc) }',
    statement: (block) =>
      relatedStatement({
        api,
        relation: derived('Provider', 'jobs'),
        parentIds: [BUSY],
        block,
        args: page({ first: 20, orderBy: 'createdAt', orderDirection: 'desc' }),
      }),
  },
]

describe('query plans on 100,000 rows (Postgres)', () => {
  let database: Database
  let cleanup: () => Promise<void>

  beforeAll(async () => {
    const opened = await openTestDatabase('postgres')
    database = opened.database
    cleanup = async () => {
      await database.close()
      await opened.cleanup()
    }
    await seedLargeIndex({ database, jobs: JOBS, stakeEvents: STAKE_EVENTS, busy: BUSY })
    const indexes = queryIndexes({ model: schema, declaration: loadIndexDeclaration() })
    await buildQueryIndexes({ database, indexes })
    await database.query(sql`analyze`)
  }, 300_000)

  afterAll(async () => {
    await cleanup?.()
  })

  for (const at of [
    { label: 'at the head', block: HEAD },
    { label: 'at a past block', block: PAST },
  ]) {
    for (const shape of SHAPES) {
      it(`${shape.name} ${at.label} reads a page of an index`, async () => {
        const [row] = await database.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
          sql`explain (analyze, format json) ${shape.statement(at.block)}`,
        )
        const plan = (row as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]?.Plan as PlanNode
        expect(wholeTableWork(plan), JSON.stringify(plan)).toEqual([])
      })
    }
  }
})
