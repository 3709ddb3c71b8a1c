// `npm run soak [-- --minutes N] [--seed N]`: the whole demo under restarts, kills, rogue workers and bursts, for
// SOAK_MINUTES (default 30); prints the invariant table and exits 1 when an invariant broke, 2 when it could not run.
import { parseArgs } from 'node:util'
import { runSoak, SHORT_SOAK, SOAK_DEFAULTS } from './soak'

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`Invalid ${name}="${value}": expected a positive number`)
  return n
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: process.env.SOAK_MINUTES },
      seed: { type: 'string', default: process.env.SOAK_SEED },
      short: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(
      'usage: npm run soak -- [--minutes N (SOAK_MINUTES, default 30)] [--seed N (SOAK_SEED, default 1)] [--short (what npm test runs)]',
    )
    return 0
  }
  const profile = values.short ? { ...SOAK_DEFAULTS, ...SHORT_SOAK } : SOAK_DEFAULTS
  const minutes = positive('--minutes', values.minutes, profile.durationMs / 60_000)
  const seed = Math.floor(positive('--seed', values.seed, profile.seed))
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`)
  // The demo runs in process groups of its own, out of reach of the terminal's Ctrl-C: the soak stops it.
  const abort = new AbortController()
  // `on`, not `once`: a terminal's Ctrl-C reaches this process both directly and relayed by tsx.
  process.on('SIGINT', () => abort.abort())
  process.on('SIGTERM', () => abort.abort())
  const report = await runSoak({ ...profile, durationMs: minutes * 60_000, seed, log, signal: abort.signal })
  if (abort.signal.aborted) console.log('\nsoak: interrupted; the checks so far:')
  console.log(
    `\nevents: ${Object.entries(report.events)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}\n`,
  )
  console.log(report.table)
  if (report.kept) console.log(`\nthe demo's data and log are kept in ${report.kept}`)
  if (!abort.signal.aborted) {
    console.log(report.failures === 0 ? '\nsoak: every invariant held' : `\nsoak: ${report.failures} failed checks`)
  }
  if (abort.signal.aborted) return 130
  return report.failures === 0 ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`soak: ${error.stack ?? error.message}`)
    process.exit(2)
  },
)
