import { describe, expect, it } from 'vitest'
import { loadConfig } from './config'

describe('loadConfig', () => {
  it('runs the embedded demo on PGlite when nothing is configured', () => {
    const c = loadConfig({})
    expect(c.demo.enabled).toBe(true)
    expect(c.databaseUrl).toBeUndefined()
    expect(c.http).toEqual({ host: '127.0.0.1', port: 4000 })
    expect(c.indexer.finality).toEqual({ kind: 'auto', depth: 64 })
  })

  it('reads a real chain and database', () => {
    const c = loadConfig({
      RPC_URLS: 'https://a.example, https://b.example',
      DATABASE_URL: 'postgres://u@h/db',
      FINALITY: '12',
      CHAIN_ID: '8453',
    })
    expect(c.demo.enabled).toBe(false)
    expect(c.indexer.rpcUrls).toEqual(['https://a.example', 'https://b.example'])
    expect(c.indexer.finality).toEqual({ kind: 'depth', depth: 12 })
    expect(c.indexer.chainId).toBe(8453)
  })

  it.each([
    [{ RPC_URL: 'htp://x' }, 'Invalid RPC_URL="htp://x": expected an http or https URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'Invalid DATABASE_URL="mysql://x": expected an postgres or postgresql URL'],
    [{ PORT: '70000' }, 'Invalid PORT="70000": expected an integer between 1 and 65535'],
    [{ FINALITY: 'soon' }, 'Invalid FINALITY="soon": expected "auto", "tag" or a block depth such as 64'],
    [{ POLL_INTERVAL_MS: '-5' }, 'Invalid POLL_INTERVAL_MS="-5": expected a non-negative integer'],
    [
      { GETLOGS_INITIAL_RANGE: '100', GETLOGS_MAX_RANGE: '10' },
      'Invalid GETLOGS_MAX_RANGE="10": expected at least GETLOGS_INITIAL_RANGE (100)',
    ],
  ])('fails fast naming the variable and value: %o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message)
  })
})
