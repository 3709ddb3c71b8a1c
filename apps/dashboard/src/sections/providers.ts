import { TimeChart } from '../chart'
import { byId, h } from '../dom'
import {
  compactNumber,
  countToNumber,
  formatCount,
  formatToken,
  microsToSeconds,
  shortHex,
  TOKEN,
  tokenToNumber,
} from '../format'
import type { Interval, LeaderboardOrder, ProviderRow, ProviderStatRow } from '../queries'
import { BUCKET_SECONDS } from './network-charts'

const ORDER_LABEL: Record<LeaderboardOrder, string> = {
  rewardsEarned: 'rewards earned',
  stake: 'stake',
  jobsCompleted: 'jobs completed',
}

/**
 * The provider leaderboard: sorted by the server (so the top 25 are the network's top 25), one sort button per
 * sortable column, and a button per provider that opens its history.
 */
export class Leaderboard {
  order: LeaderboardOrder = 'rewardsEarned'
  selected?: string
  private readonly body = byId<HTMLTableSectionElement>('providers-body')

  constructor(
    private readonly events: { onOrder: (order: LeaderboardOrder) => void; onSelect: (provider: string) => void },
  ) {
    for (const button of byId('providers-table').querySelectorAll<HTMLButtonElement>('button[data-order]')) {
      button.addEventListener('click', () => {
        const order = button.dataset.order as LeaderboardOrder
        if (order === this.order) return
        this.order = order
        this.markSort()
        this.events.onOrder(order)
      })
    }
    this.markSort()
  }

  private markSort() {
    for (const th of byId('providers-table').querySelectorAll<HTMLTableCellElement>('th[data-order]')) {
      const active = th.dataset.order === this.order
      if (active) th.setAttribute('aria-sort', 'descending')
      else th.removeAttribute('aria-sort')
    }
    byId('providers-caption').textContent = `Top providers by ${ORDER_LABEL[this.order]}`
  }

  render(rows: ProviderRow[]) {
    if (!this.selected && rows[0]) this.select(rows[0].id)
    this.body.replaceChildren(
      ...rows.map((p, i) => {
        const selected = p.id === this.selected
        const open = h(
          'button',
          { type: 'button', class: 'link', title: p.id, 'aria-pressed': String(selected) },
          shortHex(p.id),
        )
        open.addEventListener('click', () => this.select(p.id))
        return h(
          'tr',
          { 'data-provider': p.id, class: selected ? 'selected' : undefined },
          h('td', { class: 'num' }, String(i + 1)),
          h('th', { scope: 'row' }, open),
          h('td', { class: 'num', title: `${p.stake} wei` }, formatToken(p.stake)),
          h('td', { class: 'num' }, formatCount(p.jobsCompleted)),
          h('td', { class: 'num' }, formatCount(p.jobsFailed)),
          h('td', { class: 'num', title: `${p.rewardsEarned} wei` }, formatToken(p.rewardsEarned)),
          h('td', { class: 'num', title: `${p.slashedTotal} wei` }, formatToken(p.slashedTotal)),
        )
      }),
    )
    if (rows.length === 0) {
      this.body.replaceChildren(h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No providers registered yet')))
    }
  }

  select(provider: string) {
    this.selected = provider
    for (const tr of this.body.querySelectorAll<HTMLTableRowElement>('tr[data-provider]')) {
      const on = tr.dataset.provider === provider
      tr.classList.toggle('selected', on)
      tr.querySelector('button')?.setAttribute('aria-pressed', String(on))
    }
    this.events.onSelect(provider)
  }
}

/** One provider's stake, cumulative rewards and jobs per period (providerStats). */
export class ProviderHistory {
  private readonly chart = new TimeChart(byId('chart-provider'), {
    name: 'provider',
    title: 'Provider history',
    series: [
      {
        label: 'Stake',
        color: '#2563eb',
        kind: 'step',
        fill: true,
        format: (v) => `${compactNumber(v)} ${TOKEN.symbol}`,
      },
      { label: 'Rewards earned', color: '#7c3aed', format: (v) => `${compactNumber(v)} ${TOKEN.symbol}` },
      { label: 'Jobs completed', color: '#7dd3fc', kind: 'bars', scale: 'y2', format: compactNumber },
    ],
    axes: [
      { scale: 'y', label: TOKEN.symbol, format: compactNumber },
      { scale: 'y2', label: 'jobs', format: compactNumber },
    ],
    height: 210,
  })

  render(provider: string, rows: ProviderStatRow[], interval: Interval) {
    byId('provider-title').textContent = `History of ${shortHex(provider)}`
    byId('provider-title').title = provider
    this.chart.annotate('provider', provider)
    const asc = [...rows].reverse()
    this.chart.setData(
      asc.map((r) => microsToSeconds(r.timestamp)),
      [
        asc.map((r) => tokenToNumber(r.stake)),
        asc.map((r) => tokenToNumber(r.rewardsEarned)),
        asc.map((r) => countToNumber(r.jobsCompleted)),
      ],
      { bucketSeconds: BUCKET_SECONDS[interval] },
    )
  }
}
