import type { EntityModel, SchemaModel } from '../db/entity-model'

/** One entity's field values: bigint for BigInt fields, lower-case hex strings for Bytes, null when unset. */
export type Row = Record<string, unknown> & { id: string }

interface Entry {
  /** The latest version written to the database (null: known not to exist there). */
  stored: Row | null
  storedBlockFrom: bigint | null
  /** Versions written by handlers since the last flush, oldest first, at most one per block. */
  pending: { row: Row; blockFrom: bigint }[]
  /** The takeChanges call that last handed this entity to a write. */
  takenIn: number
}

export interface EntityChanges {
  entity: EntityModel
  /** Stored current versions replaced at a later block: set their block_to. */
  close: { id: string; blockTo: bigint }[]
  /** Stored current versions replaced within their own block: delete them. */
  replace: { id: string; blockFrom: bigint }[]
  insert: { row: Row; blockFrom: bigint; blockTo: bigint | null }[]
}

export class MissingEntityError extends Error {
  override name = 'MissingEntityError'
}

/**
 * The indexer's view of current entity state: a bounded cache in front of the database that handlers read and
 * write synchronously. Writes become block-range versions; `takeChanges` hands them to the repository in one batch.
 * Safe because a single indexer writes a database at a time (advisory lock).
 */
export class EntityStore {
  private readonly entries = new Map<string, Map<string, Entry>>()
  private readonly models = new Map<string, EntityModel>()
  private size = 0
  private takes = 0

  constructor(
    model: SchemaModel,
    private readonly capacity = 200_000,
  ) {
    for (const e of model.entities) {
      this.entries.set(e.name, new Map())
      this.models.set(e.name, e)
    }
  }

  private table(entity: string): Map<string, Entry> {
    const t = this.entries.get(entity)
    if (!t) throw new Error(`unknown entity ${entity}`)
    return t
  }

  /** Ids of `entity` the cache knows nothing about; the caller loads them before running handlers. */
  missing(entity: string, ids: Iterable<string>): string[] {
    const t = this.table(entity)
    const out = new Set<string>()
    for (const id of ids) if (!t.has(id)) out.add(id)
    return [...out]
  }

  /** Records what the database holds for `ids`: a row with its block_from, or nothing. */
  load(entity: string, ids: string[], rows: { row: Row; blockFrom: bigint }[]): void {
    const t = this.table(entity)
    const found = new Map(rows.map((r) => [r.row.id, r]))
    for (const id of ids) {
      if (t.has(id)) continue
      const r = found.get(id)
      t.set(id, { stored: r?.row ?? null, storedBlockFrom: r?.blockFrom ?? null, pending: [], takenIn: 0 })
      this.size++
    }
  }

  /** The entity's current state, or undefined when it does not exist. Throws if it was never loaded. */
  get(entity: string, id: string): Row | undefined {
    const e = this.table(entity).get(id)
    if (!e) throw new MissingEntityError(`${entity} ${id} was not prefetched before its handler ran`)
    const row = e.pending.at(-1)?.row ?? e.stored
    return row ? { ...row } : undefined
  }

  /** Like get, but undefined for entities not loaded yet instead of an error. */
  peek(entity: string, id: string): Row | undefined {
    const e = this.table(entity).get(id)
    return (e?.pending.at(-1)?.row ?? e?.stored) || undefined
  }

  /** Writes the entity's new state as of `block`. */
  set(entity: string, row: Row, block: bigint): void {
    const t = this.table(entity)
    let e = t.get(row.id)
    if (!e) {
      e = { stored: null, storedBlockFrom: null, pending: [], takenIn: 0 }
      t.set(row.id, e)
      this.size++
    }
    const last = e.pending.at(-1)
    if (last && last.blockFrom === block) last.row = { ...row }
    else e.pending.push({ row: { ...row }, blockFrom: block })
  }

  /** Takes every version written since the last call, marking them stored. */
  takeChanges(): EntityChanges[] {
    this.takes++
    const out: EntityChanges[] = []
    for (const [name, t] of this.entries) {
      const changes: EntityChanges = {
        entity: this.models.get(name) as EntityModel,
        close: [],
        replace: [],
        insert: [],
      }
      for (const [id, e] of t) {
        if (e.pending.length === 0) continue
        const first = e.pending[0] as { row: Row; blockFrom: bigint }
        if (e.stored && e.storedBlockFrom !== null) {
          if (e.storedBlockFrom === first.blockFrom) changes.replace.push({ id, blockFrom: first.blockFrom })
          else changes.close.push({ id, blockTo: first.blockFrom })
        }
        e.pending.forEach((v, i) => {
          changes.insert.push({ row: v.row, blockFrom: v.blockFrom, blockTo: e.pending[i + 1]?.blockFrom ?? null })
        })
        const last = e.pending.at(-1) as { row: Row; blockFrom: bigint }
        e.stored = last.row
        e.storedBlockFrom = last.blockFrom
        e.pending = []
        e.takenIn = this.takes
      }
      if (changes.insert.length > 0) out.push(changes)
    }
    this.evict()
    return out
  }

  /** Forgets everything, e.g. after a rollback changed what the database holds. */
  clear(): void {
    for (const t of this.entries.values()) t.clear()
    this.size = 0
  }

  get pendingCount(): number {
    let n = 0
    for (const t of this.entries.values()) for (const e of t.values()) n += e.pending.length
    return n
  }

  /**
   * Drops the oldest-inserted half of each table (Map iteration order is insertion order), keeping what the latest
   * take handed to a write: that write may still be running, and a re-read before it commits would be stale.
   */
  private evict(): void {
    if (this.size <= this.capacity) return
    for (const t of this.entries.values()) {
      let drop = Math.ceil(t.size / 2)
      for (const [id, e] of t) {
        if (drop-- <= 0) break
        if (e.pending.length === 0 && e.takenIn !== this.takes) {
          t.delete(id)
          this.size--
        }
      }
    }
  }
}
