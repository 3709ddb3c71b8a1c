import './style.css'
import { connectLive, gql, type LiveState, subscribe } from './api'
import { byId, showError } from './dom'
import {
  type Interval,
  JOB_CHANGED,
  NETWORK_STATS,
  NEW_BLOCK,
  OVERVIEW,
  PROVIDER_STATS,
  RECENT_JOBS,
  REORG,
  STATS_ROLLED_UP,
  WORKERS,
} from './queries'
import { Refresher } from './refresher'
import { RECENT_JOB_COUNT, RecentJobs } from './sections/jobs'
import { NetworkCharts } from './sections/network-charts'
import { Leaderboard, ProviderHistory } from './sections/providers'
import { renderHead, renderTotals } from './sections/totals'
import { renderWorkers } from './sections/workers'

// Workers have no subscription (they live in the router's memory, not the index): polled while the page is visible.
const WORKER_POLL_MS = 5_000
// At most one refetch of each kind per second, however fast blocks arrive.
const REFRESH_MIN_MS = 1_000

let interval: Interval = 'hour'
const charts = new NetworkCharts()
const history = new ProviderHistory()
const jobs = new RecentJobs()
const leaderboard = new Leaderboard({
  onOrder: () => refresher.request('overview'),
  onSelect: () => refresher.request('history'),
})

const errorSlots = {
  overview: byId('totals-error'),
  stats: byId('charts-error'),
  history: byId('provider-error'),
  workers: byId('workers-error'),
  jobs: byId('jobs-error'),
}
type Task = keyof typeof errorSlots

const tasks: Record<Task, () => Promise<void>> = {
  async overview() {
    const data = await gql(OVERVIEW, { order: leaderboard.order })
    renderTotals(data)
    leaderboard.render(data.providers)
    showError(errorSlots.overview, undefined)
  },
  async stats() {
    const asked = interval
    const data = await gql(NETWORK_STATS, { interval: asked })
    if (asked !== interval) return
    charts.render(data.networkStats, asked)
    showError(errorSlots.stats, undefined)
  },
  async history() {
    const provider = leaderboard.selected
    const asked = interval
    if (!provider) return
    const data = await gql(PROVIDER_STATS, { interval: asked, provider })
    if (provider === leaderboard.selected && asked === interval) history.render(provider, data.providerStats, asked)
    showError(errorSlots.history, undefined)
  },
  async workers() {
    const data = await gql(WORKERS)
    renderWorkers(data.workers)
    showError(errorSlots.workers, undefined)
  },
  async jobs() {
    const data = await gql(RECENT_JOBS, { first: RECENT_JOB_COUNT })
    jobs.load(data.jobs)
    showError(errorSlots.jobs, undefined)
  },
}

const refresher = new Refresher<Task>(tasks, REFRESH_MIN_MS, (task, error) => {
  console.warn(`refreshing ${task} failed`, error)
  showError(errorSlots[task], error)
})
const everything = Object.keys(tasks) as Task[]

function setLiveState(state: LiveState) {
  const el = byId('live-status')
  document.body.dataset.live = state
  el.dataset.state = state
  el.textContent = { connecting: 'connecting…', open: 'live', closed: 'reconnecting…' }[state]
}

// Changes between the first load and the subscriptions' start would be lost: jobs are read again once they run.
const live = connectLive({
  onState: setLiveState,
  onConnected: (again) => (again ? refresher.request(...everything) : refresher.request('jobs')),
})
subscribe(live, NEW_BLOCK, {}, ({ newBlock }) => {
  renderHead(newBlock)
  // The current bucket (current: include) and the totals move with every block that carries an event.
  refresher.request('overview', 'stats', 'history')
})
subscribe(live, STATS_ROLLED_UP, {}, ({ statsRolledUp }) => {
  if (statsRolledUp.interval === interval) refresher.request('stats', 'history')
})
subscribe(live, JOB_CHANGED, {}, ({ jobChanged }) =>
  jobs.change(jobChanged.id, jobChanged.job, jobChanged.previousStatus),
)
// What was shown for orphaned blocks is void: read everything again.
subscribe(live, REORG, {}, () => refresher.request(...everything))

for (const button of document.querySelectorAll<HTMLButtonElement>('#interval button[data-interval]')) {
  button.addEventListener('click', () => {
    interval = button.dataset.interval as Interval
    document.body.dataset.interval = interval
    for (const b of document.querySelectorAll('#interval button')) b.setAttribute('aria-pressed', String(b === button))
    for (const label of document.querySelectorAll('.interval-label')) {
      label.textContent = interval === 'hour' ? 'per hour' : 'per day'
    }
    refresher.request('stats', 'history')
  })
}

setInterval(() => {
  if (!document.hidden) refresher.request('workers')
}, WORKER_POLL_MS)
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) refresher.request('workers')
})

refresher.request(...everything)
