/**
 * Formatting of the API's values. Amounts arrive as uint256 decimal strings: they are scaled with bigint before
 * anything becomes a JavaScript number, so no precision is lost where it shows.
 */

/** The demo chain's ComputeToken ("CPT", 18 decimals); a production deployment may use any 18-decimal ERC-20. */
export const TOKEN = { symbol: 'CPT', decimals: 18 } as const

const group = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')

/** `1234567891234567891234` → `1,234.57` (rounded half up to `digits` places). */
export function formatToken(raw: string | bigint, { digits = 2, decimals = TOKEN.decimals } = {}): string {
  const value = BigInt(raw)
  const negative = value < 0n
  const abs = negative ? -value : value
  const shown = BigInt(Math.min(digits, decimals))
  const unit = 10n ** (BigInt(decimals) - shown)
  const rounded = (abs + unit / 2n) / unit
  const scale = 10n ** shown
  const whole = group((rounded / scale).toString())
  const fraction = shown > 0n ? `.${(rounded % scale).toString().padStart(Number(shown), '0')}` : ''
  return `${negative && rounded > 0n ? '-' : ''}${whole}${fraction}`
}

/** A token amount as a number of whole tokens, for chart scales: exact to a millionth of a token. */
export function tokenToNumber(raw: string | bigint, decimals: number = TOKEN.decimals): number {
  const micro = decimals > 6 ? BigInt(raw) / 10n ** BigInt(decimals - 6) : BigInt(raw) * 10n ** BigInt(6 - decimals)
  return Number(micro) / 1e6
}

/** A count (jobs, providers) from a BigInt string: these stay far below 2^53. */
export function countToNumber(raw: string | bigint): number {
  return Number(BigInt(raw))
}

/** `12345` → `12,345`; BigInt strings keep every digit. */
export function formatCount(raw: string | bigint | number): string {
  return group(BigInt(raw).toString())
}

/** Axis ticks: 1234567 → `1.23M`. Only for numbers already scaled (tokenToNumber, counts). */
export function compactNumber(value: number): string {
  const abs = Math.abs(value)
  for (const [limit, suffix] of [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const) {
    if (abs >= limit) return `${trim((value / limit).toFixed(2))}${suffix}`
  }
  return trim(value.toFixed(abs >= 100 || Number.isInteger(value) ? 0 : 2))
}

const trim = (s: string) => (s.includes('.') ? s.replace(/\.?0+$/, '') : s)

/** `0x1234…abcd`: an address or hash shortened for a table cell (the full value goes in its title). */
export function shortHex(hex: string, keep = 4): string {
  return hex.length <= 2 + keep * 2 + 1 ? hex : `${hex.slice(0, 2 + keep)}…${hex.slice(-keep)}`
}

/** Statistics buckets are stamped in microseconds since the epoch (graph-node's Timestamp); charts use seconds. */
export function microsToSeconds(raw: string): number {
  return Number(BigInt(raw) / 1_000_000n)
}

/** A block time (seconds, as a BigInt string or number) in the viewer's locale, to the minute. */
export function formatTime(seconds: string | number | null | undefined): string {
  if (seconds === null || seconds === undefined || seconds === '') return '—'
  const date = new Date(Number(seconds) * 1000)
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  })
}

/** Bytes as `16 GiB`, `512 MiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return '—'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${trim(value.toFixed(value >= 10 ? 0 : 1))} ${units[unit]}`
}

/** Milliseconds as `12.3 ms`, `—` when not measured yet. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  return `${ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)} ms`
}
