// `npm run verify-receipt -w @computegraph/gateway -- <bundle.json | -> [--json] [--rpc-url URL] [--deployment FILE]
// [--at SECONDS] [--trust-gateway ADDRESS]… [--require-attestation]`: verifies a receipt bundle offline. Exit 0 valid, 1 invalid, 2 usage or configuration problem.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { type Deployment, readDeployment } from '@computegraph/contracts/deploy'
import { getAddress, isAddress } from 'viem'
import { ConfigError, loadConfig } from '../../config/config'
import { type Database, openDatabase } from '../../db/database'
import { CHAIN_SOURCE, ChainMismatchError, chainLookups } from './chain-lookups'
import { IndexedStateRepository } from './indexed-state.repository'
import { ReceiptRepository } from './receipt.repository'
import { parseReceiptBundleText, ReceiptBundleError } from './receipt-bundle'
import { indexedLookups, nowSeconds, trustedGateways } from './verification.service'
import { type ReceiptVerification, type VerificationLookups, verifyReceiptBundle } from './verify-receipt'

const USAGE = `usage: verify-receipt <bundle.json | -> [options]

Verifies a receipt bundle: hashes, signature, domain, expiry, replay, the on-chain job, the gateway's attestation
(and whether that gateway is trusted) with its evidence, and the signer's stake at the block a trusted attestation
names (else at the newest block). Exit 0 valid, 1 invalid, 2 usage or configuration error.

  --deployment FILE        the deployment the receipt must be bound to (or DEPLOYMENT_FILE); its dispatcher and
                           arbiter are the gateways whose attestations are trusted
  --rpc-url URL            read the signer's stake from the chain, without a gateway database
  --at SECONDS             give the verdict as of this unix time (wall clock) instead of now
  --trust-gateway ADDRESS  also trust attestations by this gateway key (repeatable)
  --require-attestation    a bundle without a gateway attestation is invalid
  --json                   print the report as JSON

Without --rpc-url it reads the gateway's indexed state: DATABASE_URL (Postgres), or the PGlite database in
DATA_DIR (default .data).`

/** A problem with how the command was called or configured: one line, exit 2. */
class UsageError extends Error {
  override name = 'UsageError'
}

function options() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        'rpc-url': { type: 'string' },
        deployment: { type: 'string' },
        at: { type: 'string' },
        'trust-gateway': { type: 'string', multiple: true, default: [] },
        'require-attestation': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

async function readBundleText(source: string): Promise<string> {
  if (source === '-') {
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  }
  return readFile(source, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${path.resolve(source)}: ${error.code ?? error.message}`)
  })
}

function formatReport(report: ReceiptVerification, notes: string[]): string {
  const width = Math.max(...report.checks.map((c) => c.name.length))
  const failed = report.checks.filter((c) => c.status === 'fail').map((c) => c.name)
  return [
    `receipt ${report.digest}`,
    `signer  ${report.signer ?? '(none recovers)'}${report.verification ? `, attested ${report.verification}` : ''}`,
    ...(report.attester
      ? [`gateway ${report.attester.address} (${report.attester.trusted ? 'trusted' : 'not trusted'})`]
      : []),
    ...notes.map((n) => `note    ${n}`),
    ...report.checks.map(
      (c) => `${{ pass: 'PASS', fail: 'FAIL', skipped: 'SKIP' }[c.status]}  ${c.name.padEnd(width)}  ${c.reason}`,
    ),
    report.valid
      ? 'VALID'
      : `INVALID: ${failed.length} check${failed.length === 1 ? '' : 's'} failed (${failed.join(', ')})`,
  ].join('\n')
}

async function main(): Promise<number> {
  const { values, positionals } = options()
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  if (positionals.length !== 1) {
    throw new UsageError(`expected one bundle file (or - for stdin), got ${positionals.length}; --help for usage`)
  }
  let at: bigint | undefined
  if (values.at !== undefined) {
    if (!/^[0-9]{1,19}$/.test(values.at)) throw new UsageError(`--at must be unix seconds, got "${values.at}"`)
    at = BigInt(values.at)
  }
  const trust = values['trust-gateway'].map((a) => {
    if (!isAddress(a, { strict: false })) throw new UsageError(`--trust-gateway must be an address, got "${a}"`)
    return getAddress(a)
  })
  const config = loadConfig()
  const deploymentFile = values.deployment ? path.resolve(values.deployment) : config.indexer.deploymentFile
  if (!deploymentFile) {
    throw new UsageError(
      'a deployment file is required (--deployment or DEPLOYMENT_FILE): it names the chain and JobMarket receipts are bound to',
    )
  }
  const deployment: Deployment = await readDeployment(deploymentFile).catch((error: Error) => {
    throw new UsageError(error.message)
  })
  const rpcUrl = values['rpc-url']
  if (rpcUrl && config.databaseUrl) {
    throw new UsageError('give either DATABASE_URL (the indexed state) or --rpc-url (the chain), not both')
  }
  const text = await readBundleText(positionals[0] as string)
  const bundle = (() => {
    try {
      return parseReceiptBundleText(text)
    } catch (error) {
      if (error instanceof ReceiptBundleError) throw new UsageError(error.message)
      throw error
    }
  })()

  const notes: string[] = []
  let lookups: VerificationLookups
  let database: Database | undefined
  if (rpcUrl) {
    if (!/^https?:\/\//.test(rpcUrl)) throw new UsageError(`--rpc-url must be an http(s) URL, got "${rpcUrl}"`)
    lookups = await chainLookups({ rpcUrl, deployment }).catch((error: Error) => {
      if (error instanceof ChainMismatchError) throw new UsageError(error.message)
      throw new UsageError(`cannot reach --rpc-url ${rpcUrl}: ${error.message.split('\n')[0]}`)
    })
    notes.push(`stake read from ${CHAIN_SOURCE}; replay and job checks need the indexed state`)
  } else {
    if (!config.databaseUrl && !existsSync(path.join(config.dataDir, 'pglite'))) {
      throw new UsageError(
        `no indexed state: set DATABASE_URL, or DATA_DIR to a gateway's data folder (${config.dataDir} holds none), or pass --rpc-url`,
      )
    }
    database = await openIndexedState({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
    lookups = indexedLookups({
      chainId: deployment.chainId,
      state: new IndexedStateRepository(database),
      receipts: new ReceiptRepository(database),
    })
    notes.push(
      `stake, replay and jobs read from the indexed state in ${config.databaseUrl ? 'Postgres' : config.dataDir}`,
    )
  }
  try {
    const report = await verifyReceiptBundle({
      bundle,
      now: at ?? nowSeconds(),
      expected: { chainId: deployment.chainId, verifyingContract: deployment.contracts.JobMarket.address },
      lookups,
      trustedGateways: trustedGateways({ deployment, extra: trust }),
      requireAttestation: values['require-attestation'],
    })
    console.log(values.json ? JSON.stringify({ ...report, notes }, null, 2) : formatReport(report, notes))
    return report.valid ? 0 : 1
  } finally {
    await database?.close()
  }
}

/** Opens the gateway's database; a PGlite folder a running gateway holds is refused at once rather than waited for. */
async function openIndexedState({ databaseUrl, dataDir }: { databaseUrl?: string; dataDir: string }) {
  const busy = new AbortController()
  try {
    return await openDatabase({ databaseUrl, dataDir, poolSize: 2, signal: busy.signal, onWait: () => busy.abort() })
  } catch (error) {
    if (busy.signal.aborted) {
      throw new UsageError(
        `the PGlite database in ${dataDir} is held by a running gateway: ask its GraphQL verifyReceipt, or stop it first`,
      )
    }
    throw error
  }
}

try {
  process.exitCode = await main()
} catch (error) {
  // One line that says what was wrong; a stack trace only for errors we did not expect. Never exit 1 here: that
  // code means "the receipt is invalid", and a script must not mistake a broken database for a verdict.
  const known = error instanceof UsageError || error instanceof ConfigError
  console.error(`verify-receipt: ${known ? (error as Error).message : `fatal: ${(error as Error).stack}`}`)
  process.exitCode = 2
}
