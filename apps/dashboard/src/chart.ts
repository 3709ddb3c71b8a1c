// uPlot draws the charts: about 50 kB, canvas-based, built for time series (seconds on the x axis, gaps where a
// bucket is missing), fast enough to redraw a thousand buckets on every block, actively maintained and MIT licensed.
// Chart.js would do too, but needs a date adapter for time axes and is several times the size.
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

export interface SeriesSpec {
  label: string
  color: string
  /** `points`: a dot per bucket and no line, for a flow that does not continue between buckets. */
  kind?: 'line' | 'bars' | 'step' | 'points'
  /** Which axis: 'y' (left, default) or 'y2' (right). */
  scale?: 'y' | 'y2'
  dash?: number[]
  fill?: boolean
  /** Bar width as a share of the slot: overlaid bar series stay readable when narrower ones sit on wider ones. */
  barFactor?: number
  format: (value: number) => string
}

export interface AxisSpec {
  scale: 'y' | 'y2'
  label: string
  format: (value: number) => string
}

export interface ChartSpec {
  /** Short name for the element's data-chart attribute and the accessible summary. */
  name: string
  title: string
  series: SeriesSpec[]
  axes: AxisSpec[]
  height?: number
}

const AXIS_COLOR = '#475569'
const GRID_COLOR = '#e2e8f0'

/**
 * A time-series chart in `el`. It resizes with its container, and keeps its data-points attribute (buckets shown)
 * and accessible label current, so tests and screen readers see what it shows.
 */
export class TimeChart {
  private plot?: uPlot
  private data: uPlot.AlignedData = [[]]
  private bucketSeconds = 3600
  private readonly empty: HTMLElement

  constructor(
    private readonly el: HTMLElement,
    private readonly spec: ChartSpec,
  ) {
    el.dataset.chart = spec.name
    el.dataset.points = '0'
    el.dataset.colors = spec.series.map((s) => s.color).join(',')
    el.setAttribute('role', 'img')
    el.setAttribute('aria-label', `${spec.title}: loading`)
    this.empty = document.createElement('p')
    this.empty.className = 'chart-empty'
    this.empty.textContent = 'Loading…'
    el.append(this.empty)
    new ResizeObserver(() => this.resize()).observe(el)
  }

  /**
   * `x`: bucket starts in seconds, ascending; one array per series, `null` where a bucket lacks the value.
   * `bucketSeconds` pads the time axis by half a bucket each side, so edge bars show whole and one bucket is a point.
   */
  setData(x: number[], ys: (number | null)[][], { bucketSeconds }: { bucketSeconds: number }) {
    this.bucketSeconds = bucketSeconds
    this.data = [x, ...ys] as uPlot.AlignedData
    this.el.dataset.points = String(x.length)
    this.empty.textContent = x.length === 0 ? 'No data for this period yet' : ''
    this.empty.hidden = x.length > 0
    this.el.setAttribute('aria-label', this.summary(x, ys))
    if (!this.plot) this.plot = new uPlot(this.options(), this.data, this.el)
    else this.plot.setData(this.data)
  }

  /** Sets a data-* attribute on the chart element (e.g. a total the page computed from the same buckets). */
  annotate(name: string, value: string) {
    this.el.dataset[name] = value
  }

  private summary(x: number[], ys: (number | null)[][]): string {
    if (x.length === 0) return `${this.spec.title}: no data`
    const latest = this.spec.series
      .map((s, i) => {
        const v = ys[i]?.[ys[i].length - 1]
        return `${s.label} ${v === null || v === undefined ? '—' : s.format(v)}`
      })
      .join(', ')
    return `${this.spec.title}: ${x.length} buckets; latest: ${latest}`
  }

  private size() {
    return { width: Math.max(this.el.clientWidth, 280), height: this.spec.height ?? 190 }
  }

  private resize() {
    if (!this.plot) return
    const { width, height } = this.size()
    if (Math.abs(this.plot.width - width) > 1) this.plot.setSize({ width, height })
  }

  private options(): uPlot.Options {
    const bars = uPlot.paths.bars
    const stepped = uPlot.paths.stepped
    return {
      ...this.size(),
      series: [
        {},
        ...this.spec.series.map(
          (s): uPlot.Series => ({
            label: s.label,
            scale: s.scale ?? 'y',
            stroke: s.color,
            width: s.kind === 'bars' || s.kind === 'points' ? 0 : 2,
            dash: s.dash,
            fill: s.kind === 'bars' ? s.color : s.fill ? `${s.color}22` : undefined,
            paths:
              s.kind === 'bars'
                ? bars?.({ size: [s.barFactor ?? 0.7, 40, 2], align: 0 })
                : s.kind === 'step'
                  ? stepped?.({ align: 1 })
                  : undefined,
            // uPlot shows points only where they do not crowd the line: a lone bucket stays visible.
            points:
              s.kind === 'bars'
                ? { show: false }
                : s.kind === 'points'
                  ? { show: true, size: 7, width: 1, stroke: s.color, fill: s.color }
                  : { size: 5, fill: s.color },
            spanGaps: s.kind === 'line' || s.kind === 'step' || s.kind === undefined,
            value: (_u, v) => (v === null || v === undefined ? '—' : s.format(v)),
          }),
        ),
      ],
      scales: {
        x: {
          time: true,
          // From the data itself: for a lone point uPlot proposes a span of 86400/ms, a thousand days in seconds.
          range: (u, min, max) => {
            const xs = u.data[0]
            const first = xs.length > 0 ? (xs[0] as number) : min
            const last = xs.length > 0 ? (xs[xs.length - 1] as number) : max
            // Bars are as wide as the gaps between buckets allow, so sparse buckets need more room at the edges.
            const pad = Math.max(this.bucketSeconds / 2, (last - first) * 0.03)
            return [first - pad, last + pad]
          },
        },
        y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.05 : 1] },
        y2: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.05 : 1] },
      },
      axes: [
        { stroke: AXIS_COLOR, grid: { stroke: GRID_COLOR }, ticks: { stroke: GRID_COLOR } },
        ...this.spec.axes.map(
          (a): uPlot.Axis => ({
            scale: a.scale,
            side: a.scale === 'y2' ? 1 : 3,
            label: a.label,
            labelSize: 18,
            size: 56,
            stroke: AXIS_COLOR,
            grid: { show: a.scale === 'y', stroke: GRID_COLOR },
            ticks: { stroke: GRID_COLOR },
            values: (_u, values) => values.map(a.format),
          }),
        ),
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    }
  }
}
