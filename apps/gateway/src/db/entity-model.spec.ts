import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { readSchemaModel, renderEntityTables } from './entity-model'
import { SCHEMA_PATH } from './schema-file'

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))
const gatewayDir = path.resolve(here, '../..')

describe('entity tables and subgraph/schema.graphql', () => {
  it('the committed tables are exactly what the schema generates', () => {
    const generated = renderEntityTables(readSchemaModel(readFileSync(SCHEMA_PATH, 'utf8')))
    expect(readFileSync(path.join(here, 'entities.generated.ts'), 'utf8')).toBe(generated)
  })

  it('the committed migrations already contain every table and column', () => {
    // drizzle-kit into a copy of migrations/: a schema the migrations miss would produce a new file there.
    const out = mkdtempSync(path.join(tmpdir(), 'cg-migrations-'))
    try {
      cpSync(path.resolve(gatewayDir, '../../migrations'), out, { recursive: true })
      const config = path.join(gatewayDir, `drizzle.check.${process.pid}.config.ts`)
      writeFileSync(
        config,
        `export default { dialect: 'postgresql', schema: './src/db/schema.ts', out: ${JSON.stringify(path.relative(gatewayDir, out))} }\n`,
      )
      try {
        const bin = path.join(path.dirname(require.resolve('drizzle-kit')), 'bin.cjs')
        const stdout = execFileSync(process.execPath, [bin, 'generate', '--config', config], {
          cwd: gatewayDir,
          encoding: 'utf8',
        })
        expect(stdout).toMatch(/No schema changes/)
      } finally {
        rmSync(config, { force: true })
      }
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })

  it('maps every field type, reference and derived field', () => {
    const model = readSchemaModel(readFileSync(SCHEMA_PATH, 'utf8'))
    const job = model.entities.find((e) => e.name === 'Job')
    expect(job?.fields.find((f) => f.name === 'provider')).toMatchObject({
      ref: 'Provider',
      kind: 'bytes',
      nullable: true,
    })
    expect(job?.fields.find((f) => f.name === 'payment')).toMatchObject({ kind: 'bigint', column: 'payment' })
    expect(job?.fields.find((f) => f.name === 'status')).toMatchObject({ kind: 'enum', enumName: 'JobStatus' })
    expect(job?.derived).toEqual([{ name: 'dispute', entity: 'Dispute', field: 'job', list: false }])
    expect(model.entities.find((e) => e.name === 'StakeEvent')?.immutable).toBe(true)
    expect(() => readSchemaModel('type A @entity { id: ID! tags: [String!]! }')).toThrow(/A.tags: list fields/)
    expect(() => readSchemaModel('type A @entity { id: Int! }')).toThrow(/A.id must be ID or Bytes/)
  })

  it('reads timeseries and aggregations as graph-node defines them, refusing what graph-node refuses', () => {
    const model = readSchemaModel(readFileSync(SCHEMA_PATH, 'utf8'))
    const points = model.entities.find((e) => e.name === 'ProviderDataPoint')
    expect(points).toMatchObject({ timeseries: true, immutable: true, idKind: 'int8' })
    expect(points?.fields.find((f) => f.name === 'timestamp')).toMatchObject({ kind: 'timestamp' })
    const stat = model.aggregations.find((a) => a.name === 'ProviderStat')
    expect(stat).toMatchObject({ source: 'ProviderDataPoint', intervals: ['hour', 'day'], table: 'provider_stat' })
    expect(stat?.dimensions.map((d) => d.name)).toEqual(['provider'])
    expect(stat?.aggregates.find((a) => a.field.name === 'rewardsEarned')).toMatchObject({
      fn: 'sum',
      arg: { name: 'rewards' },
      cumulative: true,
    })
    const base = 'type D @entity(timeseries: true) { id: Int8! timestamp: Timestamp! v: BigInt! }'
    expect(() => readSchemaModel('type D @entity(timeseries: true) { id: ID! timestamp: Timestamp! }')).toThrow(
      /D.id must be Int8/,
    )
    expect(() =>
      readSchemaModel('type D @entity(timeseries: true, immutable: false) { id: Int8! timestamp: Timestamp! }'),
    ).toThrow(/always immutable/)
    expect(() =>
      readSchemaModel(
        `${base} type S @aggregation(intervals: ["week"], source: "D") { id: Int8! timestamp: Timestamp! s: BigInt! @aggregate(fn: "sum", arg: "v") }`,
      ),
    ).toThrow(/intervals/)
    expect(() =>
      readSchemaModel(
        `${base} type S @aggregation(intervals: ["hour"], source: "D") { id: Int8! timestamp: Timestamp! s: BigInt! @aggregate(fn: "avg", arg: "v") }`,
      ),
    ).toThrow(/fn:\) must be one of sum, count, min, max, first, last/)
    expect(() =>
      readSchemaModel(
        `${base} type S @aggregation(intervals: ["hour"], source: "D") { id: Int8! timestamp: Timestamp! s: BigInt! @aggregate(fn: "sum", arg: "w") }`,
      ),
    ).toThrow(/must name a numeric field of D/)
    expect(() =>
      readSchemaModel(
        `${base} type S @aggregation(intervals: ["hour"], source: "Nope") { id: Int8! timestamp: Timestamp! s: BigInt! @aggregate(fn: "count") }`,
      ),
    ).toThrow(/must name a timeseries type/)
  })
})
