import type { SchemaModel } from '../db/entity-model'
import { type EntityChanges, EntityStore } from './entity-store'
import type { ChainEvent } from './events'
import { applyEvent, DataPointIds, dependentKeys, entityKeys, type HandlerEnv } from './handlers'
import type { IndexerRepository } from './indexer.repository'

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

  async apply(events: ChainEvent[]): Promise<void> {
    if (events.length === 0) return
    await this.prefetch(events.flatMap((e) => entityKeys(e)))
    await this.prefetch(events.flatMap((e) => dependentKeys(e, (entity, id) => this.store.peek(entity, id))))
    for (const event of events) {
      try {
        applyEvent({ store: this.store, event, env: this.env, ids: this.ids })
      } catch (error) {
        const where = `${event.contract}.${event.name} at block ${event.blockNumber} log ${event.logIndex}`
        throw new HandlerError(`${where}: ${(error as Error).message}`, { cause: error })
      }
    }
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
