import { byId } from '../dom'
import { formatCount, formatTime, formatToken, TOKEN } from '../format'
import type { NetworkTotals, OverviewData } from '../queries'

const set = (id: string, text: string, title?: string) => {
  const el = byId(id)
  el.textContent = text
  if (title !== undefined) el.title = title
}

/** The cards of network totals, from the Network singleton and `_meta`. */
export function renderTotals({ network, _meta }: Pick<OverviewData, 'network' | '_meta'>) {
  const n: NetworkTotals | null = network
  const token = (raw: string | undefined) => (raw === undefined ? '—' : `${formatToken(raw)} ${TOKEN.symbol}`)
  set('total-stake', token(n?.totalStake), n ? `${n.totalStake} wei` : undefined)
  set('total-slashed', n ? `${formatToken(n.totalSlashed)} slashed` : '')
  set('providers-active', n ? formatCount(n.activeProviderCount) : '—')
  set('providers-all', n ? `of ${formatCount(n.providerCount)} registered` : '')
  set('jobs-total', n ? formatCount(n.jobCount) : '—')
  set('jobs-completed', n ? `${formatCount(n.jobsCompleted)} completed` : '')
  set('total-payments', token(n?.totalPayments), n ? `${n.totalPayments} wei` : undefined)
  set('total-fees', token(n?.totalFees), n ? `${n.totalFees} wei` : undefined)
  set('rewards-claimed', token(n?.totalRewardsClaimed), n ? `${n.totalRewardsClaimed} wei` : undefined)
  set('current-epoch', n ? formatCount(n.currentEpoch) : '—')
  // Null until the gateway has indexed a block.
  if (_meta) renderHead(_meta.block)
  byId('indexing-errors').hidden = !_meta?.hasIndexingErrors
}

/** The indexed head, from `_meta` or a newBlock event (whichever is newer). */
export function renderHead(block: { number: number; timestamp: number | null }) {
  const el = byId('head-block')
  if (Number(el.dataset.block ?? -1) > block.number) return
  el.dataset.block = String(block.number)
  el.textContent = formatCount(block.number)
  set('head-time', formatTime(block.timestamp))
}
