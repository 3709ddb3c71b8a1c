import { byId, h } from '../dom'
import { formatBytes, formatCount, formatMs, formatToken, shortHex } from '../format'
import type { WorkerRow } from '../queries'

/** The workers connected to this gateway replica, as the router sees them (polled: workers have no subscription). */
export function renderWorkers(rows: WorkerRow[]) {
  const body = byId<HTMLTableSectionElement>('workers-body')
  byId('workers-count').textContent = `${rows.length} connected`
  if (rows.length === 0) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: 8, class: 'empty' }, 'No workers connected to this gateway')))
    return
  }
  body.replaceChildren(
    ...rows.map((w) => {
      const load = w.concurrency > 0 ? Math.min(1, w.outstanding / w.concurrency) : 0
      return h(
        'tr',
        { 'data-worker': w.id },
        h('th', { scope: 'row', title: w.provider }, shortHex(w.provider)),
        h(
          'td',
          {},
          h('span', { class: `badge ${w.device.kind === 'cuda' ? 'gpu' : 'cpu'}` }, w.device.kind.toUpperCase()),
          ` ${w.device.name} · ${formatBytes(w.device.memoryBytes)}`,
          h('div', { class: 'sub' }, w.runtime),
        ),
        h('td', {}, w.models.map((m) => m.name).join(', ') || '—'),
        h(
          'td',
          {},
          h('meter', { min: 0, max: 1, value: load, 'aria-label': 'load' }),
          ` ${w.outstanding}/${w.concurrency}`,
          w.queuedRows > 0 ? h('div', { class: 'sub' }, `${w.queuedRows} rows queued`) : null,
        ),
        h('td', { class: 'num' }, formatMs(w.latencyMs), h('div', { class: 'sub' }, `ping ${formatMs(w.pingMs)}`)),
        h('td', { class: 'num' }, formatCount(w.completed), h('div', { class: 'sub' }, `${w.failed} failed`)),
        h('td', { class: 'num', title: `${w.pricePerUnit} wei per row` }, formatToken(w.pricePerUnit, { digits: 6 })),
        h(
          'td',
          {},
          h('span', { class: `badge ${w.suspended ? 'bad' : 'good'}` }, w.suspended ? 'suspended' : 'serving'),
        ),
      )
    }),
  )
}
