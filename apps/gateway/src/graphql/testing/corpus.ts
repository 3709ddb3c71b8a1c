import type { SchemaModel } from '../../db/entity-model'
import type { Truth, TruthRow } from './chain-truth'
import { Enum, Oracle, type Spec } from './oracle'

/**
 * Queries in the subgraph dialect, with values picked from the truth so that each answer is neither empty nor
 * everything. `head` is the state at the chain's head; `past` at an earlier block that has indexed events.
 */
export interface Corpus {
  filters: Spec[]
  relations: Spec[]
  ordering: Spec[]
  lookups: Spec[]
  timeTravel: Spec[]
  /** Hourly and daily statistics (`@aggregation` queries) and provider leaderboards. */
  statistics: Spec[]
}

const rows = (t: Truth, entity: string) => t.entities[entity] as TruthRow[]
const present = (t: Truth, entity: string, field: string) => rows(t, entity).filter((r) => r[field] !== null)
/** The value at `fraction` of the sorted non-null values of a BigInt field. */
const quantile = (t: Truth, entity: string, field: string, fraction: number) => {
  const values = present(t, entity, field)
    .map((r) => BigInt(r[field] as string))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  return String(values[Math.min(values.length - 1, Math.floor(values.length * fraction))])
}
const swapCase = (s: string) => [...s].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('')
const must = <T>(x: T | undefined, what: string): T => {
  if (x === undefined) throw new Error(`the seeded activity has no ${what}; change the seed`)
  return x
}

const ALL = 1000

export function buildCorpus({
  schema,
  head,
  past,
  pastHash,
}: {
  schema: SchemaModel
  head: Truth
  past: Truth
  pastHash: string
}): Corpus {
  const jobs = rows(head, 'Job')
  const providers = rows(head, 'Provider')
  const busy = must(
    [...providers].sort(
      (a, b) => jobs.filter((j) => j.provider === b.id).length - jobs.filter((j) => j.provider === a.id).length,
    )[0],
    'provider with jobs',
  )
  const other = must(
    providers.find((p) => p.id !== busy.id && jobs.some((j) => j.provider === p.id)),
    'second busy provider',
  )
  const uri = must(
    providers.map((p) => p.metadataURI as string).find((u) => /[a-f]/i.test(u.slice(-4))),
    'provider URI with a letter',
  )
  const payment = (f: number) => quantile(head, 'Job', 'payment', f)
  const stake = quantile(head, 'Provider', 'stake', 0.4)
  const addressPart = busy.id.slice(10, 14) // two whole bytes from the middle of the address
  // Range comparisons need an id with others on both sides, whatever the seeded data makes of the busiest provider.
  const middle = must(
    providers.map((p) => p.id as string).sort()[Math.floor(providers.length / 2)],
    'provider in the middle of the id order',
  )
  const output = must(present(head, 'Job', 'inputHash')[3], 'job')
  const client = must(rows(head, 'Client')[0], 'client')
  const model = must(rows(head, 'Model')[1], 'model')
  const dispute = must(rows(head, 'Dispute')[0], 'dispute')
  const jobWithProvider = must(
    jobs.find((j) => j.provider && Number(j.createdAtBlock) < Number(past.block)),
    'assigned job before the past block',
  )
  const epoch = must(
    rows(head, 'Epoch').find((e) => rows(head, 'Reward').some((r) => r.epoch === e.id)),
    'epoch with rewards',
  )
  const jobsWhere = (
    name: string,
    where: Record<string, unknown>,
    select: Spec['select'] = ['id', 'status', 'payment'],
  ): Spec => ({
    name,
    field: 'jobs',
    entity: 'Job',
    args: { where, first: ALL },
    select,
  })
  const providersWhere = (name: string, where: Record<string, unknown>): Spec => ({
    name,
    field: 'providers',
    entity: 'Provider',
    args: { where },
    select: ['id', 'metadataURI', 'stake'],
  })

  const filters: Spec[] = [
    // ID
    jobsWhere('ID equals', { id: '7' }),
    jobsWhere('ID _not', { id_not: '7' }),
    jobsWhere('ID _gt (text order)', { id_gt: '5' }),
    jobsWhere('ID _lt', { id_lt: '5' }),
    jobsWhere('ID _gte', { id_gte: '42' }),
    jobsWhere('ID _lte', { id_lte: '100' }),
    jobsWhere('ID _in', { id_in: ['1', '10', '100', '999999'] }),
    jobsWhere('ID _not_in', { id_not_in: ['1', '2', '3'] }),
    // Bytes
    providersWhere('Bytes equals, any case', { id: busy.id.toUpperCase().replace('0X', '0x') }),
    providersWhere('Bytes _not', { id_not: busy.id }),
    providersWhere('Bytes _gt', { id_gt: middle }),
    providersWhere('Bytes _lt', { id_lt: middle }),
    providersWhere('Bytes _gte', { id_gte: middle }),
    providersWhere('Bytes _lte', { id_lte: middle }),
    providersWhere('Bytes _in', { id_in: [busy.id, other.id.toUpperCase().replace('0X', '0x')] }),
    providersWhere('Bytes _not_in', { id_not_in: [busy.id, other.id] }),
    providersWhere('Bytes _contains', { id_contains: `0x${addressPart}` }),
    providersWhere('Bytes _not_contains', { id_not_contains: `0x${addressPart}` }),
    jobsWhere('Bytes _contains on a hash', { inputHash_contains: `0x${(output.inputHash as string).slice(20, 28)}` }),
    jobsWhere('nullable Bytes is null', { outputHash: null }),
    jobsWhere('nullable Bytes _not null', { outputHash_not: null }, ['id', 'outputHash']),
    // BigInt
    jobsWhere('BigInt equals', { payment: payment(0.5) }),
    jobsWhere('BigInt _not', { payment_not: payment(0.5) }),
    jobsWhere('BigInt _gt', { payment_gt: payment(0.7) }),
    jobsWhere('BigInt _lt', { payment_lt: payment(0.3) }),
    jobsWhere('BigInt _gte', { payment_gte: payment(0.8) }),
    jobsWhere('BigInt _lte', { payment_lte: payment(0.2) }),
    jobsWhere('BigInt _in', { payment_in: [payment(0.1), payment(0.9), '1'] }),
    jobsWhere('BigInt _not_in', { payment_not_in: [payment(0.1), payment(0.5)] }),
    jobsWhere('nullable BigInt _gt skips nulls', { completedAt_gt: '0' }, ['id', 'completedAt']),
    // String
    providersWhere('String equals', { metadataURI: uri }),
    providersWhere('String _not', { metadataURI_not: uri }),
    providersWhere('String _gt', { metadataURI_gt: uri }),
    providersWhere('String _lt', { metadataURI_lt: uri }),
    providersWhere('String _gte', { metadataURI_gte: uri }),
    providersWhere('String _lte', { metadataURI_lte: uri }),
    providersWhere('String _in', { metadataURI_in: [uri, 'ipfs://nothing'] }),
    providersWhere('String _not_in', { metadataURI_not_in: [uri] }),
    providersWhere('String _contains', { metadataURI_contains: uri.slice(-4) }),
    providersWhere('String _contains_nocase', { metadataURI_contains_nocase: swapCase(uri.slice(-4)) }),
    providersWhere('String _not_contains', { metadataURI_not_contains: uri.slice(-4) }),
    providersWhere('String _not_contains_nocase', { metadataURI_not_contains_nocase: swapCase(uri.slice(-4)) }),
    providersWhere('String _starts_with', { metadataURI_starts_with: uri.slice(0, 17) }),
    providersWhere('String _starts_with_nocase', { metadataURI_starts_with_nocase: swapCase(uri.slice(0, 17)) }),
    providersWhere('String _not_starts_with', { metadataURI_not_starts_with: uri.slice(0, 17) }),
    providersWhere('String _not_starts_with_nocase', {
      metadataURI_not_starts_with_nocase: swapCase(uri.slice(0, 17)),
    }),
    providersWhere('String _ends_with', { metadataURI_ends_with: uri.slice(-3) }),
    providersWhere('String _ends_with_nocase', { metadataURI_ends_with_nocase: swapCase(uri.slice(-3)) }),
    providersWhere('String _not_ends_with', { metadataURI_not_ends_with: uri.slice(-3) }),
    providersWhere('String _not_ends_with_nocase', { metadataURI_not_ends_with_nocase: swapCase(uri.slice(-3)) }),
    // Boolean
    {
      name: 'Boolean equals',
      field: 'epoches',
      entity: 'Epoch',
      args: { where: { finalized: true } },
      select: ['id', 'finalized', 'rewards'],
    },
    {
      name: 'Boolean _not',
      field: 'epoches',
      entity: 'Epoch',
      args: { where: { finalized_not: true } },
      select: ['id', 'finalized'],
    },
    {
      name: 'Boolean _in',
      field: 'epoches',
      entity: 'Epoch',
      args: { where: { finalized_in: [false] } },
      select: ['id'],
    },
    {
      name: 'Boolean _not_in',
      field: 'epoches',
      entity: 'Epoch',
      args: { where: { finalized_not_in: [false] } },
      select: ['id'],
    },
    // Enums
    jobsWhere('enum equals', { status: new Enum('EXPIRED') }),
    jobsWhere('enum _not', { status_not: new Enum('EXPIRED') }),
    jobsWhere('enum _in', { status_in: [new Enum('OPEN'), new Enum('COMPLETED')] }),
    jobsWhere('enum _not_in', { status_not_in: [new Enum('EXPIRED'), new Enum('OPEN')] }),
    jobsWhere('second enum', { kind: new Enum('TRAINING') }, ['id', 'kind']),
    {
      name: 'enum on an immutable entity',
      field: 'stakeEvents',
      entity: 'StakeEvent',
      args: { where: { type: new Enum('SLASHED') } },
      select: ['id', 'amount', 'reason'],
    },
    // References: the related id as a String, Bytes ids in any case
    jobsWhere('reference equals, any case', { provider: busy.id.toUpperCase().replace('0X', '0x') }, [
      'id',
      { field: 'provider', select: ['id'] },
    ]),
    jobsWhere('reference _not', { provider_not: busy.id }),
    jobsWhere('reference is null', { provider: null }),
    jobsWhere('reference _in', { provider_in: [busy.id, other.id] }),
    jobsWhere('reference _not_in', { provider_not_in: [busy.id] }),
    // The lower of two providers with jobs: jobs of the other one are above it.
    jobsWhere('reference _gt', { provider_gt: [busy.id as string, other.id as string].sort()[0] }),
    jobsWhere('reference _starts_with', { provider_starts_with: busy.id.slice(0, 8) }),
    jobsWhere('reference _contains_nocase', { provider_contains_nocase: busy.id.slice(10, 16).toUpperCase() }),
    jobsWhere('reference _not_ends_with', { provider_not_ends_with: busy.id.slice(-4) }),
    jobsWhere('reference to an ID entity', { model: model.id }),
    {
      name: 'reference to an ID-keyed entity',
      field: 'disputes',
      entity: 'Dispute',
      args: { where: { job_in: [dispute.job as string, '1'] } },
      select: ['id', 'status'],
    },
    {
      name: 'nullable reference is null',
      field: 'rewards',
      entity: 'Reward',
      args: { where: { job: null }, first: ALL },
      select: ['id', 'kind', 'amount'],
    },
    {
      name: 'nullable reference _not null',
      field: 'rewards',
      entity: 'Reward',
      args: { where: { job_not: null }, first: ALL },
      select: ['id', 'kind'],
    },
    {
      name: 'nullable Bytes on an event entity',
      field: 'stakeEvents',
      entity: 'StakeEvent',
      args: { where: { reason_not: null }, first: ALL },
      select: ['id', 'reason'],
    },
    // Nested filters
    jobsWhere('nested filter on a reference', { provider_: { stake_gt: stake } }),
    jobsWhere('nested filter with a numeric field', {
      client_: { jobsCreated_gte: quantile(head, 'Client', 'jobsCreated', 0.5) },
    }),
    jobsWhere('nested filter on a String field', { model_: { uri: model.uri } }),
    jobsWhere('nested filter beside a column filter', {
      provider_: { metadataURI_contains: uri.slice(-4) },
      payment_gt: payment(0.3),
    }),
    {
      name: 'nested filter on an ID-keyed reference',
      field: 'disputes',
      entity: 'Dispute',
      args: { where: { job_: { payment_gt: '0' } } },
      select: ['id', { field: 'job', select: ['id'] }],
    },
    {
      name: 'derived list filter',
      field: 'providers',
      entity: 'Provider',
      args: { where: { jobs_: { status: new Enum('COMPLETED') } } },
      select: ['id'],
    },
    {
      name: 'derived list filter, numeric',
      field: 'clients',
      entity: 'Client',
      args: { where: { jobs_: { payment_gt: payment(0.9) } } },
      select: ['id', 'jobsCreated'],
    },
    {
      name: 'derived filter on payments',
      field: 'epoches',
      entity: 'Epoch',
      args: { where: { payments_: { kind: new Enum('JOB_PAYMENT') } } },
      select: ['id', 'fees'],
    },
    jobsWhere('derived single filter', { dispute_: { raisedBy_not: null } }),
    // and / or
    jobsWhere('or', { or: [{ status: new Enum('EXPIRED'), payment_gt: payment(0.8) }, { status: new Enum('OPEN') }] }),
    jobsWhere('and', { and: [{ payment_gte: payment(0.25) }, { payment_lte: payment(0.75) }] }),
    jobsWhere('or inside and', { and: [{ kind: new Enum('INFERENCE') }, { or: [{ id_lt: '3' }, { id_gt: '8' }] }] }),
    jobsWhere('nested filter inside or', { or: [{ provider_: { stake_gt: stake } }, { client: client.id }] }),
    // _change_block
    jobsWhere('_change_block', { _change_block: { number_gte: Number(past.block) } }, ['id', 'status']),
  ]

  const relations: Spec[] = [
    {
      name: 'references: one and many levels',
      field: 'jobs',
      entity: 'Job',
      args: { first: 40 },
      select: [
        'id',
        { field: 'client', select: ['id', 'jobsCreated', 'totalEscrowed'] },
        { field: 'model', select: ['id', 'uri', 'owner'] },
        { field: 'provider', select: ['id', 'stake'] },
      ],
    },
    {
      name: 'derived lists with their own first, orderBy and where',
      field: 'providers',
      entity: 'Provider',
      select: [
        'id',
        {
          field: 'jobs',
          args: { first: 3, orderBy: 'createdAt', orderDirection: 'desc', where: { status_not: new Enum('OPEN') } },
          select: ['id', 'status', 'createdAt'],
        },
        {
          field: 'stakeEvents',
          args: { first: 2, orderBy: 'amount', orderDirection: 'desc' },
          select: ['id', 'amount', 'type', 'stakeAfter'],
        },
      ],
    },
    {
      name: 'derived list with skip, then a reference',
      field: 'clients',
      entity: 'Client',
      args: { orderBy: 'totalEscrowed', orderDirection: 'desc' },
      select: [
        'id',
        'totalEscrowed',
        {
          field: 'jobs',
          args: { first: 2, skip: 1 },
          select: ['id', 'payment', { field: 'model', select: ['id', 'uri'] }],
        },
      ],
    },
    {
      name: 'derived list with a filter on an enum',
      field: 'epoches',
      entity: 'Epoch',
      select: [
        'id',
        {
          field: 'payments',
          args: { where: { kind: new Enum('JOB_PAYMENT') }, first: 5 },
          select: ['id', 'amount', { field: 'job', select: ['id', 'status'] }],
        },
      ],
    },
    {
      name: 'derived single relation, and back',
      field: 'jobs',
      entity: 'Job',
      args: { where: { status_in: [new Enum('DISPUTED'), new Enum('COMPLETED')] } },
      select: [
        'id',
        { field: 'dispute', select: ['id', 'status', 'slashed', 'refund', { field: 'job', select: ['id'] }] },
      ],
    },
    {
      name: 'derived lists of every row',
      field: 'models',
      entity: 'Model',
      args: { first: 10 },
      select: ['id', 'jobCount', { field: 'jobs', args: { first: ALL }, select: ['id'] }],
    },
    {
      name: 'references from an immutable entity',
      field: 'rewards',
      entity: 'Reward',
      args: { first: 15, orderBy: 'amount', orderDirection: 'desc' },
      select: [
        'id',
        'amount',
        'fee',
        { field: 'provider', select: ['id'] },
        { field: 'epoch', select: ['id', 'finalized'] },
        { field: 'job', select: ['id'] },
      ],
    },
    {
      name: 'a provider’s stake history',
      field: 'stakeEvents',
      entity: 'StakeEvent',
      args: { where: { provider: busy.id }, orderBy: 'blockNumber' },
      select: [
        'id',
        'type',
        'amount',
        'stakeAfter',
        'pendingUnstakeAfter',
        'timestamp',
        'transactionHash',
        { field: 'provider', select: ['id'] },
      ],
    },
  ]

  const ordering: Spec[] = [
    {
      name: 'orderBy BigInt desc',
      field: 'jobs',
      entity: 'Job',
      args: { orderBy: 'payment', orderDirection: 'desc', first: 20 },
      select: ['id', 'payment'],
    },
    {
      name: 'orderBy BigInt asc with skip',
      field: 'jobs',
      entity: 'Job',
      args: { orderBy: 'createdAt', skip: 10, first: 5 },
      select: ['id', 'createdAt'],
    },
    {
      name: 'orderBy id desc',
      field: 'jobs',
      entity: 'Job',
      args: { orderBy: 'id', orderDirection: 'desc', first: 10 },
      select: ['id'],
    },
    {
      name: 'default order is id ascending as text',
      field: 'jobs',
      entity: 'Job',
      args: { first: 15 },
      select: ['id'],
    },
    {
      name: 'orderBy enum',
      field: 'jobs',
      entity: 'Job',
      args: { orderBy: 'status', first: 30 },
      select: ['id', 'status'],
    },
    {
      name: 'orderBy nullable field desc puts nulls first',
      field: 'jobs',
      entity: 'Job',
      args: { orderBy: 'completedAt', orderDirection: 'desc', first: 30 },
      select: ['id', 'completedAt'],
    },
    {
      name: 'orderBy String desc',
      field: 'providers',
      entity: 'Provider',
      args: { orderBy: 'metadataURI', orderDirection: 'desc' },
      select: ['id', 'metadataURI'],
    },
    {
      name: 'orderBy a reference',
      field: 'jobs',
      entity: 'Job',
      args: { orderBy: 'client', first: 25 },
      select: ['id', { field: 'client', select: ['id'] }],
    },
    {
      name: 'orderBy parent__child desc',
      field: 'jobs',
      entity: 'Job',
      args: { orderBy: 'provider__stake', orderDirection: 'desc', first: 30 },
      select: ['id', { field: 'provider', select: ['id', 'stake'] }],
    },
    {
      name: 'orderBy parent__child asc',
      field: 'jobs',
      entity: 'Job',
      args: { orderBy: 'client__jobsCreated', first: 50 },
      select: ['id', { field: 'client', select: ['jobsCreated'] }],
    },
    {
      name: 'orderBy parent__child on an ID-keyed reference',
      field: 'rewards',
      entity: 'Reward',
      args: { orderBy: 'epoch__rewards', orderDirection: 'desc', first: 20 },
      select: ['id', { field: 'epoch', select: ['id', 'rewards'] }],
    },
    {
      name: 'orderBy through a derived single relation',
      field: 'jobs',
      entity: 'Job',
      args: {
        where: { status_in: [new Enum('DISPUTED'), new Enum('COMPLETED')] },
        orderBy: 'dispute__raisedAt',
        orderDirection: 'desc',
      },
      select: ['id'],
    },
    { name: 'paging: first page', field: 'jobs', entity: 'Job', args: { first: 5 }, select: ['id'] },
    { name: 'paging: second page', field: 'jobs', entity: 'Job', args: { first: 5, skip: 5 }, select: ['id'] },
    {
      name: 'paging: the tail',
      field: 'jobs',
      entity: 'Job',
      args: { first: 50, skip: jobs.length - 7 },
      select: ['id'],
    },
    { name: 'paging: first 0', field: 'jobs', entity: 'Job', args: { first: 0 }, select: ['id'], empty: true },
    {
      name: 'paging: keyset with id_gt',
      field: 'jobs',
      entity: 'Job',
      args: { first: 10, orderBy: 'id', where: { id_gt: '42' } },
      select: ['id'],
    },
  ]

  const lookups: Spec[] = [
    {
      name: 'job by id',
      field: 'job',
      entity: 'Job',
      id: '3',
      select: [
        'id',
        'status',
        'payment',
        'inputHash',
        { field: 'client', select: ['id', 'jobsCreated'] },
        { field: 'provider', select: ['id'] },
      ],
    },
    {
      name: 'provider by id in upper case, with its jobs',
      field: 'provider',
      entity: 'Provider',
      id: busy.id.toUpperCase().replace('0X', '0x'),
      select: [
        'id',
        'stake',
        'registeredAt',
        'registeredAtBlock',
        'jobsAssigned',
        'jobsCompleted',
        { field: 'jobs', args: { first: 5, orderBy: 'payment', orderDirection: 'desc' }, select: ['id', 'payment'] },
      ],
    },
    { name: 'unknown id is null', field: 'job', entity: 'Job', id: '999999', select: ['id'] },
    {
      name: 'dispute with its job',
      field: 'dispute',
      entity: 'Dispute',
      id: dispute.id,
      select: [
        'id',
        'status',
        'raisedBy',
        'evidenceHash',
        'raisedAt',
        'resolvedAt',
        { field: 'job', select: ['id', 'status'] },
      ],
    },
    {
      name: 'the network singleton',
      field: 'network',
      entity: 'Network',
      id: 'network',
      select: [
        'id',
        'minStake',
        'totalStake',
        'providerCount',
        'modelCount',
        'clientCount',
        'jobCount',
        'jobsCompleted',
        'jobsCancelled',
        'jobsExpired',
        'jobsDisputed',
        'totalFunded',
        'currentEpoch',
      ],
    },
    { name: 'networks collection', field: 'networks', entity: 'Network', select: ['id', 'jobCount'] },
    {
      name: 'epoch with payments',
      field: 'epoch',
      entity: 'Epoch',
      id: epoch.id,
      select: [
        'id',
        'number',
        'fees',
        'funded',
        'totalWork',
        'rewards',
        'claimed',
        'finalized',
        'finalizedAt',
        { field: 'payments', select: ['id', 'amount', 'kind'] },
      ],
    },
    {
      name: 'model with filtered jobs',
      field: 'model',
      entity: 'Model',
      id: model.id,
      select: [
        'id',
        'owner',
        'uri',
        'jobCount',
        'registeredAt',
        { field: 'jobs', args: { where: { status: new Enum('EXPIRED') } }, select: ['id'] },
      ],
    },
    {
      name: 'client',
      field: 'client',
      entity: 'Client',
      id: client.id,
      select: ['id', 'jobsCreated', 'totalEscrowed'],
    },
  ]

  const timeTravel: Spec[] = [
    {
      name: 'jobs at a past block number',
      field: 'jobs',
      entity: 'Job',
      block: { number: Number(past.block) },
      args: { first: ALL },
      select: ['id', 'status', { field: 'provider', select: ['id'] }],
    },
    {
      name: 'nested references read at the same past block',
      field: 'jobs',
      entity: 'Job',
      block: { number: Number(past.block) },
      args: { first: ALL },
      select: ['id', { field: 'provider', select: ['id', 'stake', 'pendingUnstake'] }],
    },
    {
      name: 'providers by block hash, with nested lists at that block',
      field: 'providers',
      entity: 'Provider',
      block: { hash: pastHash },
      select: [
        'id',
        'stake',
        { field: 'jobs', args: { first: 5, orderBy: 'payment', orderDirection: 'desc' }, select: ['id', 'status'] },
      ],
    },
    {
      name: 'a job as it was',
      field: 'job',
      entity: 'Job',
      id: jobWithProvider.id,
      block: { number: Number(past.block) },
      select: ['id', 'status', 'outputHash', { field: 'provider', select: ['id', 'stake'] }],
    },
    {
      name: 'the network at a past block',
      field: 'network',
      entity: 'Network',
      id: 'network',
      block: { number: Number(past.block) },
      select: ['jobCount', 'totalStake', 'providerCount', 'jobsCompleted', 'currentEpoch'],
    },
    {
      name: 'filters and nested filters at a past block',
      field: 'jobs',
      entity: 'Job',
      block: { number: Number(past.block) },
      args: { first: ALL, where: { provider_: { stake_gt: quantile(past, 'Provider', 'stake', 0.3) } } },
      select: ['id'],
    },
    {
      name: 'epoches and payments at a past block',
      field: 'epoches',
      entity: 'Epoch',
      block: { number: Number(past.block) },
      select: ['id', 'finalized', 'claimed', { field: 'payments', select: ['id'] }],
    },
    {
      name: 'number_gte reads the head',
      field: 'jobs',
      entity: 'Job',
      block: { number_gte: Number(past.block) },
      args: { first: 20, orderBy: 'payment' },
      select: ['id', 'status'],
    },
  ]

  return {
    filters,
    relations,
    ordering,
    lookups,
    timeTravel,
    statistics: statistics({ model: schema, head, past, busy, other }),
  }
}

/** Aggregation queries an analyst sends, with timestamps picked from the buckets the truth's data points make. */
function statistics({
  model,
  head,
  past,
  busy,
  other,
}: {
  model: SchemaModel
  head: Truth
  past: Truth
  busy: TruthRow
  other: TruthRow
}): Spec[] {
  const oracle = new Oracle(model, head)
  const sortedStarts = (rows: TruthRow[]) =>
    [...new Set(rows.map((r) => BigInt(r.timestamp as string)))].sort((a, b) => (a < b ? -1 : 1)).map(String)
  const hours = sortedStarts(oracle.buckets('NetworkStat', 'hour', false))
  const days = sortedStarts(oracle.buckets('NetworkStat', 'day', false))
  const providerDays = sortedStarts(oracle.buckets('ProviderStat', 'day', false))
  if (hours.length < 6 || days.length < 2) {
    throw new Error(`the seeded activity closes ${hours.length} hours and ${days.length} days; it must span more`)
  }
  if (oracle.buckets('NetworkStat', 'hour', true).length === hours.length) {
    throw new Error('the seeded activity leaves no data point in the hour in progress; current: include proves nothing')
  }
  const at = (xs: string[], f: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * f))] as string
  const network = ['timestamp', 'jobsCreated', 'jobsCompleted', 'payments', 'fees', 'rewardsPaid', 'rewardsClaimed']
  const totals = ['timestamp', 'totalJobsCreated', 'totalFees', 'totalStake', 'maxTotalStake', 'activeProviders']
  const provider = ['timestamp', { field: 'provider', select: ['id'] }, 'jobsCompleted', 'rewards', 'fees']
  const providerTotals = ['timestamp', { field: 'provider', select: ['id'] }, 'rewardsEarned', 'stake', 'lowestStake']
  const stat = (
    name: string,
    field: 'networkStats' | 'providerStats',
    interval: 'hour' | 'day',
    args: Spec['args'],
    select: Spec['select'],
    extra: Partial<Spec> = {},
  ): Spec => ({
    name,
    field,
    entity: field === 'networkStats' ? 'NetworkStat' : 'ProviderStat',
    interval,
    args,
    select,
    ...extra,
  })
  return [
    stat('daily network activity, newest first', 'networkStats', 'day', {}, ['id', ...network]),
    stat('daily running totals and end-of-day stake', 'networkStats', 'day', {}, totals),
    stat('hourly network activity', 'networkStats', 'hour', { first: ALL }, ['id', ...network]),
    stat('hourly running totals', 'networkStats', 'hour', { first: ALL }, totals),
    stat(
      'today so far: the day in progress included',
      'networkStats',
      'day',
      {},
      ['id', ...network, ...totals.slice(1)],
      {
        current: 'include',
      },
    ),
    stat(
      'the hour in progress, then the last closed hours',
      'networkStats',
      'hour',
      { first: 4 },
      [...network, ...totals.slice(1)],
      {
        current: 'include',
      },
    ),
    stat('current: exclude is the default', 'networkStats', 'hour', { first: 3 }, ['timestamp', 'jobsCreated'], {
      current: 'exclude',
    }),
    stat('hours since a time', 'networkStats', 'hour', { where: { timestamp_gte: at(hours, 0.5) } }, network),
    stat(
      'hours in a window',
      'networkStats',
      'hour',
      { where: { timestamp_gt: at(hours, 0.2), timestamp_lt: at(hours, 0.8) } },
      network,
    ),
    stat('hours up to a time', 'networkStats', 'hour', { where: { timestamp_lte: at(hours, 0.3) } }, network),
    stat('one day by its timestamp', 'networkStats', 'day', { where: { timestamp: at(days, 0.5) } }, network),
    stat(
      'days in a list of timestamps',
      'networkStats',
      'day',
      { where: { timestamp_in: [days[0] as string, at(days, 1), '86400000000'] } },
      network,
    ),
    stat(
      'oldest hours first, paged',
      'networkStats',
      'hour',
      { orderBy: 'timestamp', orderDirection: 'asc', first: 5, skip: 2 },
      network,
    ),
    stat(
      'busiest hours by fees',
      'networkStats',
      'hour',
      { orderBy: 'fees', orderDirection: 'desc', first: 5 },
      network,
    ),
    stat(
      'days with the most jobs created',
      'networkStats',
      'day',
      { orderBy: 'jobsCreated', orderDirection: 'desc' },
      network,
    ),
    stat(
      'the hour in progress sorts with the rest',
      'networkStats',
      'hour',
      { orderBy: 'jobsCreated', orderDirection: 'desc', first: 10 },
      network,
      {
        current: 'include',
      },
    ),
    stat(
      'filtered by bucket id',
      'networkStats',
      'hour',
      {
        where: {
          id_gte: oracle
            .buckets('NetworkStat', 'hour', false)
            .map((r) => r.id)
            .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))[Math.floor(hours.length / 2)] as string,
        },
      },
      ['id', 'timestamp'],
    ),
    stat(
      'or of two timestamps',
      'networkStats',
      'hour',
      { where: { or: [{ timestamp: hours[0] as string }, { timestamp: at(hours, 1) }] } },
      network,
    ),
    stat('daily provider activity, newest first, ties by id', 'providerStats', 'day', { first: ALL }, [
      'id',
      ...provider,
    ]),
    stat('daily provider running totals and stake', 'providerStats', 'day', { first: ALL }, providerTotals),
    stat('hourly provider activity', 'providerStats', 'hour', { first: ALL }, provider),
    stat(
      'daily leaderboard by rewards over a period',
      'providerStats',
      'day',
      { where: { timestamp_gte: providerDays[0] as string }, orderBy: 'rewards', orderDirection: 'desc', first: 10 },
      provider,
    ),
    stat(
      'leaderboard by jobs completed',
      'providerStats',
      'day',
      { orderBy: 'jobsCompleted', orderDirection: 'desc', first: 10 },
      provider,
    ),
    stat(
      'leaderboard by end-of-day stake',
      'providerStats',
      'day',
      { orderBy: 'stake', orderDirection: 'desc', first: 10 },
      providerTotals,
    ),
    stat(
      'one provider’s days, address in any case',
      'providerStats',
      'day',
      { where: { provider: (busy.id as string).toUpperCase().replace('0X', '0x') } },
      providerTotals,
    ),
    stat(
      'one provider’s hours since a time',
      'providerStats',
      'hour',
      { where: { provider: busy.id, timestamp_gte: at(hours, 0.3) } },
      providerTotals,
    ),
    stat(
      'two providers with or',
      'providerStats',
      'day',
      { where: { or: [{ provider: busy.id }, { provider: other.id }] } },
      provider,
    ),
    stat(
      'providers by their current stake (dimension filter)',
      'providerStats',
      'day',
      { where: { provider_: { stake_gt: quantile(head, 'Provider', 'stake', 0.5) } } },
      [...provider, { field: 'provider', select: ['id', 'stake'] }],
    ),
    stat(
      'ordered by a dimension’s field',
      'providerStats',
      'day',
      { orderBy: 'provider__stake', orderDirection: 'desc', first: 20 },
      provider,
    ),
    stat(
      'leaderboard of the day in progress',
      'providerStats',
      'day',
      { orderBy: 'rewardsEarned', orderDirection: 'desc' },
      providerTotals,
      {
        current: 'include',
      },
    ),
    stat('hourly provider stats with the hour in progress', 'providerStats', 'hour', { first: 20 }, providerTotals, {
      current: 'include',
    }),
    stat('daily network stats at a past block', 'networkStats', 'day', {}, ['id', ...network, ...totals.slice(1)], {
      block: { number: Number(past.block) },
    }),
    stat(
      'hourly network stats at a past block, with the hour then in progress',
      'networkStats',
      'hour',
      { first: 6 },
      [...network, ...totals.slice(1)],
      {
        block: { number: Number(past.block) },
        current: 'include',
      },
    ),
    stat(
      'daily provider stats at a past block, with the day then in progress',
      'providerStats',
      'day',
      {},
      providerTotals,
      {
        block: { number: Number(past.block) },
        current: 'include',
      },
    ),
    {
      name: 'data points are immutable entities, newest first by id',
      field: 'networkDataPoints',
      entity: 'NetworkDataPoint',
      args: { orderBy: 'id', orderDirection: 'desc', first: 10 },
      select: ['id', 'timestamp', 'jobsCreated', 'totalStake', 'activeProviders'],
    },
    {
      name: 'a provider’s data points in a time window',
      field: 'providerDataPoints',
      entity: 'ProviderDataPoint',
      args: { where: { provider: busy.id, timestamp_gte: at(hours, 0.3) }, first: ALL },
      select: ['id', 'timestamp', 'jobsCompleted', 'rewards', 'fees', 'stake'],
    },
    {
      name: 'leaderboard: providers by rewards earned',
      field: 'providers',
      entity: 'Provider',
      args: { orderBy: 'rewardsEarned', orderDirection: 'desc', first: 5 },
      select: ['id', 'rewardsEarned', 'jobsCompleted'],
    },
    {
      name: 'leaderboard: providers by jobs completed',
      field: 'providers',
      entity: 'Provider',
      args: { orderBy: 'jobsCompleted', orderDirection: 'desc', first: 5 },
      select: ['id', 'jobsCompleted'],
    },
    {
      name: 'leaderboard: providers by stake',
      field: 'providers',
      entity: 'Provider',
      args: { orderBy: 'stake', orderDirection: 'desc', first: 5 },
      select: ['id', 'stake'],
    },
  ]
}
