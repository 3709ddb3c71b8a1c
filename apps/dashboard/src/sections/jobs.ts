import { GraphqlError, gql, type Request } from '../api'
import { announce, byId, h } from '../dom'
import { formatTime, formatToken, shortHex, TOKEN } from '../format'
import { type JobRow, type ReceiptVerification, STORED_RECEIPT, VERIFY_RECEIPTS } from '../queries'

export const RECENT_JOB_COUNT = 20
const FRESH_MS = 6_000

/** What the page knows about a completed job's receipt. */
export type Verdict =
  | { kind: 'pending' }
  /** The gateway serves no verifyReceipt query (an older gateway, or the module is off). */
  | { kind: 'unavailable' }
  /** JobMarket checked the receipt's signature when it paid; this gateway holds no bundle to check again. */
  | { kind: 'on-chain' }
  | { kind: 'valid'; mode: string | null }
  | { kind: 'invalid'; failed: string[] }
  | { kind: 'error'; message: string; at: number }

// A failed check (gateway busy, rate limited) is asked again after this long, not on every redraw.
const RETRY_AFTER_MS = 30_000

/**
 * Checks receipts of completed jobs with the gateway's `receipt` and `verifyReceipt` queries, batched by alias,
 * each digest once. Whether the gateway has them is learnt from the first answer, not assumed.
 */
export class ReceiptVerifier {
  private supported: boolean | undefined
  private readonly verdicts = new Map<string, Verdict>()
  private running = false

  constructor(
    private readonly onChange: () => void,
    private readonly request: Request = gql,
  ) {}

  verdict(digest: string): Verdict {
    if (this.supported === false) return { kind: 'unavailable' }
    return this.verdicts.get(digest) ?? { kind: 'pending' }
  }

  async check(jobs: JobRow[]) {
    if (this.running || this.supported === false) return
    const due = (digest: string) => {
      const v = this.verdicts.get(digest)
      return !v || (v.kind === 'error' && Date.now() - v.at > RETRY_AFTER_MS)
    }
    const todo = jobs.filter((j) => j.receiptDigest && due(j.receiptDigest))
    if (todo.length === 0) return
    this.running = true
    try {
      await this.run(todo.slice(0, RECENT_JOB_COUNT))
    } finally {
      this.running = false
      this.onChange()
    }
  }

  private async run(jobs: JobRow[]) {
    const digests = jobs.map((j) => j.receiptDigest as string)
    let stored: Record<string, string | null>
    try {
      stored = await this.request<Record<string, string | null>>(
        STORED_RECEIPT(digests.length),
        Object.fromEntries(digests.map((d, i) => [`d${i}`, d])),
      )
    } catch (error) {
      if (error instanceof GraphqlError && error.missingField('receipt')) {
        this.supported = false
        return
      }
      for (const d of digests)
        this.verdicts.set(d, { kind: 'error', message: (error as Error).message, at: Date.now() })
      return
    }
    this.supported = true
    const held = jobs.flatMap((job, i) => {
      const bundle = stored[`r${i}`]
      if (!bundle) this.verdicts.set(digests[i] as string, { kind: 'on-chain' })
      return bundle ? [{ job, bundle }] : []
    })
    if (held.length === 0) return
    const variables: Record<string, unknown> = {}
    held.forEach(({ bundle }, i) => {
      variables[`b${i}`] = bundle
      variables[`t${i}`] = handedOutAt(bundle)
    })
    try {
      const result = await this.request<Record<string, ReceiptVerification>>(VERIFY_RECEIPTS(held.length), variables)
      held.forEach(({ job }, i) => {
        const v = result[`v${i}`]
        const digest = job.receiptDigest as string
        if (!v) return
        this.verdicts.set(
          digest,
          v.valid
            ? { kind: 'valid', mode: v.verification }
            : {
                kind: 'invalid',
                failed: v.checks.filter((c) => c.status === 'FAIL').map((c) => `${c.name}: ${c.reason}`),
              },
        )
      })
    } catch (error) {
      for (const { job } of held) {
        this.verdicts.set(job.receiptDigest as string, {
          kind: 'error',
          message: (error as Error).message,
          at: Date.now(),
        })
      }
    }
  }
}

/**
 * When the gateway handed the receipt out: its attestation's time, else the receipt's issuedAt. A receipt valid then
 * stays valid after it expires. Both are wall-clock seconds, the clock of the receipt's expiry; a job's completedAt is
 * a block timestamp, the chain's clock, which may run hours apart from it.
 */
export function handedOutAt(bundle: string): string | null {
  try {
    const b = JSON.parse(bundle) as {
      receipt?: { issuedAt?: unknown }
      attestation?: { attestation?: { attestedAt?: unknown } }
    }
    const at = b.attestation?.attestation?.attestedAt ?? b.receipt?.issuedAt
    return typeof at === 'string' && /^[0-9]{1,19}$/.test(at) ? at : null
  } catch {
    return null
  }
}

function verdictCell(job: JobRow, verifier: ReceiptVerifier): HTMLTableCellElement {
  if (!job.receiptDigest) return h('td', { 'data-verdict': 'none' }, '—')
  const v = verifier.verdict(job.receiptDigest)
  const [label, css, title] = ((): [string, string, string] => {
    switch (v.kind) {
      case 'pending':
        return ['checking…', 'muted', 'Asking the gateway to verify this receipt']
      case 'unavailable':
        return ['unavailable', 'muted', 'This gateway does not serve receipt verification (verifyReceipt)']
      case 'on-chain':
        return [
          'paid on-chain',
          'good',
          'JobMarket verified the signed receipt before paying; this gateway holds no bundle to re-check',
        ]
      case 'valid':
        return ['verified', 'good', `All checks passed${v.mode ? ` (${v.mode.toLowerCase().replace(/_/g, ' ')})` : ''}`]
      case 'invalid':
        return ['failed', 'bad', v.failed.join('\n')]
      case 'error':
        return ['not checked', 'muted', v.message]
    }
  })()
  return h('td', { 'data-verdict': v.kind }, h('span', { class: `badge ${css}`, title }, label))
}

/**
 * The most recent jobs: loaded once, then kept current by jobChanged events (new jobs, status changes, and reorg
 * corrections that remove jobs of orphaned blocks), without reloading the page.
 */
export class RecentJobs {
  private readonly jobs = new Map<string, JobRow>()
  private readonly live = new Set<string>()
  /** Jobs that arrived live, highlighted for a few seconds. */
  private readonly fresh = new Set<string>()
  private readonly body = byId<HTMLTableSectionElement>('jobs-body')
  private readonly verifier = new ReceiptVerifier(() => this.render())
  private loaded = false

  /** The initial (or post-reconnect) list; jobs a live event already updated keep that newer state. */
  load(rows: JobRow[]) {
    const fresh = new Map(rows.map((j) => [j.id, j]))
    for (const id of [...this.jobs.keys()]) if (!fresh.has(id) && !this.live.has(id)) this.jobs.delete(id)
    for (const job of rows) if (!this.live.has(job.id)) this.jobs.set(job.id, job)
    this.live.clear()
    this.loaded = true
    this.render()
  }

  /** A jobChanged event: `job` null means a reorg removed it; no `previousStatus` means the job is new. */
  change(id: string, job: JobRow | null, previousStatus: string | null) {
    const isNew = job !== null && previousStatus === null && !this.jobs.has(id)
    if (job) this.jobs.set(id, job)
    else this.jobs.delete(id)
    this.live.add(id)
    if (isNew && this.loaded) {
      this.fresh.add(id)
      setTimeout(() => {
        this.fresh.delete(id)
        this.body.querySelector(`tr[data-job-id="${id}"]`)?.classList.remove('fresh')
      }, FRESH_MS)
      this.render()
      announce(`New job ${id}: ${job.kind.toLowerCase()}, ${formatToken(job.payment)} ${TOKEN.symbol}`)
    } else this.render()
  }

  private visible(): JobRow[] {
    const sorted = [...this.jobs.values()].sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
    for (const old of sorted.slice(RECENT_JOB_COUNT)) this.jobs.delete(old.id)
    return sorted.slice(0, RECENT_JOB_COUNT)
  }

  private render() {
    const rows = this.visible()
    this.body.replaceChildren(
      ...rows.map((job) => {
        const tr = this.row(job)
        if (this.fresh.has(job.id)) tr.classList.add('fresh')
        return tr
      }),
    )
    if (rows.length === 0) this.body.append(h('tr', {}, h('td', { colspan: 10, class: 'empty' }, 'No jobs yet')))
    void this.verifier.check(rows.filter((j) => j.receiptDigest))
  }

  private row(job: JobRow): HTMLTableRowElement {
    return h(
      'tr',
      { 'data-job-id': job.id, 'data-status': job.status },
      h('th', { scope: 'row', class: 'num' }, job.id),
      h('td', {}, h('span', { class: `status ${job.status.toLowerCase()}` }, job.status.toLowerCase())),
      h('td', {}, job.kind.toLowerCase()),
      h('td', { title: job.model.id }, job.model.uri || shortHex(job.model.id)),
      h('td', { title: job.client.id }, shortHex(job.client.id)),
      h('td', { title: job.provider?.id }, job.provider ? shortHex(job.provider.id) : '—'),
      h('td', { class: 'num', title: `${job.payment} wei` }, formatToken(job.payment)),
      h(
        'td',
        {},
        formatTime(job.createdAt),
        job.completedAt ? h('div', { class: 'sub' }, `done ${formatTime(job.completedAt)}`) : null,
      ),
      h(
        'td',
        { class: 'mono', title: job.receiptDigest ?? undefined, 'data-receipt': job.receiptDigest ?? undefined },
        job.receiptDigest ? shortHex(job.receiptDigest, 6) : '—',
      ),
      verdictCell(job, this.verifier),
    )
  }
}
