/** What the soak promises about the running system; each row of the final table is one of these. */
export const INVARIANTS = {
  indexLag: 'indexed head reaches the finalized head within the bound',
  receiptValid: 'every receipt handed out verifies (GraphQL verifyReceipt)',
  verdictsAgree: 'GraphQL and CLI verify-receipt give the same verdict',
  readsAnswer: 'GraphQL and dashboard queries answer without errors',
  dashboardVerified: "dashboard's completed jobs show verified",
  completesOnce: 'every accepted request completes, exactly once',
  stopsClean: 'Ctrl-C stops the demo with exit code 0',
  noSurvivors: 'no process outlives a stop or a kill',
  logClean: 'no unexpected ERROR line in any log',
  memoryFlat: 'RSS of each process flat after warm-up',
  restarts: 'the demo starts again on its data folder',
} as const

export type InvariantKey = keyof typeof INVARIANTS

interface Row {
  checks: number
  failures: number
  /** Largest measured value (numeric invariants), with its unit. */
  worst?: { value: number; unit: string }
  /** The first few failures, as evidence. */
  examples: string[]
}

const MAX_EXAMPLES = 3

/** Counts checks and failures per invariant; the soak reads it as it goes and prints it at the end. */
export class InvariantLog {
  private readonly rows = new Map<InvariantKey, Row>(
    (Object.keys(INVARIANTS) as InvariantKey[]).map((k) => [k, { checks: 0, failures: 0, examples: [] }]),
  )

  /** `onFailure` hears the first few failures of each invariant as they happen. */
  constructor(private readonly onFailure: (key: InvariantKey, detail: string) => void = () => {}) {}

  /** One check of `key`; `failure` says what broke (undefined when it held); `value` is the measured quantity. */
  check(key: InvariantKey, failure: string | undefined, value?: { value: number; unit: string }): void {
    const row = this.rows.get(key) as Row
    row.checks++
    if (value && (!row.worst || value.value > row.worst.value)) row.worst = value
    if (failure === undefined) return
    row.failures++
    if (row.examples.length >= MAX_EXAMPLES) return
    row.examples.push(failure)
    this.onFailure(key, failure)
  }

  get failures(): number {
    return [...this.rows.values()].reduce((n, r) => n + r.failures, 0)
  }

  failuresOf(key: InvariantKey): number {
    return (this.rows.get(key) as Row).failures
  }

  report(): InvariantRow[] {
    return [...this.rows].map(([key, r]) => ({
      key,
      invariant: INVARIANTS[key],
      checks: r.checks,
      failures: r.failures,
      worst: r.worst ? `${round(r.worst.value)} ${r.worst.unit}` : r.examples.length > 0 ? 'see below' : '',
      examples: r.examples,
    }))
  }
}

export interface InvariantRow {
  key: InvariantKey
  invariant: string
  checks: number
  failures: number
  worst: string
  examples: string[]
}

const round = (v: number) => (Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 10) / 10)

/** The table the soak prints: one line per invariant, then the first failures of each that broke. */
export function formatInvariantTable({ rows }: { rows: InvariantRow[] }): string {
  const header = ['invariant', 'checks', 'failures', 'worst value']
  const cells = rows.map((r) => [r.invariant, String(r.checks), String(r.failures), r.worst])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)))
  const line = (c: string[]) =>
    c.map((v, i) => (i === 0 || i === 3 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join('  ')
  const broken = rows.filter((r) => r.failures > 0)
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
    ...broken.flatMap((r) => ['', `${r.invariant}:`, ...r.examples.map((e) => `  - ${e.slice(0, 400)}`)]),
  ].join('\n')
}
