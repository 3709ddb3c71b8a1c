import { describe, expect, it } from 'vitest'
import { buildMarketFeatures, generateDataset, generateMarket, MARKET_FEATURES } from './market-data'
import { createPrng, permutation } from './prng'

describe('generateMarket', () => {
  it('is the same series for the same seed and another for another seed', () => {
    const a = generateMarket({ seed: 3, steps: 500 })
    const b = generateMarket({ seed: 3, steps: 500 })
    const c = generateMarket({ seed: 4, steps: 500 })
    expect(Buffer.from(a.prices.buffer).equals(Buffer.from(b.prices.buffer))).toBe(true)
    expect(a.prices[499]).not.toBe(c.prices[499])
    expect(a.prices.every((p) => p > 0 && Number.isFinite(p))).toBe(true)
  })

  it('switches between regimes whose volatility differs', () => {
    const market = generateMarket({ seed: 8, steps: 20_000 })
    const byRegime = new Map<number, number[]>()
    for (let t = 1; t < market.regimes.length; t++) {
      const r = market.regimes[t] as number
      byRegime.set(r, byRegime.get(r) ?? [])
      byRegime.get(r)?.push(market.logReturns[t] as number)
    }
    expect(byRegime.size).toBe(3)
    const vol = (xs: number[]) => Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / xs.length)
    const [calm, choppy, stressed] = [0, 1, 2].map((r) => vol(byRegime.get(r) ?? []))
    expect(calm).toBeLessThan(choppy as number)
    expect(choppy).toBeLessThan(stressed as number)
  })
})

describe('buildMarketFeatures', () => {
  it('gives one finite row of 8 features per step with full history and horizon', () => {
    const built = buildMarketFeatures({ market: generateMarket({ seed: 1, steps: 130 }) })
    expect(built.rows).toBe(130 - 20 - 10)
    expect(built.featureNames).toEqual(MARKET_FEATURES)
    expect(built.features.every(Number.isFinite)).toBe(true)
    expect(built.direction.every((d) => d === 0 || d === 1)).toBe(true)
    expect(built.volatility.every((v) => v > 0)).toBe(true)
  })
})

describe('generateDataset', () => {
  it('returns exactly the rows asked for', () => {
    const data = generateDataset({ name: 'market-direction', rows: 250, seed: 2 })
    expect(data.rows).toBe(250)
    expect(data.features.length).toBe(250 * 8)
    expect(data.labels.length).toBe(250)
  })
})

describe('createPrng', () => {
  it('repeats for a seed, and its shuffles are permutations', () => {
    const a = createPrng(123)
    const b = createPrng(123)
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()))
    const order = permutation({ n: 100, prng: createPrng(1) })
    expect([...order].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(() => createPrng(-1)).toThrow('seed must be an integer between 0 and 2^32-1, got -1')
  })
})
