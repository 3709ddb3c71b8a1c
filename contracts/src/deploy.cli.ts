import { access, constants } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { type Address, BaseError, createPublicClient, type Hex, HttpRequestError, http } from 'viem'
import { type DeployArgProblem, type DeployParams, deployAll, findDeployArgProblem, writeDeployment } from './deploy'

const USAGE = `usage: npm run deploy -w @computegraph/contracts -- --rpc-url URL --private-key 0x… [--out deployment.json]
  [--arbiter 0x…] [--dispatcher 0x…] [--min-stake WEI] [--unbonding-delay S] [--fee-bps N] [--dispute-window S] [--epoch-duration S]`

const OPTIONS = {
  'rpc-url': { type: 'string' },
  'private-key': { type: 'string' },
  out: { type: 'string', default: 'deployment.json' },
  arbiter: { type: 'string' },
  dispatcher: { type: 'string' },
  'min-stake': { type: 'string' },
  'unbonding-delay': { type: 'string' },
  'fee-bps': { type: 'string' },
  'dispute-window': { type: 'string' },
  'epoch-duration': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

type Flag = keyof typeof OPTIONS
type Values = Partial<Record<Exclude<Flag, 'out' | 'help'>, string>> & { out: string; help?: boolean }

const FLAG_OF: Record<DeployArgProblem['arg'], Flag> = {
  arbiter: 'arbiter',
  dispatcher: 'dispatcher',
  minStake: 'min-stake',
  unbondingDelay: 'unbonding-delay',
  feeBps: 'fee-bps',
  disputeWindow: 'dispute-window',
  epochDuration: 'epoch-duration',
}

/** A mistake on the command line: reported in one line (with the usage when `usage` is set), exit code 2. */
class UsageError extends Error {
  override name = 'UsageError'
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message)
  }
}

const isFlag = (arg: string) =>
  arg === '-h' || (arg.startsWith('--') && Object.hasOwn(OPTIONS, arg.slice(2).split('=', 1)[0] ?? ''))

function parseCommandLine(args: string[]): Values {
  // Node's strict mode throws on `--min-stake -5` ("ambiguous") and its messages span lines, so a lenient pass
  // names the problem first and rewrites each value as `--flag=value`, validated below like any other value.
  const { tokens } = parseArgs({ args, options: OPTIONS, strict: false, tokens: true })
  const canonical: string[] = []
  for (const token of tokens) {
    if (token.kind === 'positional') throw new UsageError(`unexpected argument ${JSON.stringify(token.value)}`)
    if (token.kind === 'option-terminator') continue
    if (!Object.hasOwn(OPTIONS, token.name)) throw new UsageError(`unknown option ${token.rawName} (see --help)`)
    if (OPTIONS[token.name as Flag].type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`)
      canonical.push(`--${token.name}`)
    } else {
      if (token.value === undefined || (!token.inlineValue && isFlag(token.value))) {
        throw new UsageError(`missing value for ${token.rawName}`)
      }
      canonical.push(`--${token.name}=${token.value}`)
    }
  }
  try {
    return parseArgs({ args: canonical, options: OPTIONS, strict: true }).values as Values
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n', 1)[0] ?? 'invalid arguments')
  }
}

function integer(flag: Flag, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`Invalid --${flag}="${value}": expected a non-negative integer`)
  return BigInt(value)
}

/** Everything deployAll needs, checked so that nothing is sent unless the whole deployment can go through. */
function deployArgs(values: Values) {
  const missing = (['rpc-url', 'private-key'] as const).filter((flag) => !values[flag])
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((f) => `--${f}`).join(' and ')}`, true)
  const rpcUrl = values['rpc-url'] as string
  const privateKey = values['private-key'] as string
  if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey)) {
    throw new UsageError('Invalid --private-key: expected 0x followed by 64 hex digits')
  }
  if (!URL.canParse(rpcUrl) || !['http:', 'https:'].includes(new URL(rpcUrl).protocol)) {
    throw new UsageError(`Invalid --rpc-url="${rpcUrl}": expected an http(s) URL`)
  }
  const params: Partial<DeployParams> = {}
  const minStake = integer('min-stake', values['min-stake'])
  const unbondingDelay = integer('unbonding-delay', values['unbonding-delay'])
  const feeBps = integer('fee-bps', values['fee-bps'])
  const disputeWindow = integer('dispute-window', values['dispute-window'])
  const epochDuration = integer('epoch-duration', values['epoch-duration'])
  if (minStake !== undefined) params.minStake = minStake
  if (unbondingDelay !== undefined) params.unbondingDelay = unbondingDelay
  // Beyond 2^53 Number() rounds, but anything above MAX_FEE_BPS is rejected below either way.
  if (feeBps !== undefined) params.feeBps = Number(feeBps)
  if (disputeWindow !== undefined) params.disputeWindow = disputeWindow
  if (epochDuration !== undefined) params.epochDuration = epochDuration
  const arbiter = values.arbiter as Address | undefined
  const dispatcher = values.dispatcher as Address | undefined
  const problem = findDeployArgProblem({ params, arbiter, dispatcher })
  if (problem) {
    const flag = FLAG_OF[problem.arg]
    throw new UsageError(`Invalid --${flag}="${values[flag]}": expected ${problem.expected}`)
  }
  return { rpcUrl, privateKey: privateKey as Hex, arbiter, dispatcher, params }
}

/** The innermost cause of a failed request, in one line: `connect ECONNREFUSED 127.0.0.1:8545`, `HTTP 404`. */
function rootCause(error: unknown): string {
  let root = error as Error
  while (root.cause instanceof Error) root = root.cause
  if (root instanceof HttpRequestError && root.status) return `HTTP ${root.status}`
  const message = root instanceof BaseError ? root.shortMessage : root.message
  return message.split('\n')[0] || String((root as { code?: string }).code ?? root.name)
}

/** An error in one line; viem's full message repeats the request, bytecode included. */
function summary(error: unknown): string {
  if (!(error instanceof BaseError)) return (error as Error).message
  const { shortMessage, details } = error
  return details && details !== shortMessage ? `${shortMessage} (${details})` : shortMessage
}

async function main(): Promise<number> {
  let values: Values
  let args: ReturnType<typeof deployArgs>
  try {
    values = parseCommandLine(process.argv.slice(2))
    if (values.help) {
      console.error(USAGE)
      return 0
    }
    args = deployArgs(values)
    // The file is written after the last transaction; find out now if it cannot be.
    const dir = path.dirname(path.resolve(values.out))
    await access(dir, constants.W_OK).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`Invalid --out="${values.out}": cannot write to ${dir} (${error.code})`)
    })
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(error.message)
    if (error.usage) console.error(USAGE)
    return 2
  }

  try {
    const probe = createPublicClient({ transport: http(args.rpcUrl, { retryCount: 1 }) })
    await probe.getChainId()
  } catch (error) {
    console.error(`cannot reach --rpc-url ${args.rpcUrl}: ${rootCause(error)}`)
    return 1
  }

  let deployment: Awaited<ReturnType<typeof deployAll>>
  try {
    deployment = await deployAll(args)
  } catch (error) {
    console.error(`deploy failed: ${summary(error)}`)
    return 1
  }
  for (const [name, c] of Object.entries(deployment.contracts))
    console.log(`${name.padEnd(16)} ${c.address} block ${c.startBlock}`)
  try {
    await writeDeployment(values.out, deployment)
  } catch (error) {
    // The contracts exist now; print the file so the addresses are not lost.
    console.error(`cannot write --out ${values.out}: ${(error as Error).message}; the deployment follows on stdout`)
    console.log(JSON.stringify(deployment, null, 2))
    return 1
  }
  console.log(`wrote ${values.out} (chain ${deployment.chainId})`)
  return 0
}

process.exitCode = await main()
