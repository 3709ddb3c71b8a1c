const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const LABELS = '\\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*",?)*\\}'
const SAMPLE = new RegExp(`^(${NAME})(${LABELS})? (\\S+)(?: -?[0-9]+)?$`)
const META = new RegExp(`^# (HELP|TYPE) (${NAME})(?: (.*))?$`)
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created']

// Prometheus reads values with Go's ParseFloat: NaN and Inf in any case (prom-client writes "Nan").
function parseValue(raw: string, line: string): number {
  if (/^nan$/i.test(raw)) return Number.NaN
  if (/^\+?inf$/i.test(raw)) return Number.POSITIVE_INFINITY
  if (/^-inf$/i.test(raw)) return Number.NEGATIVE_INFINITY
  if (!/^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(raw)) throw new Error(`bad sample value: ${line}`)
  return Number(raw)
}

/**
 * Parses Prometheus text exposition (format 0.0.4) strictly: every line is a HELP or TYPE comment or a sample
 * `name{labels} value`, and every sample belongs to a family declared by a TYPE line. Samples are keyed
 * `name{labels}` exactly as written.
 */
export function parseExposition(text: string): { samples: Map<string, number>; types: Map<string, string> } {
  const samples = new Map<string, number>()
  const types = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('#')) {
      const meta = META.exec(line)
      if (!meta) throw new Error(`bad comment line: ${line}`)
      if (meta[1] === 'TYPE') {
        if (!TYPES.has(meta[3] ?? '')) throw new Error(`bad TYPE: ${line}`)
        types.set(meta[2] as string, meta[3] as string)
      }
      continue
    }
    const m = SAMPLE.exec(line)
    if (!m) throw new Error(`bad sample line: ${line}`)
    const name = m[1] as string
    const family = types.has(name)
      ? name
      : SUFFIXES.filter((s) => name.endsWith(s))
          .map((s) => name.slice(0, -s.length))
          .find((f) => types.has(f))
    if (!family) throw new Error(`sample without a TYPE: ${line}`)
    const key = `${name}${m[2] ?? ''}`
    if (samples.has(key)) throw new Error(`duplicate sample: ${line}`)
    samples.set(key, parseValue(m[3] as string, line))
  }
  return { samples, types }
}
