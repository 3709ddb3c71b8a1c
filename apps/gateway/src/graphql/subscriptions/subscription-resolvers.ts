import { UnavailableError } from '../graphql.errors'
import type { GraphqlContext, SchemaExtension } from '../schema-extension'
import type { ChangeFeed, FeedBlock, FeedEvent, JobChangeEvent, StatsBucketEvent } from './change-feed'
import { Channel } from './channel'
import { compileJobFilter, type JobChangedFilter } from './job-filter'
import { SUBSCRIPTION_SDL } from './subscription-sdl'

// Undelivered events one subscription may hold: a client this far behind is dropped rather than buffered without
// bound; about a minute of a busy chain's job changes.
export const MAX_QUEUED_EVENTS = 10_000

interface SubscriptionField {
  subscribe?: (parent: unknown, args: Record<string, unknown>, ctx: GraphqlContext) => unknown
  resolve?: (parent: never, args: Record<string, unknown>, ctx: GraphqlContext) => unknown
}

/** Field hooks by type and field, attached to the SDL's `Subscription` and the types it delivers. */
type SubscriptionFields = Record<string, Record<string, SubscriptionField>>

const apiBlock = (b: FeedBlock) => ({
  number: Number(b.number),
  hash: b.hash,
  timestamp: Number(b.timestamp),
  parentHash: b.parentHash,
})

/** Arguments that read one bucket's rows at the block that closed it (for a correction: at the ancestor). */
const bucketArgs = (bucket: StatsBucketEvent, args: Record<string, unknown>) => ({
  ...args,
  interval: bucket.interval,
  where: { timestamp: bucket.timestamp.toString() },
  block: { number: Number(bucket.block.number) },
})

/** An iterator over the feed's events that `pick` maps to a payload (undefined skips the event). */
function stream(feed: ChangeFeed, pick: (event: FeedEvent) => unknown): Channel<unknown> {
  let unsubscribe = () => {}
  const channel = new Channel<unknown>({
    capacity: MAX_QUEUED_EVENTS,
    overflow: () =>
      new UnavailableError(
        `subscription dropped: more than ${MAX_QUEUED_EVENTS} events were waiting for this client; subscribe again`,
      ),
    onClose: () => unsubscribe(),
  })
  unsubscribe = feed.subscribe((event) => {
    const payload = pick(event)
    if (payload !== undefined) channel.push(payload)
  })
  return channel
}

/**
 * `newBlock`, `reorg`, `jobChanged` and `statsRolledUp` over the change feed; `JobChange.job` and the buckets' rows
 * read through the request's loaders.
 */
function subscriptionFields({ feed, maxIn }: { feed: ChangeFeed; maxIn: number }): SubscriptionFields {
  return {
    Subscription: {
      newBlock: {
        subscribe: () => stream(feed, (e) => (e.kind === 'block' ? { newBlock: apiBlock(e.block) } : undefined)),
      },
      reorg: {
        subscribe: () =>
          stream(feed, (e) =>
            e.kind === 'reorg'
              ? {
                  reorg: {
                    ancestor: Number(e.ancestor),
                    orphanedHead: Number(e.orphanedHead),
                    newHead: e.newHead && apiBlock(e.newHead),
                  },
                }
              : undefined,
          ),
      },
      statsRolledUp: {
        subscribe: (_, args) =>
          stream(feed, (e) =>
            e.kind === 'stats' && (!args.interval || args.interval === e.bucket.interval)
              ? { statsRolledUp: e.bucket }
              : undefined,
          ),
      },
      jobChanged: {
        subscribe: (_, args) => {
          const matches = compileJobFilter({ where: args.where as JobChangedFilter | null, maxIn })
          return stream(feed, (e) => {
            if (e.kind !== 'job') return undefined
            const { job, orphaned } = e.change
            if (!((job && matches(job)) || (orphaned && matches(orphaned)))) return undefined
            return { jobChanged: e.change }
          })
        },
      },
    },
    JobChange: {
      job: {
        resolve: (change: JobChangeEvent, _, ctx) =>
          change.job &&
          ctx.entities.one({ entity: 'Job', id: change.id, block: { number: Number(change.block.number) } }),
      },
      block: { resolve: (change: JobChangeEvent) => apiBlock(change.block) },
    },
    // The bucket's rows are read at the block that closed it, through the request's loaders like any query's.
    StatsBucket: {
      block: { resolve: (bucket: StatsBucketEvent) => apiBlock(bucket.block) },
      network: {
        resolve: async (bucket: StatsBucketEvent, _, ctx) => {
          const rows = await ctx.entities.aggregation({
            aggregation: 'NetworkStat',
            args: bucketArgs(bucket, { first: 1 }),
          })
          return rows[0] ?? null
        },
      },
      providers: {
        resolve: (bucket: StatsBucketEvent, args, ctx) =>
          ctx.entities.aggregation({ aggregation: 'ProviderStat', args: bucketArgs(bucket, args) }),
      },
    },
  }
}

/** The live-update part of the API as one more schema extension: `Subscription`, the types it delivers, their hooks. */
export function subscriptionsSchema({ feed, maxIn }: { feed: ChangeFeed; maxIn: number }): SchemaExtension {
  return {
    typeDefs: SUBSCRIPTION_SDL,
    resolvers: subscriptionFields({ feed, maxIn }) as SchemaExtension['resolvers'],
  }
}
