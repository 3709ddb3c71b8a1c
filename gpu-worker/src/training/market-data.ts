import { createPrng } from './prng'

/**
 * Synthetic market data for the shipped models and named training datasets: geometric Brownian motion whose drift
 * and volatility switch between persistent regimes (a hidden Markov chain). Persistence is what makes recent
 * returns and volatility carry some information about the next ones, as in real markets.
 */
export interface MarketSeries {
  prices: Float64Array
  /** logReturns[t] = ln(prices[t] / prices[t-1]); logReturns[0] = 0. */
  logReturns: Float64Array
  regimes: Uint8Array
}

export interface Regime {
  name: string
  /** Per-step drift of the log price. */
  drift: number
  /** Per-step volatility of the log price. */
  volatility: number
}

export const MARKET_REGIMES: readonly Regime[] = [
  { name: 'calm-bull', drift: 0.0015, volatility: 0.006 },
  { name: 'choppy', drift: 0, volatility: 0.012 },
  { name: 'stressed-bear', drift: -0.003, volatility: 0.024 },
]

/** Probability of staying in the current regime each step (mean stay 50 steps). */
const REGIME_PERSISTENCE = 0.98

export function generateMarket({
  seed,
  steps,
  startPrice = 100,
}: {
  seed: number
  steps: number
  startPrice?: number
}): MarketSeries {
  if (!Number.isSafeInteger(steps) || steps < 2) throw new RangeError(`steps must be an integer >= 2, got ${steps}`)
  const prng = createPrng(seed)
  const prices = new Float64Array(steps)
  const logReturns = new Float64Array(steps)
  const regimes = new Uint8Array(steps)
  let regime = prng.int(MARKET_REGIMES.length)
  prices[0] = startPrice
  regimes[0] = regime
  for (let t = 1; t < steps; t++) {
    if (prng.next() > REGIME_PERSISTENCE)
      regime = (regime + 1 + prng.int(MARKET_REGIMES.length - 1)) % MARKET_REGIMES.length
    const { drift, volatility } = MARKET_REGIMES[regime] as Regime
    // GBM step: d ln S = (mu - sigma^2 / 2) dt + sigma dW, dt = 1
    const r = drift - (volatility * volatility) / 2 + volatility * prng.normal()
    logReturns[t] = r
    prices[t] = (prices[t - 1] as number) * Math.exp(r)
    regimes[t] = regime
  }
  return { prices, logReturns, regimes }
}

export const MARKET_FEATURES = [
  'return_1',
  'return_5',
  'return_20',
  'volatility_5',
  'volatility_20',
  'volatility_ratio',
  'ma_gap_20',
  'rsi_14',
] as const

/** Steps of history the features need. */
const LOOKBACK = 20
/** The direction label looks this many steps ahead. */
export const DIRECTION_HORIZON = 5
/** The volatility label is realised over this many steps ahead. */
export const VOLATILITY_HORIZON = 10

export interface MarketFeatures {
  rows: number
  columns: number
  featureNames: readonly string[]
  /** Row-major [rows, columns]. */
  features: Float32Array
  /** 1 when the log price rises over the next DIRECTION_HORIZON steps, else 0. */
  direction: Float32Array
  /** Realised volatility (standard deviation of log returns, in percent) over the next VOLATILITY_HORIZON steps. */
  volatility: Float32Array
}

function std(values: Float64Array, from: number, to: number): number {
  const n = to - from
  let mean = 0
  for (let i = from; i < to; i++) mean += values[i] as number
  mean /= n
  let sq = 0
  for (let i = from; i < to; i++) sq += ((values[i] as number) - mean) ** 2
  return Math.sqrt(sq / n)
}

function sum(values: Float64Array, from: number, to: number): number {
  let s = 0
  for (let i = from; i < to; i++) s += values[i] as number
  return s
}

/** The 8 features of MARKET_FEATURES at step t, from history up to and including t. */
export function featuresAt({ market, t }: { market: MarketSeries; t: number }): number[] {
  const { prices, logReturns } = market
  if (t < LOOKBACK) throw new RangeError(`features need ${LOOKBACK} steps of history, t=${t}`)
  const vol5 = std(logReturns, t - 4, t + 1)
  const vol20 = std(logReturns, t - 19, t + 1)
  let sma = 0
  for (let i = t - 19; i <= t; i++) sma += prices[i] as number
  sma /= 20
  let gains = 0
  let losses = 0
  for (let i = t - 13; i <= t; i++) {
    const r = logReturns[i] as number
    if (r > 0) gains += r
    else losses -= r
  }
  const rsi = gains + losses === 0 ? 0.5 : gains / (gains + losses)
  return [
    (logReturns[t] as number) * 100,
    sum(logReturns, t - 4, t + 1) * 100,
    sum(logReturns, t - 19, t + 1) * 100,
    vol5 * 100,
    vol20 * 100,
    vol20 === 0 ? 1 : vol5 / vol20,
    Math.log((prices[t] as number) / sma) * 100,
    rsi,
  ]
}

/** Feature rows with both labels, one per step that has full history and a full horizon ahead. */
export function buildMarketFeatures({ market }: { market: MarketSeries }): MarketFeatures {
  const horizon = Math.max(DIRECTION_HORIZON, VOLATILITY_HORIZON)
  const first = LOOKBACK
  const last = market.prices.length - 1 - horizon
  const rows = Math.max(0, last - first + 1)
  const columns = MARKET_FEATURES.length
  const features = new Float32Array(rows * columns)
  const direction = new Float32Array(rows)
  const volatility = new Float32Array(rows)
  for (let row = 0; row < rows; row++) {
    const t = first + row
    features.set(featuresAt({ market, t }), row * columns)
    direction[row] = sum(market.logReturns, t + 1, t + 1 + DIRECTION_HORIZON) > 0 ? 1 : 0
    volatility[row] = std(market.logReturns, t + 1, t + 1 + VOLATILITY_HORIZON) * 100
  }
  return { rows, columns, featureNames: MARKET_FEATURES, features, direction, volatility }
}

export const GENERATED_DATASETS = ['market-direction', 'market-volatility'] as const
export type GeneratedDatasetName = (typeof GENERATED_DATASETS)[number]

export interface Dataset {
  rows: number
  columns: number
  featureNames: readonly string[]
  features: Float32Array
  labels: Float32Array
}

/** A named synthetic dataset: `rows` examples drawn from a market generated from `seed`. */
export function generateDataset({
  name,
  rows,
  seed,
}: {
  name: GeneratedDatasetName
  rows: number
  seed: number
}): Dataset {
  if (!Number.isSafeInteger(rows) || rows < 1) throw new RangeError(`rows must be a positive integer, got ${rows}`)
  const market = generateMarket({ seed, steps: rows + LOOKBACK + Math.max(DIRECTION_HORIZON, VOLATILITY_HORIZON) })
  const built = buildMarketFeatures({ market })
  const labels = name === 'market-direction' ? built.direction : built.volatility
  return {
    rows: built.rows,
    columns: built.columns,
    featureNames: built.featureNames,
    features: built.features,
    labels,
  }
}
