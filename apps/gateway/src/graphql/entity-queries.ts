import DataLoader from 'dataloader'
import type { EntityModel, Interval } from '../db/entity-model'
import { type ApiModel, entityApi, type Relation } from './api-model'
import { type BlockHeight, type Head, type ResolvedBlock, resolveBlock } from './block-height'
import type { EntityRepository, EntityRow } from './entity.repository'
import { BadUserInputError, UnavailableError } from './graphql.errors'
import { normalizeBytes } from './scalars'
import type { BlockScope } from './sql/block-range'
import type { Where } from './sql/filter'
import { validatePage } from './sql/order'
import type { ListArgs } from './sql/statements'

/** Where a row was read; nested fields read at the same block (they take no `block` argument). */
export const SCOPE = Symbol('block scope')
export type ScopedRow = EntityRow & { [SCOPE]: BlockScope }

export interface CollectionArgs {
  where?: Where | null
  orderBy?: string | null
  orderDirection?: string | null
  first?: number | null
  skip?: number | null
  block?: BlockHeight | null
}

/** The cursor as the API sees it; `fresh` skips any cache, for requests that ask past the cached head. */
export interface HeadSource {
  latest(options?: { fresh?: boolean }): Promise<Head | null>
}

export interface EntityQueriesDeps {
  api: ApiModel
  repository: EntityRepository
  heads: HeadSource
  limits: { maxFirst: number; maxSkip: number }
  /** The deployment's id for `_meta`, given the chain the cursor is on. */
  deployment: (chainId: number | null) => string
}

const scopeKey = (s: BlockScope) => (s === 'latest' ? 'latest' : s.toString())

/**
 * One request's view of the entities: resolves `block` arguments once, and batches every relation through
 * DataLoaders so that each relation costs one statement per request, whatever the number of parent rows.
 */
export class EntityQueries {
  private readonly loaders = new Map<string, DataLoader<string, unknown>>()
  private readonly blocks = new Map<string, Promise<ResolvedBlock>>()
  private head?: Promise<Head | null>

  constructor(private readonly deps: EntityQueriesDeps) {}

  /** `t(id, block)`: lookups of the same type and block, aliased many times, share one statement. */
  async one({ entity, id, block }: { entity: string; id: string; block?: BlockHeight | null }) {
    const e = entityApi(this.deps.api, entity)
    const key =
      e.entity.idKind === 'bytes'
        ? bytesId(id, e.entity.name)
        : e.entity.idKind === 'int8'
          ? int8Id(id, e.entity.name)
          : id
    const resolved = await this.block(block)
    return this.byId(e.entity, resolved.scope).load(key)
  }

  /** `ts(where, orderBy, orderDirection, first, skip, block)`. */
  async list({ entity, args }: { entity: string; args: CollectionArgs }): Promise<ScopedRow[]> {
    const e = entityApi(this.deps.api, entity)
    const page = validatePage({ first: args.first, skip: args.skip, ...this.deps.limits })
    const resolved = await this.block(args.block)
    const rows = await this.deps.repository.list({
      api: this.deps.api,
      entity: e,
      args: { ...listArgs(args), ...page },
      block: resolved.scope,
    })
    return rows.map((r) => scoped(r, resolved.scope))
  }

  /** `stats(interval, current, where, orderBy, orderDirection, first, skip, block)` of an aggregation. */
  async aggregation({
    aggregation,
    args,
  }: {
    aggregation: string
    args: CollectionArgs & { interval: string; current?: string | null }
  }): Promise<ScopedRow[]> {
    const a = this.deps.api.aggregations.get(aggregation)
    if (!a) throw new Error(`no aggregation ${aggregation}`)
    if (!a.entity.intervals.includes(args.interval as Interval)) {
      throw new BadUserInputError(
        `interval: ${aggregation} is aggregated by ${a.entity.intervals.join(' and ')}, got ${JSON.stringify(args.interval)}`,
      )
    }
    const page = validatePage({ first: args.first, skip: args.skip, ...this.deps.limits })
    const resolved = await this.block(args.block)
    const head = await this.latest()
    const rows = await this.deps.repository.aggregation({
      api: this.deps.api,
      aggregation: a,
      interval: args.interval as Interval,
      current: args.current === 'include',
      args: { ...listArgs(args), ...page },
      block: resolved.scope,
      chainId: head?.chainId ?? null,
    })
    return rows.map((r) => scoped(r, resolved.scope))
  }

  /** A field that leads to other entities (`job.provider`, `provider.jobs(…)`, `job.dispute`), at the parent's block. */
  related({ entity, field, parent, args }: { entity: string; field: string; parent: ScopedRow; args: CollectionArgs }) {
    const relation = entityApi(this.deps.api, entity).relations.get(field) as Relation
    const scope = parent[SCOPE]
    if (relation.kind === 'reference') {
      const id = parent[field]
      return id === null || id === undefined ? null : this.byId(relation.target, scope).load(id as string)
    }
    if (!relation.list) {
      return this.children(relation, { first: 1, skip: 0 }, scope)
        .load(parent.id as string)
        .then((rows) => rows[0] ?? null)
    }
    const page = validatePage({ first: args.first, skip: args.skip, ...this.deps.limits })
    return this.children(relation, { ...listArgs(args), ...page }, scope).load(parent.id as string)
  }

  /** `_meta(block)`: the block read at, the deployment, and whether indexing hit errors. */
  async meta({ block }: { block?: BlockHeight | null }) {
    const head = await this.latest()
    const resolved = await this.block(block)
    if (!head || resolved.number === null) throw new UnavailableError('_meta: no block has been indexed yet')
    const stored = await this.deps.repository.metaAt({ chainId: head.chainId, number: resolved.number })
    return {
      deployment: this.deps.deployment(head.chainId),
      hasIndexingErrors: stored.hasIndexingErrors,
      block: {
        number: Number(resolved.number),
        hash: resolved.hash ?? stored.block?.hash ?? null,
        timestamp: stored.block ? Number(stored.block.timestamp) : resolved.isHead ? Number(head.timestamp) : null,
        parentHash: stored.block?.parentHash ?? null,
      },
    }
  }

  private latest(): Promise<Head | null> {
    this.head ??= this.deps.heads.latest()
    return this.head
  }

  private block(height: BlockHeight | null | undefined): Promise<ResolvedBlock> {
    const key = JSON.stringify(height ?? null)
    let resolved = this.blocks.get(key)
    if (!resolved) {
      resolved = this.latest().then((head) =>
        resolveBlock({
          height,
          head,
          freshHead: () => this.deps.heads.latest({ fresh: true }),
          blockByHash: async (hash) => {
            const chainId = head?.chainId ?? (await this.deps.heads.latest({ fresh: true }))?.chainId
            return chainId === undefined ? null : this.deps.repository.blockByHash({ chainId, hash })
          },
          deployment: this.deps.deployment(head?.chainId ?? null),
        }),
      )
      this.blocks.set(key, resolved)
    }
    return resolved
  }

  private byId(entity: EntityModel, scope: BlockScope): DataLoader<string, ScopedRow | null> {
    return this.loader(`id:${entity.name}:${scopeKey(scope)}`, async (ids) => {
      const rows = await this.deps.repository.byIds({ entity, ids: [...new Set(ids)], block: scope })
      const byId = new Map(rows.map((r) => [r.id as string, scoped(r, scope)]))
      return ids.map((id) => byId.get(id) ?? null)
    })
  }

  private children(
    relation: Extract<Relation, { kind: 'derived' }>,
    args: ListArgs,
    scope: BlockScope,
  ): DataLoader<string, ScopedRow[]> {
    const key = `rel:${relation.target.name}.${relation.column}:${scopeKey(scope)}:${JSON.stringify(args)}`
    return this.loader(key, async (parentIds) => {
      const rows = await this.deps.repository.related({
        api: this.deps.api,
        relation,
        parentIds: [...new Set(parentIds)],
        args,
        block: scope,
      })
      const groups = new Map<string, ScopedRow[]>()
      for (const r of rows) {
        const parent = r._parent as string
        const group = groups.get(parent)
        if (group) group.push(scoped(r, scope))
        else groups.set(parent, [scoped(r, scope)])
      }
      return parentIds.map((id) => groups.get(id) ?? [])
    })
  }

  private loader<V>(key: string, batch: (keys: readonly string[]) => Promise<V[]>): DataLoader<string, V> {
    let loader = this.loaders.get(key) as DataLoader<string, V> | undefined
    if (!loader) {
      loader = new DataLoader<string, V>(batch)
      this.loaders.set(key, loader as DataLoader<string, unknown>)
    }
    return loader
  }
}

function listArgs(args: CollectionArgs): Omit<ListArgs, 'first' | 'skip'> {
  return { where: args.where ?? null, orderBy: args.orderBy ?? null, orderDirection: args.orderDirection ?? null }
}

function scoped(row: EntityRow, scope: BlockScope): ScopedRow {
  return Object.assign(row, { [SCOPE]: scope }) as ScopedRow
}

function int8Id(id: string, entity: string): string {
  if (/^-?[0-9]{1,19}$/.test(id) && BigInt(id) < 2n ** 63n && BigInt(id) >= -(2n ** 63n)) return BigInt(id).toString()
  throw new BadUserInputError(`id must be a decimal Int8 for ${entity}, got ${JSON.stringify(id)}`)
}

function bytesId(id: string, entity: string): string {
  try {
    return normalizeBytes(id)
  } catch {
    throw new BadUserInputError(`id must be a hex string of whole bytes for ${entity}, got ${JSON.stringify(id)}`)
  }
}
