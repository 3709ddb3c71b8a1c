import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openTestDatabase } from '../db/testing'
import { ComputeRepository } from './compute.repository'

let db: Awaited<ReturnType<typeof openTestDatabase>>
let repository: ComputeRepository
let other: ComputeRepository
let n = 0

beforeAll(async () => {
  db = await openTestDatabase('postgres')
  repository = new ComputeRepository(db.database)
  other = new ComputeRepository(db.database)
})

afterAll(async () => {
  await db?.database.close()
  await db?.cleanup()
})

async function accept(leaseMs = 60_000) {
  const id = `req-${n++}`
  const inserted = await repository.insert(
    {
      id,
      kind: 'inference',
      modelId: `0x${'a'.repeat(64)}`,
      requester: '0x0000000000000000000000000000000000000000',
      maxPrice: null,
      body: { test: true },
      expiresAt: new Date(Date.now() + 60_000),
    },
    leaseMs,
  )
  expect(inserted).toBe(true)
  return id
}

const claimed = async (by: ComputeRepository) =>
  (await by.claimOrphans({ kind: 'inference', leaseMs: 60_000, limit: 100 })).map((r) => r.id)

describe('ComputeRepository (the request queue)', () => {
  it('accepts a request id once: a repeated id is not inserted again', async () => {
    const id = await accept()
    const again = await repository.insert(
      {
        id,
        kind: 'inference',
        modelId: null,
        requester: '0x0000000000000000000000000000000000000000',
        maxPrice: null,
        body: {},
        expiresAt: new Date(Date.now() + 60_000),
      },
      60_000,
    )
    expect(again).toBe(false)
  })

  it('keeps a completed request completed when a late attempt count lands after it', async () => {
    const id = await accept(1)
    await repository.complete({ id, worker: '0xabc', result: { ok: true }, attempts: 1 })
    await repository.markRunning(id, 1)
    expect(await repository.find(id)).toMatchObject({ status: 'completed', result: { ok: true } })
    expect(await claimed(other)).not.toContain(id)
  })

  it('keeps a failed request failed when a late attempt count lands after it', async () => {
    const id = await accept(1)
    await repository.fail({ id, error: { reason: 'WORKER_FAILED', message: 'x' }, attempts: 1 })
    await repository.markRunning(id, 2)
    expect(await repository.find(id)).toMatchObject({ status: 'failed', attempts: 1 })
    expect(await claimed(other)).not.toContain(id)
  })

  it('lets another replica claim an unfinished request only once its lease lapsed or was given back', async () => {
    const held = await accept(60_000)
    const given = await accept(60_000)
    const lapsed = await accept(1)
    await new Promise((r) => setTimeout(r, 5))
    await repository.releaseLeases([given])
    const ids = await claimed(other)
    expect(ids).toContain(given)
    expect(ids).toContain(lapsed)
    expect(ids).not.toContain(held)
    expect(await claimed(repository)).not.toContain(given)
  })
})
