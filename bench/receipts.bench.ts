// Receipts verified per second on one core (DESIGN's target: at least 5,000). Bundles come from the worker's own
// inference and signing code; each row runs one way of verifying them in a loop on this thread for BENCH_SECONDS
// (default 3), after a warm-up. No database: lookups are what the gateway's repositories add (one indexed query each).
// `npm run bench -- receipts`
import os from 'node:os'
import { ANVIL_KEYS } from '@computegraph/contracts/anvil'
import { computeReceiptTypes, receiptDomain } from '@computegraph/contracts/receipts'
import { hashTypedData, recoverTypedDataAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import {
  parseReceiptBundleText,
  type ReceiptBundle,
  receiptBundleToJson,
} from '../apps/gateway/src/compute/verification/receipt-bundle'
import {
  RECOVERY_BACKEND,
  receiptDigest,
  recoverDigestSigner,
} from '../apps/gateway/src/compute/verification/receipt-crypto'
import { startEngine, TestWorker } from '../apps/gateway/src/compute/verification/testing/worker-receipts'
import { verifyReceiptBundle } from '../apps/gateway/src/compute/verification/verify-receipt'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const BUNDLES = 256

const domain = receiptDomain({ chainId: 31337, jobMarket: '0x5FbDB2315678afecb367f032d93F642f64180aa3' })
const { engine, model } = await startEngine()
const worker = new TestWorker(privateKeyToAccount(ANVIL_KEYS[1]), engine, model, { clock: 1_780_000_000n })
const requester = privateKeyToAccount(ANVIL_KEYS[5]).address
const bundles: ReceiptBundle[] = []
for (let i = 0; i < BUNDLES; i++) bundles.push(await worker.infer({ domain, requester, seed: i, rows: 4 }))
await engine.close()
const texts = bundles.map((b) => JSON.stringify(receiptBundleToJson(b)))
const now = 1_780_000_060n

/** Runs `verify` over the bundles round-robin for SECONDS; fails loudly if a genuine receipt does not verify. */
async function rate(verify: (i: number) => Promise<boolean>) {
  for (let i = 0; i < 200; i++) if (!(await verify(i % BUNDLES))) throw new Error(`bundle ${i} did not verify`)
  let count = 0
  const cpu = process.cpuUsage()
  const started = performance.now()
  const until = started + SECONDS * 1000
  while (performance.now() < until) {
    for (let k = 0; k < 50; k++) {
      if (!(await verify(count % BUNDLES))) throw new Error(`bundle ${count % BUNDLES} did not verify`)
      count++
    }
  }
  const used = process.cpuUsage(cpu)
  return {
    count,
    perWallSecond: count / ((performance.now() - started) / 1000),
    // Per second of this process's CPU time: what one core does, even while other work shares the machine.
    perCpuSecond: count / ((used.user + used.system) / 1e6),
  }
}

const rows: [string, (i: number) => Promise<boolean>][] = [
  [
    'viem generic: hashTypedData + recoverTypedDataAddress (baseline)',
    async (i) => {
      const b = bundles[i] as ReceiptBundle
      hashTypedData({ domain, types: computeReceiptTypes, primaryType: 'ComputeReceipt', message: b.receipt })
      const signer = await recoverTypedDataAddress({
        domain,
        types: computeReceiptTypes,
        primaryType: 'ComputeReceipt',
        message: b.receipt,
        signature: b.signature,
      })
      return signer === b.receipt.worker
    },
  ],
  ['EIP-712 digest only', async (i) => receiptDigest(bundles[i] as ReceiptBundle).length === 66],
  [
    'EIP-712 digest + signer recovery',
    async (i) => {
      const b = bundles[i] as ReceiptBundle
      const r = await recoverDigestSigner({ digest: receiptDigest(b), signature: b.signature })
      return r.ok && r.signer === b.receipt.worker
    },
  ],
  [
    'verifyReceiptBundle: request + output hashes, digest, signature, domain, expiry',
    async (i) => {
      const bundle = bundles[i] as ReceiptBundle
      const report = await verifyReceiptBundle({
        bundle,
        now,
        expected: { chainId: 31337, verifyingContract: domain.verifyingContract },
      })
      return report.valid
    },
  ],
  [
    'the same from the bundle JSON text (parse + verify)',
    async (i) => {
      const bundle = parseReceiptBundleText(texts[i] as string)
      const report = await verifyReceiptBundle({
        bundle,
        now,
        expected: { chainId: 31337, verifyingContract: domain.verifyingContract },
      })
      return report.valid
    },
  ],
]

console.log(`${BUNDLES} bundles (4-row inference requests of ${model.entry.name}), ${SECONDS} s per row, one thread\n`)
const n = (x: number) => Math.round(x).toLocaleString('en-US')
console.log(
  `recovery: ${RECOVERY_BACKEND}; load average at start ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores\n`,
)
console.log('| verification | receipts | per wall second | per CPU second (one core) |')
console.log('| --- | ---: | ---: | ---: |')
for (const [name, verify] of rows) {
  const { count, perWallSecond, perCpuSecond } = await rate(verify)
  console.log(`| ${name} | ${count} | ${n(perWallSecond)} | ${n(perCpuSecond)} |`)
}
