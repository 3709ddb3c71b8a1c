import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type Address, getAddress, type Hex, isAddress } from 'viem'
import type { DevicePreference } from './inference-engine'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Everything the worker process is told, read and validated once at start. */
export interface WorkerConfig {
  gatewayUrl: string
  privateKey: Hex
  modelsDir: string
  device: DevicePreference
  concurrency: number
  maxBatchSize: number
  maxWaitMs: number
  /** Asking price per unit (inference row, or training epoch x row) in token base units. */
  pricePerUnit: bigint
  /** Seconds a receipt stays valid for submission on-chain. */
  receiptTtlSeconds: number
  /** When set, gateways announcing another chain or JobMarket are refused. */
  chainId?: number
  jobMarket?: Address
  reconnect: { initialDelayMs: number; maxDelayMs: number }
  shutdownGraceMs: number
  /**
   * TEST ONLY: the share of inference requests answered with deliberately perturbed outputs, still signed, so the
   * gateway's spot checks and disputes can be exercised. Never set it on a worker that holds real stake.
   */
  faultRate: number
  logLevel: 'debug' | 'info' | 'warn' | 'error'
}

/** Flag name, environment variable, and help. */
const OPTIONS = {
  gateway: { env: 'GATEWAY_URL', help: 'gateway WebSocket URL (ws:// or wss://), required' },
  'private-key': {
    env: 'WORKER_PRIVATE_KEY',
    help: "provider's private key, 0x + 64 hex digits, required (prefer the environment variable: flags show in ps)",
  },
  models: { env: 'WORKER_MODELS_DIR', help: 'folder with manifest.json and .onnx files (default: the shipped models)' },
  device: { env: 'WORKER_DEVICE', help: 'auto | cuda | cpu (default auto: CUDA when present, else CPU)' },
  concurrency: { env: 'WORKER_CONCURRENCY', help: 'executions in flight at once (default 1)' },
  'max-batch': { env: 'WORKER_MAX_BATCH', help: 'most rows merged into one execution (default 32)' },
  'max-wait-ms': { env: 'WORKER_MAX_WAIT_MS', help: 'longest wait for a batch to fill, ms (default 2)' },
  price: { env: 'WORKER_PRICE', help: 'asking price per unit in token base units (default 0)' },
  'receipt-ttl': { env: 'WORKER_RECEIPT_TTL', help: 'seconds a receipt stays valid (default 86400)' },
  'chain-id': { env: 'WORKER_CHAIN_ID', help: 'refuse gateways on another chain' },
  'job-market': { env: 'WORKER_JOB_MARKET', help: 'refuse gateways for another JobMarket address' },
  'reconnect-min-ms': { env: 'WORKER_RECONNECT_MIN_MS', help: 'first reconnect delay, ms (default 500)' },
  'reconnect-max-ms': { env: 'WORKER_RECONNECT_MAX_MS', help: 'longest reconnect delay, ms (default 30000)' },
  'shutdown-grace-ms': {
    env: 'WORKER_SHUTDOWN_GRACE_MS',
    help: 'time in-flight tasks get on SIGTERM, ms (default 10000)',
  },
  'fault-rate': {
    env: 'WORKER_FAULT_RATE',
    help: 'TEST ONLY: share (0-1) of inference outputs deliberately perturbed, still signed (default 0)',
  },
  'log-level': { env: 'WORKER_LOG_LEVEL', help: 'debug | info | warn | error (default info)' },
} as const

type OptionName = keyof typeof OPTIONS

export function usage(): string {
  const lines = Object.entries(OPTIONS).map(([flag, o]) => `  --${flag.padEnd(18)} ${o.env.padEnd(25)} ${o.help}`)
  return ['Usage: gpu-worker [options]   (each option may also be set by its environment variable)', ...lines].join(
    '\n',
  )
}

const SHIPPED_MODELS_DIR = fileURLToPath(new URL('../models', import.meta.url))

/** Parses flags and environment (flags win). Throws ConfigError naming the option and the bad value. */
export function parseWorkerConfig({
  argv,
  env,
}: {
  argv: string[]
  env: Record<string, string | undefined>
}): WorkerConfig | 'help' {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(Object.keys(OPTIONS).map((k) => [k, { type: 'string' as const }])),
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (cause) {
    throw new ConfigError(`${(cause as Error).message}\n${usage()}`)
  }
  if (values.help) return 'help'

  const raw = (name: OptionName): { value: string; label: string } | undefined => {
    const flag = values[name]
    if (typeof flag === 'string') return { value: flag, label: `--${name}` }
    const fromEnv = env[OPTIONS[name].env]
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, label: OPTIONS[name].env }
    return undefined
  }
  const invalid = (label: string, value: string, expected: string): never => {
    throw new ConfigError(`Invalid ${label}="${value}": expected ${expected}`)
  }
  const int = (name: OptionName, fallback: number, min: number, max: number): number => {
    const r = raw(name)
    if (!r) return fallback
    if (!/^[0-9]+$/.test(r.value) || Number(r.value) < min || Number(r.value) > max) {
      invalid(r.label, r.value, `an integer from ${min} to ${max}`)
    }
    return Number(r.value)
  }

  const gateway = raw('gateway')
  if (!gateway)
    throw new ConfigError(`Missing --gateway (or ${OPTIONS.gateway.env}): the gateway's ws:// or wss:// URL`)
  let gatewayUrl: URL
  try {
    gatewayUrl = new URL(gateway.value)
  } catch {
    return invalid(gateway.label, gateway.value, 'a ws:// or wss:// URL')
  }
  if (gatewayUrl.protocol !== 'ws:' && gatewayUrl.protocol !== 'wss:') {
    invalid(gateway.label, gateway.value, 'a ws:// or wss:// URL')
  }

  const key = raw('private-key')
  if (!key) {
    throw new ConfigError(`Missing --private-key (or ${OPTIONS['private-key'].env}): the provider's private key`)
  }
  // The key itself never goes into an error message.
  if (!/^0x[0-9a-fA-F]{64}$/.test(key.value)) invalid(key.label, '<redacted>', '0x followed by 64 hex digits')

  const device = raw('device')?.value ?? 'auto'
  if (device !== 'auto' && device !== 'cuda' && device !== 'cpu') {
    invalid(raw('device')?.label ?? '--device', device, 'auto, cuda or cpu')
  }

  const price = raw('price')
  if (price && !/^(0|[1-9][0-9]{0,77})$/.test(price.value)) {
    invalid(price.label, price.value, 'a non-negative decimal integer in token base units')
  }

  const fault = raw('fault-rate')
  const faultRate = fault ? Number(fault.value) : 0
  if (fault && (fault.value.trim() === '' || !(faultRate >= 0 && faultRate <= 1))) {
    invalid(fault.label, fault.value, 'a number from 0 to 1')
  }

  const market = raw('job-market')
  if (market && !isAddress(market.value, { strict: false }))
    invalid(market.label, market.value, 'a 20-byte hex address')

  const logLevel = raw('log-level')?.value ?? 'info'
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    invalid(raw('log-level')?.label ?? '--log-level', logLevel, 'debug, info, warn or error')
  }

  const reconnectMin = int('reconnect-min-ms', 500, 1, 600_000)
  const reconnectMax = int('reconnect-max-ms', 30_000, 1, 3_600_000)
  if (reconnectMax < reconnectMin) {
    throw new ConfigError(`--reconnect-max-ms (${reconnectMax}) must not be below --reconnect-min-ms (${reconnectMin})`)
  }
  const chainIdRaw = raw('chain-id')
  return {
    gatewayUrl: gatewayUrl.toString(),
    privateKey: key.value.toLowerCase() as Hex,
    modelsDir: raw('models')?.value ?? SHIPPED_MODELS_DIR,
    device: device as DevicePreference,
    concurrency: int('concurrency', 1, 1, 1024),
    maxBatchSize: int('max-batch', 32, 1, 65_536),
    maxWaitMs: int('max-wait-ms', 2, 0, 10_000),
    pricePerUnit: BigInt(price?.value ?? '0'),
    receiptTtlSeconds: int('receipt-ttl', 86_400, 60, 365 * 86_400),
    ...(chainIdRaw ? { chainId: int('chain-id', 0, 1, Number.MAX_SAFE_INTEGER) } : {}),
    ...(market ? { jobMarket: getAddress(market.value) } : {}),
    reconnect: { initialDelayMs: reconnectMin, maxDelayMs: reconnectMax },
    shutdownGraceMs: int('shutdown-grace-ms', 10_000, 0, 600_000),
    faultRate,
    logLevel: logLevel as WorkerConfig['logLevel'],
  }
}

/** The process's configuration: the only place the worker reads process.env and process.argv. */
export function loadWorkerConfig(): WorkerConfig | 'help' {
  return parseWorkerConfig({ argv: process.argv.slice(2), env: process.env })
}
