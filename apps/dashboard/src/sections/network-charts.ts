import { type ChartSpec, TimeChart } from '../chart'
import { byId } from '../dom'
import { compactNumber, countToNumber, formatToken, microsToSeconds, TOKEN, tokenToNumber } from '../format'
import type { Interval, NetworkStatRow } from '../queries'

export const BUCKET_SECONDS: Record<Interval, number> = { hour: 3_600, day: 86_400 }

const tokens = (v: number) => `${compactNumber(v)} ${TOKEN.symbol}`
const count = (v: number) => compactNumber(v)
const COLORS = {
  blue: '#2563eb',
  sky: '#7dd3fc',
  green: '#16a34a',
  amber: '#d97706',
  violet: '#7c3aed',
  slate: '#64748b',
}

const SPECS: Record<'stake' | 'jobs' | 'fees' | 'rewards', ChartSpec> = {
  stake: {
    name: 'stake',
    title: 'Total stake',
    series: [
      { label: 'Total stake', color: COLORS.blue, kind: 'step', fill: true, format: tokens },
      { label: 'Peak in period', color: COLORS.slate, kind: 'step', dash: [4, 4], format: tokens },
      { label: 'Active providers', color: COLORS.amber, kind: 'step', scale: 'y2', format: count },
    ],
    axes: [
      { scale: 'y', label: TOKEN.symbol, format: compactNumber },
      { scale: 'y2', label: 'providers', format: compactNumber },
    ],
  },
  jobs: {
    name: 'jobs',
    title: 'Jobs per period',
    series: [
      { label: 'Created', color: COLORS.sky, kind: 'bars', barFactor: 0.8, format: count },
      { label: 'Completed', color: COLORS.blue, kind: 'bars', barFactor: 0.45, format: count },
    ],
    axes: [{ scale: 'y', label: 'jobs', format: compactNumber }],
  },
  fees: {
    name: 'fees',
    title: 'Payments and fees per period',
    series: [
      { label: 'Payments', color: COLORS.green, kind: 'bars', barFactor: 0.8, format: tokens },
      { label: 'Protocol fees', color: COLORS.amber, kind: 'points', scale: 'y2', format: tokens },
    ],
    axes: [
      { scale: 'y', label: `payments, ${TOKEN.symbol}`, format: compactNumber },
      { scale: 'y2', label: `fees, ${TOKEN.symbol}`, format: compactNumber },
    ],
  },
  rewards: {
    name: 'rewards',
    title: 'Rewards per period',
    series: [
      { label: 'Job payments to providers', color: COLORS.violet, kind: 'bars', barFactor: 0.8, format: tokens },
      { label: 'Epoch rewards claimed', color: COLORS.green, kind: 'bars', barFactor: 0.45, format: tokens },
    ],
    axes: [{ scale: 'y', label: TOKEN.symbol, format: compactNumber }],
  },
}

/** The four network charts, all drawn from one networkStats query of the chosen interval. */
export class NetworkCharts {
  private readonly charts = {
    stake: new TimeChart(byId('chart-stake'), SPECS.stake),
    jobs: new TimeChart(byId('chart-jobs'), SPECS.jobs),
    fees: new TimeChart(byId('chart-fees'), SPECS.fees),
    rewards: new TimeChart(byId('chart-rewards'), SPECS.rewards),
  }

  /** `rows` as the API returns them, newest first. */
  render(rows: NetworkStatRow[], interval: Interval) {
    const bucket = { bucketSeconds: BUCKET_SECONDS[interval] }
    const asc = [...rows].reverse()
    const x = asc.map((r) => microsToSeconds(r.timestamp))
    const col = (f: (r: NetworkStatRow) => number) => asc.map(f)
    this.charts.stake.setData(
      x,
      [
        col((r) => tokenToNumber(r.totalStake)),
        col((r) => tokenToNumber(r.maxTotalStake)),
        col((r) => countToNumber(r.activeProviders)),
      ],
      bucket,
    )
    this.charts.jobs.setData(
      x,
      [col((r) => countToNumber(r.jobsCreated)), col((r) => countToNumber(r.jobsCompleted))],
      bucket,
    )
    this.charts.fees.setData(x, [col((r) => tokenToNumber(r.payments)), col((r) => tokenToNumber(r.fees))], bucket)
    this.charts.rewards.setData(
      x,
      [col((r) => tokenToNumber(r.rewardsPaid)), col((r) => tokenToNumber(r.rewardsClaimed))],
      bucket,
    )
    // Totals over the buckets shown, exact (bigint), for anyone checking the charts against the network's counters.
    const sum = (f: (r: NetworkStatRow) => string) => rows.reduce((acc, r) => acc + BigInt(f(r)), 0n).toString()
    this.charts.jobs.annotate(
      'jobsCreated',
      sum((r) => r.jobsCreated),
    )
    this.charts.jobs.annotate(
      'jobsCompleted',
      sum((r) => r.jobsCompleted),
    )
    this.charts.fees.annotate(
      'fees',
      sum((r) => r.fees),
    )
    const latest = rows[0]
    if (latest) this.charts.stake.annotate('latest', latest.totalStake)
    byId('fees-total').textContent = `${formatToken(sum((r) => r.fees))} ${TOKEN.symbol} in fees shown`
  }
}
