import { gql } from '../api'
import { announce, byId, h } from '../dom'
import { formatTime, formatToken, shortHex, TOKEN } from '../format'
import type { JobRow } from '../queries'
import { RECENT_JOB_COUNT, ReceiptVerifier } from '../receipt-verifier'

export { handedOutAt, RECENT_JOB_COUNT, ReceiptVerifier, type Verdict } from '../receipt-verifier'

const FRESH_MS = 6_000

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
        return [
          'verified',
          'good',
          `All checks passed${v.mode ? ` (${v.mode.toLowerCase().replace(/_/g, ' ')})` : ''}${v.attester ? `; attested by the trusted gateway ${v.attester}` : ''}`,
        ]
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
  private readonly verifier = new ReceiptVerifier(() => this.render(), gql)
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
