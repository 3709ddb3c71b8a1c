import { GraphqlError, type Request } from './graphql-error'
import { type JobRow, type ReceiptVerification, STORED_RECEIPT, VERIFY_RECEIPTS } from './queries'

/** Rows of the jobs table, and so the most receipts checked at once. */
export const RECENT_JOB_COUNT = 20

/** What the page knows about a completed job's receipt. */
export type Verdict =
  | { kind: 'pending' }
  /** The gateway serves no verifyReceipt query (an older gateway, or the module is off). */
  | { kind: 'unavailable' }
  /** JobMarket checked the receipt's signature when it paid; this gateway holds no bundle to check again. */
  | { kind: 'on-chain' }
  | { kind: 'valid'; mode: string | null; attester: string | null }
  | { kind: 'invalid'; failed: string[] }
  | { kind: 'error'; message: string; at: number }

// A failed check (gateway busy, rate limited) is asked again after this long, not on every redraw.
const RETRY_AFTER_MS = 30_000

/**
 * Checks receipts of completed jobs with the gateway's `receipt` and `verifyReceipt` queries, batched by alias,
 * each digest once. Whether the gateway has them is learnt from the first answer, not assumed.
 */
export class ReceiptVerifier {
  private supported: boolean | undefined
  private readonly verdicts = new Map<string, Verdict>()
  private running = false

  constructor(
    private readonly onChange: () => void,
    private readonly request: Request,
  ) {}

  verdict(digest: string): Verdict {
    if (this.supported === false) return { kind: 'unavailable' }
    return this.verdicts.get(digest) ?? { kind: 'pending' }
  }

  async check(jobs: JobRow[]) {
    if (this.running || this.supported === false) return
    const due = (digest: string) => {
      const v = this.verdicts.get(digest)
      return !v || (v.kind === 'error' && Date.now() - v.at > RETRY_AFTER_MS)
    }
    const todo = jobs.filter((j) => j.receiptDigest && due(j.receiptDigest))
    if (todo.length === 0) return
    this.running = true
    try {
      await this.run(todo.slice(0, RECENT_JOB_COUNT))
    } finally {
      this.running = false
      this.onChange()
    }
  }

  private async run(jobs: JobRow[]) {
    const digests = jobs.map((j) => j.receiptDigest as string)
    let stored: Record<string, string | null>
    try {
      stored = await this.request<Record<string, string | null>>(
        STORED_RECEIPT(digests.length),
        Object.fromEntries(digests.map((d, i) => [`d${i}`, d])),
      )
    } catch (error) {
      if (error instanceof GraphqlError && error.missingField('receipt')) {
        this.supported = false
        return
      }
      for (const d of digests)
        this.verdicts.set(d, { kind: 'error', message: (error as Error).message, at: Date.now() })
      return
    }
    this.supported = true
    const held = jobs.flatMap((job, i) => {
      const bundle = stored[`r${i}`]
      if (!bundle) this.verdicts.set(digests[i] as string, { kind: 'on-chain' })
      return bundle ? [{ job, bundle }] : []
    })
    if (held.length === 0) return
    const variables: Record<string, unknown> = {}
    held.forEach(({ bundle }, i) => {
      variables[`b${i}`] = bundle
      variables[`t${i}`] = handedOutAt(bundle)
    })
    try {
      const result = await this.request<Record<string, ReceiptVerification>>(VERIFY_RECEIPTS(held.length), variables)
      held.forEach(({ job }, i) => {
        const v = result[`v${i}`]
        const digest = job.receiptDigest as string
        if (!v) return
        this.verdicts.set(
          digest,
          v.valid
            ? { kind: 'valid', mode: v.verification, attester: v.attester?.address ?? null }
            : {
                kind: 'invalid',
                failed: v.checks.filter((c) => c.status === 'FAIL').map((c) => `${c.name}: ${c.reason}`),
              },
        )
      })
    } catch (error) {
      for (const { job } of held) {
        this.verdicts.set(job.receiptDigest as string, {
          kind: 'error',
          message: (error as Error).message,
          at: Date.now(),
        })
      }
    }
  }
}

/**
 * When the gateway handed the receipt out: its attestation's time, else the receipt's issuedAt. A receipt valid then
 * stays valid after it expires. Both are wall-clock seconds, the clock of the receipt's expiry; a job's completedAt is
 * a block timestamp, the chain's clock, which may run hours apart from it.
 */
export function handedOutAt(bundle: string): string | null {
  try {
    const b = JSON.parse(bundle) as {
      receipt?: { issuedAt?: unknown }
      attestation?: { attestation?: { attestedAt?: unknown } }
    }
    const at = b.attestation?.attestation?.attestedAt ?? b.receipt?.issuedAt
    return typeof at === 'string' && /^[0-9]{1,19}$/.test(at) ? at : null
  } catch {
    return null
  }
}
