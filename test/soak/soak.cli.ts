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
  const report = await runSoak({ ...profile, durationMs: minutes * 60_000, seed, log })
  console.log(
    `\nevents: ${Object.entries(report.events)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}\n`,
  )
  console.log(report.table)
  if (report.kept) console.log(`\nthe demo's data and log are kept in ${report.kept}`)
  console.log(report.failures === 0 ? '\nsoak: every invariant held' : `\nsoak: ${report.failures} failed checks`)
  return report.failures === 0 ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`soak: ${error.stack ?? error.message}`)
    process.exit(2)
  },
)
