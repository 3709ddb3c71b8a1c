import { describe, expect, it } from 'vitest'
import { readSchemaModel } from '../db/entity-model'
import { EntityStore, MissingEntityError } from './entity-store'

const model = readSchemaModel('type Thing @entity { id: ID! n: BigInt! }')

describe('EntityStore', () => {
  it('keeps one version per block and closes the stored version at the first new block', () => {
    const store = new EntityStore(model)
    store.load('Thing', ['a'], [{ row: { id: 'a', n: 1n }, blockFrom: 5n }])
    store.set('Thing', { id: 'a', n: 2n }, 7n)
    store.set('Thing', { id: 'a', n: 3n }, 7n)
    store.set('Thing', { id: 'a', n: 4n }, 9n)
    const [changes] = store.takeChanges()
    expect(changes?.close).toEqual([{ id: 'a', blockTo: 7n }])
    expect(changes?.replace).toEqual([])
    expect(changes?.insert).toEqual([
      { row: { id: 'a', n: 3n }, blockFrom: 7n, blockTo: 9n },
      { row: { id: 'a', n: 4n }, blockFrom: 9n, blockTo: null },
    ])
  })

  it('replaces a stored version written in the same block (a block split across two batches)', () => {
    const store = new EntityStore(model)
    store.set('Thing', { id: 'b', n: 1n }, 3n)
    store.takeChanges()
    store.set('Thing', { id: 'b', n: 2n }, 3n)
    const [changes] = store.takeChanges()
    expect(changes?.replace).toEqual([{ id: 'b', blockFrom: 3n }])
    expect(changes?.insert).toEqual([{ row: { id: 'b', n: 2n }, blockFrom: 3n, blockTo: null }])
  })

  it('hands out copies, so a handler cannot change a version already recorded', () => {
    const store = new EntityStore(model)
    store.set('Thing', { id: 'c', n: 1n }, 1n)
    const row = store.get('Thing', 'c')
    if (row) row.n = 99n
    expect(store.get('Thing', 'c')?.n).toBe(1n)
  })

  it('refuses to read an entity that was never prefetched', () => {
    const store = new EntityStore(model)
    expect(() => store.get('Thing', 'zzz')).toThrow(MissingEntityError)
    store.load('Thing', ['zzz'], [])
    expect(store.get('Thing', 'zzz')).toBeUndefined()
  })

  it('never evicts what the latest take handed to a write that may still be running', () => {
    const store = new EntityStore(model, 2)
    for (const id of ['a', 'b', 'c', 'd']) store.set('Thing', { id, n: 1n }, 1n)
    store.takeChanges()
    expect(store.missing('Thing', ['a', 'b', 'c', 'd'])).toEqual([])
  })
})
