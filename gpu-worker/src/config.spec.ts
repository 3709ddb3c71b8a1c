import { describe, expect, it } from 'vitest'
import { ConfigError, parseWorkerConfig, type WorkerConfig } from './config'

const KEY = `0x${'ab'.repeat(32)}`
const parse = (argv: string[], env: Record<string, string> = {}) =>
  parseWorkerConfig({ argv, env: { WORKER_PRIVATE_KEY: KEY, ...env } }) as WorkerConfig

describe('parseWorkerConfig', () => {
  it('reads flags and environment, flags winning, with defaults for the rest', () => {
    const config = parse(['--gateway', 'ws://gw:4000/workers', '--concurrency', '4', '--price', '1000'], {
      WORKER_CONCURRENCY: '2',
      WORKER_MAX_BATCH: '64',
    })
    expect(config).toMatchObject({
      gatewayUrl: 'ws://gw:4000/workers',
      privateKey: KEY,
      concurrency: 4,
      maxBatchSize: 64,
      maxWaitMs: 2,
      pricePerUnit: 1000n,
      device: 'auto',
      faultRate: 0,
      receiptTtlSeconds: 86_400,
    })
    expect(config.modelsDir).toMatch(/gpu-worker\/models$/)
  })

  it.each([
    [['--gateway', 'http://gw'], {}, 'Invalid --gateway="http://gw": expected a ws:// or wss:// URL'],
    [[], {}, 'Missing --gateway (or GATEWAY_URL)'],
    [
      ['--gateway', 'ws://gw', '--concurrency', '0'],
      {},
      'Invalid --concurrency="0": expected an integer from 1 to 1024',
    ],
    [['--gateway', 'ws://gw'], { WORKER_MAX_WAIT_MS: 'soon' }, 'Invalid WORKER_MAX_WAIT_MS="soon"'],
    [['--gateway', 'ws://gw', '--fault-rate', '1.5'], {}, 'Invalid --fault-rate="1.5": expected a number from 0 to 1'],
    [['--gateway', 'ws://gw', '--device', 'tpu'], {}, 'Invalid --device="tpu": expected auto, cuda or cpu'],
    [['--gateway', 'ws://gw', '--price', '1e18'], {}, 'Invalid --price="1e18"'],
    [['--gateway', 'ws://gw', '--bogus', 'x'], {}, "Unknown option '--bogus'"],
  ])('refuses %j %j naming the option and value', (argv, env, message) => {
    expect(() => parse(argv, env)).toThrow(ConfigError)
    expect(() => parse(argv, env)).toThrow(message)
  })

  it('never repeats a malformed private key in its error', () => {
    expect(() => parse(['--gateway', 'ws://gw'], { WORKER_PRIVATE_KEY: '0xsecretsecret' })).toThrow(
      'Invalid WORKER_PRIVATE_KEY="<redacted>": expected 0x followed by 64 hex digits',
    )
  })

  it('answers --help', () => {
    expect(parseWorkerConfig({ argv: ['--help'], env: {} })).toBe('help')
  })
})
