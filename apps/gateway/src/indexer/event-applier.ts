import type { SchemaModel } from '../db/entity-model'
import { type EntityChanges, EntityStore } from './entity-store'
import type { ChainEvent } from './events'
import { applyEvent, DataPointIds, dependentKeys, entityKeys, type HandlerEnv } from './handlers'
import type { IndexerRepository } from './indexer.repository'
import { bucketClock } from './rollup'

/** A handler failed on an event: a bug or an unexpected event, not something a retry cures. */
export class HandlerError extends Error {
  override name = 'HandlerError'
}

/**
 * Runs handlers over events against the entity store, after loading every entity they touch in one query per
 * table and pass. Shared by the live indexer and the rebuild command, so both derive identical entities.
 */
export class EventApplier {
  readonly store: EntityStore
  private ids = new DataPointIds()

  constructor(
    private readonly repository: IndexerRepository,
    private readonly model: SchemaModel,
    private readonly env: HandlerEnv,
    cacheEntities?: number,
  ) {
    this.store = new EntityStore(model, cacheEntities)
  }

  /**
   * Applies `events` (in chain order) from the bucket clock `clock`, which each event's block and each of `blocks`
   * (stored blocks among them that have no events, for a rebuild) raises in chain order. Returns the clock after them.
   */
  async apply(
    events: ChainEvent[],
    { clock, blocks = [] }: { clock: bigint; blocks?: { number: bigint; timestamp: bigint }[] },
  ): Promise<bigint> {
    if (events.length === 0) return clock
    await this.prefetch(events.flatMap((e) => entityKeys(e)))
    await this.prefetch(events.flatMap((e) => dependentKeys(e, (entity, id) => this.store.peek(entity, id))))
    let i = 0
    for (const event of events) {
      for (let b = blocks[i]; b && b.number <= event.blockNumber; b = blocks[++i])
        clock = bucketClock(clock, b.timestamp)
      clock = bucketClock(clock, event.timestamp)
      try {
        applyEvent({ store: this.store, event, env: this.env, ids: this.ids, bucketTime: clock })
      } catch (error) {
        const where = `${event.contract}.${event.name} at block ${event.blockNumber} log ${event.logIndex}`
        throw new HandlerError(`${where}: ${(error as Error).message}`, { cause: error })
      }
    }
    return clock
  }

  takeChanges(): EntityChanges[] {
    return this.store.takeChanges()
  }

  /** Forgets cached state, after a rollback or a failed batch that was never committed. */
  reset(): void {
    this.store.clear()
    this.ids = new DataPointIds()
  }

  private async prefetch(keys: [string, string][]): Promise<void> {
    const byEntity = new Map<string, string[]>()
    for (const [entity, id] of keys) {
      const list = byEntity.get(entity) ?? []
      list.push(id)
      byEntity.set(entity, list)
    }
    for (const [entity, ids] of byEntity) {
      const missing = this.store.missing(entity, ids)
      if (missing.length === 0) continue
      const model = this.model.entities.find((e) => e.name === entity)
      if (!model) throw new HandlerError(`unknown entity ${entity}`)
      this.store.load(entity, missing, await this.repository.loadCurrent(model, missing))
    }
  }
}
