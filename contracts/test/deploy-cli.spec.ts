import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { type Address, createPublicClient, http, type PublicClient } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeTokenAbi, jobMarketAbi, providerStakingAbi, rewardPoolAbi } from '../generated/abis'
import { ANVIL_KEYS, type Anvil, freePort, startAnvil } from '../src/anvil'
import {
  ARBITER_ROLE,
  type Deployment,
  DISPATCHER_ROLE,
  deployAll,
  MAX_FEE_BPS,
  readDeployment,
  SLASHER_ROLE,
} from '../src/deploy'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const cli = path.join(repoRoot, 'contracts/src/deploy.cli.ts')

// A line of a Node stack trace, which a user's mistake should never print.
const STACK_LINE = /^ {4}at /m

interface Run {
  code: number
  stdout: string
  stderr: string
}

async function deployCli(args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', cli, ...args], {
      cwd: repoRoot,
      timeout: 30_000,
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string }
    if (typeof e.code !== 'number') throw error
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

describe('the deploy CLI', () => {
  let anvil: Anvil
  let client: PublicClient
  let dir: string
  const deployerKey = ANVIL_KEYS[0]
  const arbiter = privateKeyToAccount(ANVIL_KEYS[1]).address
  const dispatcher = privateKeyToAccount(ANVIL_KEYS[2]).address

  beforeAll(async () => {
    anvil = await startAnvil({ chainId: 1337 })
    client = createPublicClient({ transport: http(anvil.rpcUrl) })
    dir = await mkdtemp(path.join(tmpdir(), 'deploy-cli-'))
  })
  afterAll(async () => {
    await anvil?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  describe('against a fresh anvil', () => {
    let run: Run
    let deployment: Deployment
    const out = () => path.join(dir, 'deployment.json')

    beforeAll(async () => {
      run = await deployCli([
        '--rpc-url',
        anvil.rpcUrl,
        '--private-key',
        deployerKey,
        '--out',
        out(),
        '--arbiter',
        arbiter,
        '--dispatcher',
        dispatcher,
        '--min-stake',
        '123',
        '--unbonding-delay',
        '600',
        '--fee-bps',
        '250',
        '--dispute-window',
        '300',
        '--epoch-duration',
        '3600',
      ])
      deployment = await readDeployment(out())
    }, 60_000)

    it('exits 0 and names each contract and the file it wrote', () => {
      expect(run.code).toBe(0)
      for (const name of Object.keys(deployment.contracts)) expect(run.stdout).toContain(name)
      expect(run.stdout).toContain(`wrote ${out()} (chain 1337)`)
    })

    it('writes a deployment file for the chain it deployed to, with the parameters given', () => {
      expect(deployment).toMatchObject({
        chainId: 1337,
        deployer: privateKeyToAccount(deployerKey).address,
        arbiter,
        dispatcher,
        params: { minStake: '123', unbondingDelay: '600', feeBps: 250, disputeWindow: '300', epochDuration: '3600' },
      })
    })

    it('deploys code at every address, first present in the block the file names as its start', async () => {
      for (const [name, { address, startBlock }] of Object.entries(deployment.contracts)) {
        const code = await client.getCode({ address, blockNumber: BigInt(startBlock) })
        expect({ name, deployed: (code?.length ?? 0) > 2 }).toEqual({ name, deployed: true })
        const before = await client.getCode({ address, blockNumber: BigInt(startBlock - 1) })
        expect({ name, before: before ?? '0x' }).toEqual({ name, before: '0x' })
      }
    })

    it('wires the contracts to each other', async () => {
      const { ComputeToken, ProviderStaking, JobMarket, RewardPool } = deployment.contracts
      const read = (address: Address, abi: typeof jobMarketAbi | typeof rewardPoolAbi, functionName: string) =>
        client.readContract({ address, abi, functionName } as never) as Promise<unknown>
      expect(await read(RewardPool.address, rewardPoolAbi, 'jobMarket')).toBe(JobMarket.address)
      expect(await read(RewardPool.address, rewardPoolAbi, 'token')).toBe(ComputeToken.address)
      expect(await read(JobMarket.address, jobMarketAbi, 'staking')).toBe(ProviderStaking.address)
      expect(await read(JobMarket.address, jobMarketAbi, 'rewardPool')).toBe(RewardPool.address)
      expect(await read(JobMarket.address, jobMarketAbi, 'token')).toBe(ComputeToken.address)
      expect(await read(JobMarket.address, jobMarketAbi, 'feeBps')).toBe(250)
      expect(await read(JobMarket.address, jobMarketAbi, 'disputeWindow')).toBe(300n)
      expect(await read(RewardPool.address, rewardPoolAbi, 'epochDuration')).toBe(3600n)
      expect(
        await client.readContract({
          address: ProviderStaking.address,
          abi: providerStakingAbi,
          functionName: 'minStake',
        }),
      ).toBe(123n)
      expect(
        await client.readContract({ address: ComputeToken.address, abi: computeTokenAbi, functionName: 'owner' }),
      ).toBe(deployment.deployer)
    })

    it.each([
      ['ProviderStaking', 'SLASHER_ROLE', 'JobMarket'],
      ['ProviderStaking', 'SLASHER_ROLE', 'arbiter'],
      ['JobMarket', 'ARBITER_ROLE', 'arbiter'],
      ['JobMarket', 'DISPATCHER_ROLE', 'dispatcher'],
    ] as const)('grants %s.%s to the %s', async (contract, role, holder) => {
      const roles = { SLASHER_ROLE, ARBITER_ROLE, DISPATCHER_ROLE }
      const account = holder === 'JobMarket' ? deployment.contracts.JobMarket.address : deployment[holder]
      const has = await client.readContract({
        address: deployment.contracts[contract].address,
        abi: contract === 'JobMarket' ? jobMarketAbi : providerStakingAbi,
        functionName: 'hasRole',
        args: [roles[role], account],
      })
      expect(has).toBe(true)
    })

    it('grants no role to the deployer beyond admin when an arbiter and a dispatcher are named', async () => {
      const { ProviderStaking, JobMarket } = deployment.contracts
      const hasRole = (address: Address, role: `0x${string}`) =>
        client.readContract({ address, abi: jobMarketAbi, functionName: 'hasRole', args: [role, deployment.deployer] })
      expect(await hasRole(ProviderStaking.address, SLASHER_ROLE)).toBe(false)
      expect(await hasRole(JobMarket.address, ARBITER_ROLE)).toBe(false)
      expect(await hasRole(JobMarket.address, DISPATCHER_ROLE)).toBe(false)
    })
  })

  // Each case is a node process that exits before sending a transaction, so they run side by side.
  describe.concurrent('rejects bad arguments with exit code 2', () => {
    // Cases that name this anvil check that its account never sent a transaction.
    const idleKey = ANVIL_KEYS[3]
    const idle = privateKeyToAccount(idleKey).address
    // --out points away from the repository should a case deploy after all; a later --out wins.
    const withChain = (...args: string[]) => [
      ...['--rpc-url', anvil.rpcUrl, '--private-key', idleKey, '--out', path.join(dir, 'never-written.json')],
      ...args,
    ]
    const withoutChain = (...args: string[]) => ['--rpc-url', 'http://127.0.0.1:1', '--private-key', idleKey, ...args]

    it.for([
      ['--rpc-url', ['--private-key', ANVIL_KEYS[0]]],
      ['--private-key', ['--rpc-url', 'http://127.0.0.1:1']],
    ] as const)('says what is missing (%s), then prints the usage', async ([missing, args], { expect }) => {
      const run = await deployCli([...args])
      expect(run.code).toBe(2)
      expect(run.stderr).toMatch(new RegExp(`^missing ${missing}\nusage: .* --rpc-url URL --private-key 0x`))
      expect(run.stderr).not.toMatch(STACK_LINE)
    })

    it('names --private-key when it is not 32 bytes of hex', async ({ expect }) => {
      const run = await deployCli(['--rpc-url', 'http://127.0.0.1:1', '--private-key', '0x1234'])
      expect(run.code).toBe(2)
      expect(run.stderr.trim()).toBe('Invalid --private-key: expected 0x followed by 64 hex digits')
      expect(run.stderr).not.toMatch(STACK_LINE)
    })

    it.for(['min-stake', 'unbonding-delay', 'fee-bps', 'dispute-window', 'epoch-duration'])(
      'names --%s and the value when it is not a non-negative integer',
      async (flag, { expect }) => {
        const run = await deployCli(withoutChain(`--${flag}`, '1.5'))
        expect(run.code).toBe(2)
        expect(run.stderr.trim()).toBe(`Invalid --${flag}="1.5": expected a non-negative integer`)
        expect(run.stderr).not.toMatch(STACK_LINE)
      },
    )

    it.for([
      [['--min-stake', '-5'], '--min-stake', '-5'],
      [['--min-stake=-5'], '--min-stake', '-5'],
    ] as const)('names the flag and the negative value in %j', async ([args, flag, value], { expect }) => {
      const run = await deployCli(withoutChain(...args))
      expect(run.code).toBe(2)
      expect(run.stderr.trim()).toBe(`Invalid ${flag}="${value}": expected a non-negative integer`)
      expect(run.stderr).not.toMatch(STACK_LINE)
    })

    it.for([
      [['--bogus'], 'unknown option --bogus (see --help)'],
      [['extra'], 'unexpected argument "extra"'],
      [['--arbiter'], 'missing value for --arbiter'],
      [['--arbiter', '--dispatcher', ANVIL_KEYS[0]], 'missing value for --arbiter'],
    ] as const)('rejects %j in one line: %s', async ([args, message], { expect }) => {
      const run = await deployCli(withoutChain(...args))
      expect(run.code).toBe(2)
      expect(run.stderr.trim()).toBe(message)
      expect(run.stderr).not.toMatch(STACK_LINE)
    })

    it.for(['htp://x', 'localhost:8545'])(
      'names --rpc-url and the value "%s" when it is not an http(s) URL',
      async (url, { expect }) => {
        const run = await deployCli(['--rpc-url', url, '--private-key', idleKey])
        expect(run.code).toBe(2)
        expect(run.stderr.trim()).toBe(`Invalid --rpc-url="${url}": expected an http(s) URL`)
        expect(run.stderr).not.toMatch(STACK_LINE)
      },
    )

    it.for([
      ['--arbiter', '0x12', 'a 20-byte hex address'],
      // anvil's account 1 with one checksum letter lower-cased
      ['--dispatcher', '0x70997970c51812dc3A010C7d01b50e0d17dc79C8', 'an EIP-55 checksummed or all lower-case address'],
    ] as const)('names %s="%s" and sends no transaction', async ([flag, value, expected], { expect }) => {
      const run = await deployCli(withChain(flag, value))
      expect(run.code).toBe(2)
      expect(run.stderr.trim()).toBe(`Invalid ${flag}="${value}": expected ${expected}`)
      expect(run.stderr).not.toMatch(STACK_LINE)
      expect(await client.getTransactionCount({ address: idle })).toBe(0)
    })

    it.for([
      ['--fee-bps', '5001', 'an integer from 0 to 5000 (JobMarket.MAX_FEE_BPS)'],
      ['--unbonding-delay', (2n ** 64n).toString(), 'an integer from 0 to 2^64-1'],
    ] as const)(
      'names %s="%s" when it is out of range on chain, and sends no transaction',
      async ([flag, value, expected], { expect }) => {
        const run = await deployCli(withChain(flag, value))
        expect(run.code).toBe(2)
        expect(run.stderr.trim()).toBe(`Invalid ${flag}="${value}": expected ${expected}`)
        expect(run.stderr).not.toMatch(STACK_LINE)
        expect(await client.getTransactionCount({ address: idle })).toBe(0)
      },
    )

    it('names --out when its folder cannot be written, before sending a transaction', async ({ expect }) => {
      const out = path.join(dir, 'no-such-folder', 'deployment.json')
      const run = await deployCli(withChain('--out', out))
      expect(run.code).toBe(2)
      expect(run.stderr.trim()).toBe(`Invalid --out="${out}": cannot write to ${path.dirname(out)} (ENOENT)`)
      expect(run.stderr).not.toMatch(STACK_LINE)
      expect(await client.getTransactionCount({ address: idle })).toBe(0)
    })
  })

  it('says in one line that --rpc-url cannot be reached, with exit code 1', async () => {
    const rpcUrl = `http://127.0.0.1:${await freePort()}`
    const run = await deployCli(['--rpc-url', rpcUrl, '--private-key', ANVIL_KEYS[3]])
    expect(run.code).toBe(1)
    expect(run.stderr.trim()).toMatch(new RegExp(`^cannot reach --rpc-url ${rpcUrl}: connect ECONNREFUSED [^\n]+$`))
    expect(run.stderr).not.toMatch(STACK_LINE)
  })

  it('reports a deployment the chain refuses without a stack trace, with exit code 1', async () => {
    const broke = generatePrivateKey()
    const run = await deployCli([
      '--rpc-url',
      anvil.rpcUrl,
      '--private-key',
      broke,
      '--out',
      path.join(dir, 'broke.json'),
    ])
    expect(run.code).toBe(1)
    expect(run.stderr.trim()).toMatch(/^deploy failed: [^\n]*exceeds the balance of the account[^\n]*$/)
    expect(run.stderr).not.toMatch(STACK_LINE)
  })
})

describe('deployAll', () => {
  let anvil: Anvil
  let client: PublicClient
  const privateKey = ANVIL_KEYS[4]
  const deployer = privateKeyToAccount(privateKey).address

  beforeAll(async () => {
    anvil = await startAnvil()
    client = createPublicClient({ transport: http(anvil.rpcUrl) })
  })
  afterAll(async () => {
    await anvil?.stop()
  })

  it.for([
    [
      'feeBps above MAX_FEE_BPS',
      { params: { feeBps: MAX_FEE_BPS + 1 } },
      'Invalid feeBps=5001: expected an integer from 0 to 5000',
    ],
    ['fractional feeBps', { params: { feeBps: 2.5 } }, 'Invalid feeBps=2.5: expected an integer from 0 to 5000'],
    [
      'negative epochDuration',
      { params: { epochDuration: -1n } },
      'Invalid epochDuration=-1: expected an integer from 0 to 2^64-1',
    ],
    ['malformed arbiter', { arbiter: '0x12' as Address }, 'Invalid arbiter="0x12": expected a 20-byte hex address'],
  ] as const)('rejects a %s before sending a transaction', async ([, args, message]) => {
    await expect(deployAll({ rpcUrl: anvil.rpcUrl, privateKey, ...args })).rejects.toThrow(message)
    expect(await client.getTransactionCount({ address: deployer })).toBe(0)
  })

  it('deploys with feeBps at JobMarket.MAX_FEE_BPS, the bound it checks', async () => {
    const deployment = await deployAll({ rpcUrl: anvil.rpcUrl, privateKey, params: { feeBps: MAX_FEE_BPS } })
    const { address } = deployment.contracts.JobMarket
    expect(await client.readContract({ address, abi: jobMarketAbi, functionName: 'MAX_FEE_BPS' })).toBe(MAX_FEE_BPS)
    expect(await client.readContract({ address, abi: jobMarketAbi, functionName: 'feeBps' })).toBe(MAX_FEE_BPS)
  })
})
