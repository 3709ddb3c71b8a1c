import { describe, expect, it } from 'vitest'
import { GraphqlError } from '../api'
import type { JobRow } from '../queries'
import { ReceiptVerifier } from './jobs'

const job = (id: string, digest: string | null): JobRow => ({
  id,
  status: digest ? 'COMPLETED' : 'OPEN',
  kind: 'INFERENCE',
  payment: '1000000000000000000',
  createdAt: '1700000000',
  completedAt: digest ? '1700000100' : null,
  receiptDigest: digest,
  outputHash: null,
  client: { id: '0xc1' },
  provider: digest ? { id: '0xp1' } : null,
  model: { id: '0xm1', uri: 'ipfs://m' },
})

/** A stand-in for /graphql that answers by the first root field of each document and records what was asked. */
function gateway(answer: (query: string, variables: Record<string, unknown>) => unknown) {
  const asked: { query: string; variables: Record<string, unknown> }[] = []
  const request = async <T>(query: string, variables: Record<string, unknown> = {}) => {
    asked.push({ query, variables })
    return answer(query, variables) as T
  }
  return { asked, request }
}

describe('receipt verification in the jobs table', () => {
  it('says verification is unavailable when the gateway has no receipt query, and stops asking', async () => {
    const g = gateway(() => {
      throw new GraphqlError('Cannot query field "receipt" on type "Query".', ['GRAPHQL_VALIDATION_FAILED'])
    })
    const verifier = new ReceiptVerifier(() => {}, g.request)
    await verifier.check([job('1', '0xaa')])
    expect(verifier.verdict('0xaa')).toEqual({ kind: 'unavailable' })
    await verifier.check([job('2', '0xbb')])
    expect(g.asked).toHaveLength(1)
  })

  it('verifies held bundles as of when the gateway attested them (wall clock), and marks receipts only JobMarket checked', async () => {
    // completedAt (a block timestamp) is hours away from the receipt's wall-clock times on a dev chain: not used.
    const bundle = '{"receipt":{"issuedAt":"1690000000"},"attestation":{"attestation":{"attestedAt":"1690000001"}}}'
    const g = gateway((query, variables) => {
      if (query.includes('receipt(digest')) return { r0: bundle, r1: null }
      expect(variables).toEqual({ b0: bundle, t0: '1690000001' })
      return {
        v0: {
          valid: true,
          signer: '0xp1',
          verification: 'REEXECUTED_MATCH',
          attester: { address: '0xg1', trusted: true },
          checks: [],
        },
      }
    })
    const verifier = new ReceiptVerifier(() => {}, g.request)
    await verifier.check([job('1', '0xaa'), job('2', '0xbb'), job('3', null)])
    expect(verifier.verdict('0xaa')).toEqual({ kind: 'valid', mode: 'REEXECUTED_MATCH', attester: '0xg1' })
    expect(verifier.verdict('0xbb')).toEqual({ kind: 'on-chain' })
    expect(g.asked[0]?.variables).toEqual({ d0: '0xaa', d1: '0xbb' })
  })

  it('names the failed checks of a receipt that does not verify', async () => {
    const g = gateway((query) =>
      query.includes('receipt(digest')
        ? { r0: '{}' }
        : {
            v0: {
              valid: false,
              signer: null,
              verification: null,
              checks: [
                { name: 'signature', status: 'FAIL', reason: 'recovers 0x9 instead of the worker' },
                { name: 'expiry', status: 'PASS', reason: 'ok' },
              ],
            },
          },
    )
    const verifier = new ReceiptVerifier(() => {}, g.request)
    await verifier.check([job('1', '0xaa')])
    expect(verifier.verdict('0xaa')).toEqual({
      kind: 'invalid',
      failed: ['signature: recovers 0x9 instead of the worker'],
    })
  })

  it('checks each receipt once, and after a failed request not again on every redraw', async () => {
    let fail = true
    const g = gateway(() => {
      if (fail) throw new GraphqlError('rate limited', ['RATE_LIMITED'])
      return { r0: null }
    })
    const verifier = new ReceiptVerifier(() => {}, g.request)
    await verifier.check([job('1', '0xaa')])
    expect(verifier.verdict('0xaa').kind).toBe('error')
    fail = false
    await verifier.check([job('1', '0xaa')])
    expect(g.asked).toHaveLength(1)
  })
})
