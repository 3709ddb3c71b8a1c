import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { writeDeployment } from '@computegraph/contracts/deploy'
import { actions, advanceTime, type LocalNetwork, reads, startLocalNetwork } from '@computegraph/contracts/fixture'
import { hashReceipt, receiptDomain } from '@computegraph/contracts/receipts'
import type { InferenceEngine, LoadedModel } from '@computegraph/gpu-worker'
import { hashInferenceRequest } from '@computegraph/gpu-worker/canonical-bytes'
import { type Account, keccak256, parseEther, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createScratchDatabase } from '../../db/database'
import { TEST_POSTGRES_URL } from '../../db/testing'
import { startTestGateway, type TestGateway } from '../../graphql/testing/gateway'
import { ReceiptRepository } from './receipt.repository'
import { type ReceiptBundle, receiptBundleToJson } from './receipt-bundle'
import { runVerifyCli } from './testing/verify-cli'
import { attest, resign, startEngine, TestWorker, Verification } from './testing/worker-receipts'
import type { CheckName } from './verify-receipt'

// Receipts made by the worker's own code, signed by accounts staked on anvil with the compiled contracts, verified
// by the real gateway (its indexer following the chain) through GraphQL, and by the CLI as its own process, on
// Postgres and PGlite. The chain's history is laid out so that stake at an attested block differs from stake now,
// and the chain's clock runs hours ahead of the workers' wall clocks (as the demo's does), or behind them.

interface Case {
  name: string
  bundle: ReceiptBundle
  /** The verdict's time; a little after issuedAt unless the case is about time. */
  at: bigint
  failing: CheckName[]
}

const VERIFY = `query Verify($bundle: String!, $at: BigInt, $require: Boolean) {
  verifyReceipt(bundle: $bundle, at: $at, requireAttestation: $require) {
    valid digest signer verification attester { address trusted } checks { name status reason }
  }
}`

let net: LocalNetwork
let engine: InferenceEngine
let model: LoadedModel
let dir: string
let deploymentFile: string
const cases: Case[] = []
/** Two receipts of one worker with the same nonce: a worker that restarted its nonce sequence. */
let reused: { first: ReceiptBundle; twin: ReceiptBundle }
/** One receipt as the gateway disputed it, and as a client might present it without that verdict. */
let disputed: { held: ReceiptBundle; bare: ReceiptBundle; signatureOnly: ReceiptBundle }

const byName = (name: string) => cases.find((c) => c.name === name) as Case
const bundleText = (b: ReceiptBundle) => JSON.stringify(receiptBundleToJson(b))

beforeAll(async () => {
  net = await startLocalNetwork()
  ;({ engine, model } = await startEngine())
  dir = await mkdtemp(path.join(tmpdir(), 'cg-verify-'))
  deploymentFile = path.join(dir, 'deployment.json')
  await writeDeployment(deploymentFile, net.deployment)
  const act = actions(net)
  const [admin, a, b, c, d, stranger, client, e] = net.accounts as Account[]
  const { domain } = net
  const worker = (account: Account, clock: bigint, nonceStart?: bigint) =>
    new TestWorker(account, engine, model, { clock, nonceStart })
  // The workers' wall clock; the chain's runs six hours ahead of it from here on.
  const wall = await act.latestTimestamp()
  await advanceTime(net, 6n * 3_600n)
  const head = () => net.publicClient.getBlockNumber()
  /** The gateway (the deployment's dispatcher) attests a receipt against a block, as the router does. */
  const attested = (bundle: ReceiptBundle, blockNumber: bigint, gateway = admin as Account) =>
    attest({ bundle, gateway, verification: Verification.SIGNATURE_ONLY, blockNumber })

  // A, B, C and E staked 5,000 (minimum 1,000); then C and E unbond 4,500 and B is slashed 4,500; then D joins;
  // after the receipts' times, E tops its stake up again.
  for (const p of [a, b, c, e]) await act.onboardProvider(p as Account, parseEther('5000'))
  const stakedBlock = await head()
  const stakedAt = wall + 500n
  await advanceTime(net, 1_000n)
  await act.requestUnstake(c as Account, parseEther('4500'))
  await act.requestUnstake(e as Account, parseEther('4500'))
  await act.slash(
    admin as Account,
    (b as Account).address,
    parseEther('4500'),
    keccak256(toHex('fault')),
    (admin as Account).address,
  )
  await act.onboardProvider(d as Account, parseEther('5000'))
  const laterBlock = await head()
  const laterAt = wall + 1_500n
  await advanceTime(net, 1_000n)
  await act.mint((e as Account).address, parseEther('4500'))
  await act.approve(e as Account, net.addresses.staking, parseEther('4500'))
  await act.stake(e as Account, parseEther('4500'))
  if (!(await reads(net).isEligible((e as Account).address))) throw new Error('E should be eligible again')

  const requester = (client as Account).address
  const at = (bundle: ReceiptBundle) => bundle.receipt.issuedAt + 10n
  const add = async (name: string, bundle: ReceiptBundle, failing: CheckName[], when = at(bundle)) =>
    cases.push({ name, bundle, at: when, failing })

  const then = (account: Account) => worker(account, stakedAt).infer({ domain, requester })
  const later = (account: Account) => worker(account, laterAt).infer({ domain, requester })
  const aBare = await worker(a as Account, stakedAt).infer({ domain, requester, seed: 1 })
  const aStaked = await attested(aBare, stakedBlock)
  await add('a staked provider', aStaked, [])
  await add(
    'a provider staked then, unbonded below the minimum later',
    await attested(await then(c as Account), stakedBlock),
    [],
  )
  await add('a provider after unbonding below the minimum', await attested(await later(c as Account), laterBlock), [
    'stake',
  ])
  await add('a provider staked then, slashed later', await attested(await then(b as Account), stakedBlock), [])
  await add('a provider after its slash', await attested(await later(b as Account), laterBlock), ['stake'])
  await add(
    'a provider who registered and staked only after the attested block',
    await attested(await then(d as Account), stakedBlock),
    ['stake'],
  )
  await add('that provider once staked', await attested(await later(d as Account), laterBlock), [])
  await add(
    'a provider below the minimum at the attested block, staked again since',
    await attested(await later(e as Account), laterBlock),
    ['stake'],
  )
  await add('an address never registered', await attested(await later(stranger as Account), laterBlock), ['stake'])
  await add(
    'a receipt issued while the chain’s clock runs hours behind the worker’s',
    await attested(await worker(a as Account, wall + 12n * 3_600n).infer({ domain, requester, seed: 2 }), laterBlock),
    [],
  )
  await add(
    'an attestation by a key the deployment does not trust',
    await attested(aBare, stakedBlock, stranger as Account),
    ['attestation'],
  )
  await add('a receipt without attestation, staked now', aBare, [])
  await add(
    'a price changed after signing',
    { ...aBare, receipt: { ...aBare.receipt, price: aBare.receipt.price * 2n } },
    ['signature'],
  )
  await add('a receipt re-signed by another key', await resign(aBare, stranger as Account), ['signature'])
  await add('an expired receipt', aStaked, ['expiry'], aStaked.receipt.expiresAt + 1n)
  await add('a receipt issued in the future', aBare, ['expiry'], aBare.receipt.issuedAt - 301n)
  const elsewhere = receiptDomain({ chainId: 8453, jobMarket: net.addresses.jobMarket })
  await add(
    'a receipt bound to another chain',
    await worker(a as Account, laterAt).infer({ domain: elsewhere, requester }),
    ['domain'],
  )

  // An on-chain job: created for the request's hash, taken by A, completed with A's receipt.
  await act.registerModel(admin as Account, model.entry.id)
  await act.fundClient(client as Account)
  const jobWorker = worker(a as Account, 0n)
  const inputHash = hashInferenceRequest(jobWorker.request({ seed: 21 }))
  const deadline = (await act.latestTimestamp()) + 86_400n
  await act.createJob(client as Account, { modelId: model.entry.id, inputHash, payment: 3000n, deadline })
  const jobId = await reads(net).jobCount()
  await act.assignJob(a as Account, jobId, (a as Account).address)
  jobWorker.clock = await act.latestTimestamp()
  const paid = await jobWorker.infer({ domain, requester, seed: 21, jobId, price: 3000n })
  await act.submitResult(a as Account, paid.receipt, paid.signature)
  await add('the receipt a job was paid with', paid, [])
  await add(
    'a second receipt for the paid job',
    await jobWorker.infer({ domain, requester, seed: 21, jobId, price: 3000n }),
    ['replay'],
  )

  reused = {
    first: await worker(a as Account, laterAt, 7n).infer({ domain, requester, seed: 31 }),
    twin: await worker(a as Account, laterAt, 7n).infer({ domain, requester, seed: 32 }),
  }
  const contested = await worker(a as Account, laterAt, 900n).infer({ domain, requester, seed: 41 })
  disputed = {
    held: await attest({ bundle: contested, gateway: admin as Account, verification: Verification.DISPUTED }),
    bare: contested,
    signatureOnly: await attested(contested, laterBlock),
  }
  await writeFile(path.join(dir, 'disputed-bare.json'), bundleText(disputed.bare))
  for (const c of cases) await writeFile(path.join(dir, `${cases.indexOf(c)}.json`), bundleText(c.bundle))
}, 120_000)

afterAll(async () => {
  await engine?.close()
  await net?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

type GraphqlReport = {
  valid: boolean
  digest: string
  signer: string | null
  attester: { address: string; trusted: boolean } | null
  checks: { name: string; status: string; reason: string }[]
}

async function verifyByGraphql(gateway: TestGateway, c: Case): Promise<GraphqlReport> {
  const res = await gateway.query<{ verifyReceipt: GraphqlReport }>(VERIFY, {
    bundle: bundleText(c.bundle),
    at: c.at.toString(),
  })
  expect(res.body.errors).toBeUndefined()
  return res.body.data?.verifyReceipt as GraphqlReport
}

const cliArgs = (c: Case) => [
  path.join(dir, `${cases.indexOf(c)}.json`),
  '--json',
  '--deployment',
  deploymentFile,
  '--at',
  c.at.toString(),
]

// One case per outcome of the lookups the CLI builds itself (stake at the attested block, jobs, nonces), of the
// gateway's trust, and a signature failure: the checks without lookups are the same function either way. Each CLI
// run is a process start (about 2 s of CPU here), so not all nineteen.
const CLI_CASES = [
  'a staked provider',
  'a provider after unbonding below the minimum',
  'a provider below the minimum at the attested block, staked again since',
  'a receipt issued while the chain’s clock runs hours behind the worker’s',
  'an attestation by a key the deployment does not trust',
  'a price changed after signing',
  'the receipt a job was paid with',
  'a second receipt for the paid job',
]

/** The CLI's verdicts, as the GraphQL API gave them: same checks, statuses and reasons; exit 0 or 1. */
async function expectCliAgrees(env: Record<string, string>, graphql: Map<string, GraphqlReport>, names = CLI_CASES) {
  for (const c of names.map(byName)) {
    const { code, stdout, stderr } = await runVerifyCli({ args: cliArgs(c), env })
    expect(stderr, c.name).toBe('')
    const report = JSON.parse(stdout)
    const expected = graphql.get(c.name) as GraphqlReport
    expect(code, c.name).toBe(expected.valid ? 0 : 1)
    expect({ valid: report.valid, digest: report.digest, checks: report.checks }, c.name).toEqual({
      valid: expected.valid,
      digest: expected.digest,
      checks: expected.checks.map((k) => ({ ...k, status: k.status.toLowerCase() })),
    })
  }
}

describe.each(['postgres', 'pglite'] as const)('receipt verification on %s', (kind) => {
  let gateway: TestGateway
  let env: Record<string, string>
  let dropScratch = async () => {}
  const graphql = new Map<string, GraphqlReport>()

  beforeAll(async () => {
    if (kind === 'postgres') {
      const scratch = await createScratchDatabase(TEST_POSTGRES_URL)
      dropScratch = scratch.drop
      env = { DATABASE_URL: scratch.url }
    } else {
      env = { DATA_DIR: path.join(dir, `data-${kind}`) }
    }
    gateway = await startTestGateway({ kind, net, env })
  }, 120_000)
  afterAll(async () => {
    await gateway?.close()
    await dropScratch()
  })

  it('gives each receipt its verdict, failing exactly the checks its flaw concerns', async () => {
    expect(cases).toHaveLength(19)
    for (const c of cases) {
      const report = await verifyByGraphql(gateway, c)
      graphql.set(c.name, report)
      const failed = report.checks.filter((k) => k.status === 'FAIL').map((k) => k.name)
      expect({ case: c.name, failed, valid: report.valid }).toEqual({
        case: c.name,
        failed: c.failing,
        valid: c.failing.length === 0,
      })
      expect(report.digest).toBe(hashReceipt(c.bundle))
    }
  })

  it('reads the signer’s stake at the block the trusted gateway attested against, naming it', async () => {
    const before = graphql
      .get('a provider who registered and staked only after the attested block')
      ?.checks.find((k) => k.name === 'stake')
    expect(before?.reason).toMatch(
      /^0x[0-9a-fA-F]{40} was not a registered provider at block \d+ of the indexed state, the block gateway 0x[0-9a-fA-F]{40} attested against \(block numbers, not clocks, place the receipt\)$/,
    )
    const unbonded = graphql.get('a provider after unbonding below the minimum')?.checks.find((k) => k.name === 'stake')
    expect(unbonded?.reason).toContain(`had stake ${parseEther('500')}, below the minimum ${parseEther('1000')}`)
    const then = graphql.get('a provider staked then, slashed later')?.checks.find((k) => k.name === 'stake')
    expect(then?.reason).toContain(`had stake ${parseEther('5000')} ≥ minimum ${parseEther('1000')}`)
    expect(then?.reason).toContain('attested against')
    const bare = graphql.get('a receipt without attestation, staked now')?.checks.find((k) => k.name === 'stake')
    expect(bare?.reason).toContain('its newest: no attestation names the block')
  })

  it('says which gateway attested and whether the deployment trusts it', async () => {
    const trusted = graphql.get('a staked provider') as GraphqlReport
    expect(trusted.attester).toEqual({ address: net.deployment.dispatcher, trusted: true })
    expect(trusted.checks.find((k) => k.name === 'attestation')?.reason).toMatch(
      new RegExp(
        `^gateway ${net.deployment.dispatcher}, trusted as the deployment’s dispatcher, attests SIGNATURE_ONLY`,
      ),
    )
    const stranger = graphql.get('an attestation by a key the deployment does not trust') as GraphqlReport
    const address = stranger.attester?.address as string
    expect(stranger.attester).toEqual({ address, trusted: false })
    expect(stranger.checks.find((k) => k.name === 'attestation')?.reason).toMatch(
      new RegExp(`^attested by ${address}, which is not a gateway this verifier trusts`),
    )
  })

  it('fails a bundle without an attestation when asked to require one', async () => {
    const c = byName('a receipt without attestation, staked now')
    const res = await gateway.query<{ verifyReceipt: GraphqlReport }>(VERIFY, {
      bundle: bundleText(c.bundle),
      at: c.at.toString(),
      require: true,
    })
    const report = res.body.data?.verifyReceipt as GraphqlReport
    expect(report.valid).toBe(false)
    expect(report.checks.filter((k) => k.status === 'FAIL').map((k) => k.name)).toEqual(['attestation'])
    // The chain as the CLI's source: a PGlite folder stays held by the running gateway.
    const cli = await runVerifyCli({ args: [...cliArgs(c), '--require-attestation', '--rpc-url', net.anvil.rpcUrl] })
    expect(cli.code).toBe(1)
    const checks = JSON.parse(cli.stdout).checks as { name: string; status: string; reason: string }[]
    expect(checks.find((k) => k.name === 'attestation')).toEqual({
      ...report.checks.find((k) => k.name === 'attestation'),
      status: 'fail',
    })
    expect(checks.filter((k) => k.status === 'fail').map((k) => k.name)).toEqual(['attestation'])
  })

  it('matches an on-chain receipt against its indexed job, and refuses another receipt for a paid job', async () => {
    const paid = graphql.get('the receipt a job was paid with')
    expect(paid?.checks.find((k) => k.name === 'job')).toMatchObject({
      status: 'PASS',
      reason: expect.stringMatching(/^matches job \d+, COMPLETED$/),
    })
    expect(paid?.checks.find((k) => k.name === 'replay')?.reason).toMatch(/job \d+ was paid on-chain for this receipt/)
    const second = graphql.get('a second receipt for the paid job')?.checks.find((k) => k.name === 'replay')
    expect(second?.reason).toContain(
      `was completed on-chain with receipt ${hashReceipt(byName('the receipt a job was paid with').bundle)}, not this one`,
    )
  })

  it('records receipts once per digest and per (worker, nonce), and serves them back by digest', async () => {
    const store = gateway.app.get(ReceiptRepository)
    const first = hashReceipt(reused.first)
    await expect(store.record(reused.first)).resolves.toEqual({ status: 'recorded', digest: first })
    await expect(store.record(reused.first)).resolves.toEqual({ status: 'duplicate', digest: first })
    await expect(store.record(reused.twin)).resolves.toEqual({
      status: 'nonce-reused-with-different-digest',
      digest: hashReceipt(reused.twin),
      existingDigest: first,
    })
    const served = await gateway.query<{ receipt: string | null }>('query($d: Bytes!) { receipt(digest: $d) }', {
      d: first,
    })
    expect(JSON.parse(served.body.data?.receipt as string)).toEqual(receiptBundleToJson(reused.first))
    const none = await gateway.query('query($d: Bytes!) { receipt(digest: $d) }', { d: keccak256(toHex('never')) })
    expect(none.body).toEqual({ data: { receipt: null } })
  })

  it('rejects a receipt whose worker nonce the store already holds under another digest', async () => {
    const twin: Case = {
      name: 'twin',
      bundle: reused.twin,
      at: reused.twin.receipt.issuedAt + 10n,
      failing: ['replay'],
    }
    const report = await verifyByGraphql(gateway, twin)
    expect(report.checks.find((k) => k.name === 'replay')).toEqual({
      name: 'replay',
      status: 'FAIL',
      reason: `nonce 7 of worker ${reused.twin.receipt.worker} was already used by receipt ${hashReceipt(reused.first)}`,
    })
    const original = await verifyByGraphql(gateway, { ...twin, bundle: reused.first })
    expect(original.checks.find((k) => k.name === 'replay')?.reason).toBe(
      `this receipt is the one recorded for nonce 7 of worker ${reused.first.receipt.worker}`,
    )
  })

  it('fails a receipt presented without the DISPUTED attestation the gateway holds for it', async () => {
    await gateway.app.get(ReceiptRepository).record(disputed.held)
    const verdict = async (bundle: ReceiptBundle) => {
      const c: Case = { name: 'disputed', bundle, at: bundle.receipt.issuedAt + 10n, failing: [] }
      const report = await verifyByGraphql(gateway, c)
      return { failed: report.checks.filter((k) => k.status === 'FAIL').map((k) => k.name), report }
    }
    const bare = await verdict(disputed.bare)
    expect(bare.failed).toEqual(['attestation'])
    expect(bare.report.checks.find((k) => k.name === 'attestation')?.reason).toBe(
      'the gateway’s receipt store holds a DISPUTED attestation for this receipt; the bundle leaves it out',
    )
    const replaced = await verdict(disputed.signatureOnly)
    expect(replaced.failed).toEqual(['attestation'])
    expect(replaced.report.checks.find((k) => k.name === 'attestation')?.reason).toContain('presents SIGNATURE_ONLY')
    if (kind === 'postgres') {
      const cli = await runVerifyCli({
        args: [
          path.join(dir, 'disputed-bare.json'),
          '--json',
          '--deployment',
          deploymentFile,
          '--at',
          (disputed.bare.receipt.issuedAt + 10n).toString(),
        ],
        env,
      })
      expect(cli.code).toBe(1)
      expect(JSON.parse(cli.stdout).checks).toEqual(
        bare.report.checks.map((k) => ({ ...k, status: k.status.toLowerCase() })),
      )
    }
  })

  it('answers a malformed bundle with BAD_USER_INPUT naming the field', async () => {
    const json = receiptBundleToJson(byName('a staked provider').bundle)
    const broken = { ...json, receipt: { ...json.receipt, expiresAt: 'soon' } }
    const res = await gateway.query(VERIFY, { bundle: JSON.stringify(broken) })
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        message: 'bundle.receipt.expiresAt must be a decimal string of an unsigned integer, got "soon"',
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ])
    const notJson = await gateway.query(VERIFY, { bundle: '{"version":1' })
    expect(notJson.body.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: expect.stringMatching(/^bundle is not valid JSON: /),
    })
  })

  if (kind === 'postgres') {
    it('gives the same verdicts through the CLI, reading the same database', async () => {
      await expectCliAgrees(env, graphql)
    }, 180_000)
  } else {
    it('refuses at once, in one line, a PGlite folder the running gateway holds', async () => {
      const c = byName('a staked provider')
      const { code, stderr } = await runVerifyCli({ args: cliArgs(c), env })
      expect(code).toBe(2)
      expect(stderr.trim()).toBe(
        `verify-receipt: the PGlite database in ${env.DATA_DIR} is held by a running gateway: ask its GraphQL verifyReceipt, or stop it first`,
      )
    })

    it('gives the same verdicts through the CLI, from the PGlite folder, once the gateway has stopped', async () => {
      await gateway.close()
      gateway = undefined as never
      // Postgres runs every CLI case; here, one per outcome of the indexed lookups (stake, jobs, nonces).
      await expectCliAgrees(env, graphql, [
        'a staked provider',
        'a provider after unbonding below the minimum',
        'a second receipt for the paid job',
      ])
    }, 180_000)
  }
})

describe('the verify-receipt CLI', () => {
  it('reads stake from the chain at the attested block with --rpc-url, with the verdicts the indexed state gives', async () => {
    const run = (c: Case) => runVerifyCli({ args: [...cliArgs(c), '--rpc-url', net.anvil.rpcUrl] })
    const verdicts: Record<string, string[]> = {}
    for (const name of [
      'a staked provider',
      'a provider staked then, unbonded below the minimum later',
      'a receipt issued while the chain’s clock runs hours behind the worker’s',
      'a provider who registered and staked only after the attested block',
      'an attestation by a key the deployment does not trust',
    ]) {
      const { code, stdout, stderr } = await run(byName(name))
      expect(stderr, name).toBe('')
      const report = JSON.parse(stdout) as { valid: boolean; checks: { name: string; status: string }[] }
      expect(code, name).toBe(report.valid ? 0 : 1)
      verdicts[name] = report.checks.filter((k) => k.status === 'fail').map((k) => k.name)
    }
    expect(verdicts).toEqual({
      'a staked provider': [],
      'a provider staked then, unbonded below the minimum later': [],
      'a receipt issued while the chain’s clock runs hours behind the worker’s': [],
      'a provider who registered and staked only after the attested block': ['stake'],
      'an attestation by a key the deployment does not trust': ['attestation'],
    })
    const text = await runVerifyCli({
      args: [...cliArgs(byName('a staked provider')).filter((a) => a !== '--json'), '--rpc-url', net.anvil.rpcUrl],
    })
    expect(text.stdout).toContain('note    stake read from the chain; replay and job checks need the indexed state')
    expect(text.stdout).toMatch(/gateway +0x[0-9a-fA-F]{40} \(trusted\)/)
    expect(text.stdout).toMatch(
      /PASS {2}stake +0x[0-9a-fA-F]{40} had stake \d+ ≥ minimum \d+ at block \d+ of the chain, the block gateway/,
    )
    expect(text.stdout).toMatch(/SKIP {2}replay +no receipt store or indexed jobs/)
    expect(text.stdout.trim().split('\n').at(-1)).toBe('VALID')
  })

  it('trusts a gateway key it is told to with --trust-gateway', async () => {
    const c = byName('an attestation by a key the deployment does not trust')
    const stranger = c.bundle.attestation?.gateway as string
    const { code, stdout } = await runVerifyCli({
      args: [...cliArgs(c), '--rpc-url', net.anvil.rpcUrl, '--trust-gateway', stranger],
    })
    expect(code).toBe(0)
    expect(JSON.parse(stdout).attester).toEqual({ address: stranger, trusted: true })
  })

  it('reads the bundle from stdin with -', async () => {
    const c = byName('a price changed after signing')
    const { code, stdout } = await runVerifyCli({
      args: ['-', '--deployment', deploymentFile, '--rpc-url', net.anvil.rpcUrl, '--at', c.at.toString()],
      stdin: bundleText(c.bundle),
    })
    expect(code).toBe(1)
    expect(stdout).toContain('INVALID: 1 check failed (signature)')
  })

  it.each([
    [
      'no bundle is named',
      [],
      {},
      'verify-receipt: expected one bundle file (or - for stdin), got 0; --help for usage',
    ],
    [
      'the bundle file is missing',
      ['nope.json', '--rpc-url', 'http://127.0.0.1:1'],
      {},
      /^verify-receipt: cannot read .*nope\.json: ENOENT$/,
    ],
    [
      '--at is not unix seconds',
      ['x.json', '--at', 'noon'],
      {},
      'verify-receipt: --at must be unix seconds, got "noon"',
    ],
    [
      'both a database and --rpc-url are given',
      ['x.json', '--rpc-url', 'http://127.0.0.1:1'],
      { DATABASE_URL: TEST_POSTGRES_URL },
      'verify-receipt: give either DATABASE_URL (the indexed state) or --rpc-url (the chain), not both',
    ],
    [
      'DATABASE_URL is malformed',
      ['x.json'],
      { DATABASE_URL: 'mysql://x' },
      'verify-receipt: Invalid DATABASE_URL="mysql://x": expected an postgres or postgresql URL',
    ],
  ])('exits 2 with one line when %s', async (_what, args, env, message) => {
    const { code, stdout, stderr } = await runVerifyCli({
      args: [...args, '--deployment', deploymentFile],
      env: env as Record<string, string>,
    })
    expect(code).toBe(2)
    expect(stdout).toBe('')
    if (typeof message === 'string') expect(stderr.trim()).toBe(message)
    else expect(stderr.trim()).toMatch(message)
  })

  it('exits 2 naming the field of a malformed bundle, and when there is no state to check stake against', async () => {
    const bad = path.join(dir, 'bad.json')
    await writeFile(
      bad,
      JSON.stringify({ ...receiptBundleToJson(byName('a staked provider').bundle), signature: '0x1234' }),
    )
    const malformed = await runVerifyCli({ args: [bad, '--deployment', deploymentFile, '--rpc-url', net.anvil.rpcUrl] })
    expect(malformed).toMatchObject({ code: 2, stdout: '' })
    expect(malformed.stderr.trim()).toBe(
      'verify-receipt: bundle.signature must be a 0x-prefixed 65-byte hex signature, got "0x1234"',
    )
    const empty = path.join(dir, 'empty-data')
    const good = path.join(dir, '0.json')
    const nothing = await runVerifyCli({ args: [good, '--deployment', deploymentFile], env: { DATA_DIR: empty } })
    expect(nothing).toMatchObject({ code: 2, stdout: '' })
    expect(nothing.stderr.trim()).toBe(
      `verify-receipt: no indexed state: set DATABASE_URL, or DATA_DIR to a gateway's data folder (${empty} holds none), or pass --rpc-url`,
    )
  })
})
