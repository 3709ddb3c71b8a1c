import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { type Address, createPublicClient, http, type PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeTokenAbi, jobMarketAbi, providerStakingAbi, rewardPoolAbi } from '../generated/abis'
import { ANVIL_KEYS, type Anvil, startAnvil } from '../src/anvil'
import { ARBITER_ROLE, type Deployment, DISPATCHER_ROLE, readDeployment, SLASHER_ROLE } from '../src/deploy'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const cli = path.join(repoRoot, 'contracts/src/deploy.cli.ts')

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

  // Each case is a node process that exits before touching a chain, so they run side by side.
  describe.concurrent('rejects bad arguments with exit code 2', () => {
    it.for([
      ['--rpc-url', ['--private-key', ANVIL_KEYS[0]]],
      ['--private-key', ['--rpc-url', 'http://127.0.0.1:1']],
    ] as const)('prints the usage when %s is missing', async ([, args], { expect }) => {
      const run = await deployCli([...args])
      expect(run.code).toBe(2)
      expect(run.stderr).toMatch(/^usage: .* --rpc-url URL --private-key 0x/)
    })

    it('names --private-key when it is not 32 bytes of hex', async ({ expect }) => {
      const run = await deployCli(['--rpc-url', 'http://127.0.0.1:1', '--private-key', '0x1234'])
      expect(run.code).toBe(2)
      expect(run.stderr.trim()).toBe('Invalid --private-key: expected 0x followed by 64 hex digits')
    })

    it.for(['min-stake', 'unbonding-delay', 'fee-bps', 'dispute-window', 'epoch-duration'])(
      'names --%s and the value when it is not a non-negative integer',
      async (flag, { expect }) => {
        const run = await deployCli([
          '--rpc-url',
          'http://127.0.0.1:1',
          '--private-key',
          ANVIL_KEYS[0],
          `--${flag}`,
          '1.5',
        ])
        expect(run.code).toBe(2)
        expect(run.stderr.trim()).toBe(`Invalid --${flag}="1.5": expected a non-negative integer`)
      },
    )
  })
})
