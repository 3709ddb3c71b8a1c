import { concat, encodeAbiParameters, type Hex, keccak256, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { ANVIL_KEYS } from '../src/anvil'
import {
  type Attestation,
  type ComputeReceipt,
  hashAttestation,
  hashReceipt,
  receiptDomain,
  receiptFromJson,
  receiptToJson,
  recoverReceiptSigner,
  signAttestation,
  signReceipt,
  Verification,
  verifyAttestationSignature,
  verifyReceiptSignature,
} from '../src/receipts'

const worker = privateKeyToAccount(ANVIL_KEYS[1])
const gateway = privateKeyToAccount(ANVIL_KEYS[2])
const other = privateKeyToAccount(ANVIL_KEYS[3])

const domain = receiptDomain({ chainId: 31337, jobMarket: '0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9' })

const receipt: ComputeReceipt = {
  requestHash: '0x1111111111111111111111111111111111111111111111111111111111111111',
  outputHash: '0x2222222222222222222222222222222222222222222222222222222222222222',
  modelId: '0x3333333333333333333333333333333333333333333333333333333333333333',
  runtimeId: '0x4444444444444444444444444444444444444444444444444444444444444444',
  requester: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
  worker: worker.address,
  jobId: 42n,
  units: 3n,
  price: 10n ** 19n,
  issuedAt: 1_700_000_000n,
  expiresAt: 1_700_003_600n,
  nonce: 7n,
}

// Pinned: any change to the type, field order or domain changes these and breaks every signed receipt out there.
const GOLDEN_RECEIPT_DIGEST = '0x88becb74565247b9538bcb80577e4ec6a0490ae67255897f5f48367eecb350b2'
const GOLDEN_ATTESTATION_DIGEST = '0x50a91903ccb15e5e7ccd3609bc331be8ac4edf1ceed3050078f43aaf39fac22b'

const attestation: Attestation = {
  receiptDigest: GOLDEN_RECEIPT_DIGEST,
  verification: Verification.REEXECUTED_MATCH,
  evidenceHash: '0x5555555555555555555555555555555555555555555555555555555555555555',
  attestedAt: 1_700_000_100n,
  blockNumber: 1234n,
}

/** Every field changed to some other valid value of its type. */
const tampered: { [K in keyof ComputeReceipt]: ComputeReceipt[K] } = {
  requestHash: '0x1111111111111111111111111111111111111111111111111111111111111110',
  outputHash: '0x2222222222222222222222222222222222222222222222222222222222222220',
  modelId: '0x3333333333333333333333333333333333333333333333333333333333333330',
  runtimeId: '0x4444444444444444444444444444444444444444444444444444444444444440',
  requester: other.address,
  worker: other.address,
  jobId: 43n,
  units: 4n,
  price: 10n ** 19n + 1n,
  issuedAt: 1_700_000_001n,
  expiresAt: 1_700_003_601n,
  nonce: 8n,
}
const fields = Object.keys(tampered) as (keyof ComputeReceipt)[]

describe('ComputeReceipt signatures', () => {
  it('recovers the worker that signed a receipt', async () => {
    const signature = await signReceipt({ account: worker, domain, receipt })
    expect(await recoverReceiptSigner({ domain, receipt, signature })).toBe(worker.address)
    expect(await verifyReceiptSignature({ domain, receipt, signature })).toEqual({
      valid: true,
      signer: worker.address,
    })
  })

  it('has 12 fields, each of them tampered below', () => {
    expect(fields).toHaveLength(12)
    expect(Object.keys(receipt).sort()).toEqual([...fields].sort())
  })

  it.each(fields)('a receipt with %s tampered has another digest and fails verification', async (field) => {
    const signature = await signReceipt({ account: worker, domain, receipt })
    const changed = { ...receipt, [field]: tampered[field] }
    expect(hashReceipt({ domain, receipt: changed })).not.toBe(hashReceipt({ domain, receipt }))
    const check = await verifyReceiptSignature({ domain, receipt: changed, signature })
    expect(check.valid).toBe(false)
  })

  it('fails verification of a receipt signed by a key other than its worker, naming the signer', async () => {
    const signature = await signReceipt({ account: other, domain, receipt })
    expect(await verifyReceiptSignature({ domain, receipt, signature })).toEqual({
      valid: false,
      signer: other.address,
      reason: `signed by ${other.address}, not by the worker ${worker.address}`,
    })
  })

  it.each([
    ['another chain id', receiptDomain({ chainId: 1, jobMarket: domain.verifyingContract })],
    ['another verifying contract', receiptDomain({ chainId: 31337, jobMarket: other.address })],
  ])('fails verification of a receipt signed for %s', async (_, signedDomain) => {
    const signature = await signReceipt({ account: worker, domain: signedDomain, receipt })
    expect((await verifyReceiptSignature({ domain, receipt, signature })).valid).toBe(false)
  })

  it.each([
    ['empty', '0x'],
    ['too short', '0x1234'],
    ['not hex', '0xzz'],
  ] as const)('reports a malformed (%s) signature as invalid instead of throwing', async (_, signature) => {
    const check = await verifyReceiptSignature({ domain, receipt, signature: signature as Hex })
    expect(check.valid).toBe(false)
    expect(check.valid === false && check.reason).toMatch(/^malformed signature: /)
  })

  it('refuses to sign with an account that cannot sign typed data locally', async () => {
    const remote = { address: worker.address, type: 'json-rpc' } as const
    await expect(signReceipt({ account: remote, domain, receipt })).rejects.toThrow(
      `account ${worker.address} cannot sign typed data locally`,
    )
  })

  it('keeps the digest of a fixed receipt and domain stable', () => {
    expect(hashReceipt({ domain, receipt })).toBe(GOLDEN_RECEIPT_DIGEST)
  })

  it('computes the digest EIP-712 prescribes, built here by hand from the Solidity type string', () => {
    const typeHash = keccak256(
      toHex(
        'ComputeReceipt(bytes32 requestHash,bytes32 outputHash,bytes32 modelId,bytes32 runtimeId,address requester,' +
          'address worker,uint256 jobId,uint64 units,uint256 price,uint64 issuedAt,uint64 expiresAt,uint256 nonce)',
      ),
    )
    const structHash = keccak256(
      encodeAbiParameters(
        [
          'bytes32',
          'bytes32',
          'bytes32',
          'bytes32',
          'bytes32',
          'address',
          'address',
          'uint256',
          'uint64',
          'uint256',
          'uint64',
          'uint64',
          'uint256',
        ].map((type) => ({ type })),
        [
          typeHash,
          receipt.requestHash,
          receipt.outputHash,
          receipt.modelId,
          receipt.runtimeId,
          receipt.requester,
          receipt.worker,
          receipt.jobId,
          receipt.units,
          receipt.price,
          receipt.issuedAt,
          receipt.expiresAt,
          receipt.nonce,
        ],
      ),
    )
    const domainSeparator = keccak256(
      encodeAbiParameters(
        [{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }],
        [
          keccak256(toHex('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)')),
          keccak256(toHex('computegraph')),
          keccak256(toHex('1')),
          31337n,
          domain.verifyingContract,
        ],
      ),
    )
    expect(keccak256(concat(['0x1901', domainSeparator, structHash]))).toBe(GOLDEN_RECEIPT_DIGEST)
  })
})

describe('Attestation signatures', () => {
  it('keeps the digest of a fixed attestation and domain stable', () => {
    expect(hashAttestation({ domain, attestation })).toBe(GOLDEN_ATTESTATION_DIGEST)
  })

  it('verifies an attestation signed by the gateway', async () => {
    const signature = await signAttestation({ account: gateway, domain, attestation })
    expect(await verifyAttestationSignature({ domain, attestation, signature, gateway: gateway.address })).toEqual({
      valid: true,
      signer: gateway.address,
    })
  })

  it('rejects an attestation signed by anyone but the expected gateway', async () => {
    const signature = await signAttestation({ account: other, domain, attestation })
    expect(await verifyAttestationSignature({ domain, attestation, signature, gateway: gateway.address })).toEqual({
      valid: false,
      signer: other.address,
      reason: `signed by ${other.address}, not by the gateway ${gateway.address}`,
    })
  })

  it.each([
    ['receiptDigest', { receiptDigest: GOLDEN_ATTESTATION_DIGEST }],
    ['verification', { verification: Verification.SIGNATURE_ONLY }],
    ['evidenceHash', { evidenceHash: GOLDEN_RECEIPT_DIGEST }],
    ['attestedAt', { attestedAt: 1_700_000_101n }],
    ['blockNumber', { blockNumber: 1235n }],
  ] as const)('rejects an attestation whose %s was changed after signing', async (_, change) => {
    const signature = await signAttestation({ account: gateway, domain, attestation })
    const changed = { ...attestation, ...change }
    expect(hashAttestation({ domain, attestation: changed })).not.toBe(GOLDEN_ATTESTATION_DIGEST)
    const check = await verifyAttestationSignature({
      domain,
      attestation: changed,
      signature,
      gateway: gateway.address,
    })
    expect(check.valid).toBe(false)
  })

  it('reports a malformed attestation signature as invalid instead of throwing', async () => {
    const check = await verifyAttestationSignature({ domain, attestation, signature: '0x01', gateway: gateway.address })
    expect(check.valid).toBe(false)
    expect(check.valid === false && check.reason).toMatch(/^malformed signature: /)
  })

  it('does not verify a receipt signature as an attestation of the same digest', async () => {
    const signature = await signReceipt({ account: gateway, domain, receipt: { ...receipt, worker: gateway.address } })
    expect((await verifyAttestationSignature({ domain, attestation, signature, gateway: gateway.address })).valid).toBe(
      false,
    )
  })
})

describe('receipts as JSON', () => {
  const json = receiptToJson(receipt)

  it('writes bigints as decimal strings', () => {
    expect(json).toMatchObject({ jobId: '42', price: '10000000000000000000', nonce: '7' })
  })

  it('round-trips through JSON text unchanged', () => {
    expect(receiptFromJson(JSON.parse(JSON.stringify(json)))).toEqual(receipt)
  })

  it('round-trips the largest values of every integer type', () => {
    const max = {
      ...receipt,
      jobId: 2n ** 256n - 1n,
      units: 2n ** 64n - 1n,
      price: 2n ** 256n - 1n,
      nonce: 2n ** 256n - 1n,
    }
    expect(receiptFromJson(JSON.parse(JSON.stringify(receiptToJson(max))))).toEqual(max)
  })

  it('normalises addresses to checksum case and hashes to lower case, so the digest is unchanged', () => {
    const loose = {
      ...json,
      requester: json.requester.toLowerCase(),
      worker: json.worker.toLowerCase(),
      modelId: `0x${json.modelId.slice(2).toUpperCase()}`,
    }
    const parsed = receiptFromJson(loose)
    expect(parsed).toEqual(receipt)
    expect(hashReceipt({ domain, receipt: parsed })).toBe(GOLDEN_RECEIPT_DIGEST)
  })

  it.each([null, 'receipt', 42, undefined])('rejects %s as not a JSON object', (value) => {
    expect(() => receiptFromJson(value)).toThrow('receipt must be a JSON object')
  })

  const bad: [keyof ComputeReceipt, unknown][] = [
    ['requestHash', '0x1234'],
    ['requestHash', undefined],
    ['outputHash', `0x${'g'.repeat(64)}`],
    ['outputHash', `${'1'.repeat(66)}`],
    ['modelId', 123],
    ['runtimeId', `0x${'44'.repeat(33)}`],
    ['requester', 'not an address'],
    ['requester', '0x1234'],
    ['worker', null],
    ['worker', `0x${'zz'.repeat(20)}`],
    ['jobId', '-1'],
    ['jobId', 42],
    ['units', '0x10'],
    ['units', (2n ** 64n).toString()],
    ['price', '1.5'],
    ['price', (2n ** 256n).toString()],
    ['issuedAt', '01'],
    ['issuedAt', (2n ** 64n).toString()],
    ['expiresAt', ''],
    ['expiresAt', (2n ** 64n).toString()],
    ['nonce', ' 7'],
    ['nonce', '1e3'],
  ]

  it('has a malformed case for every field', () => {
    expect(new Set(bad.map(([field]) => field))).toEqual(new Set(fields))
  })

  it.each(bad)('rejects a malformed %s (%j), naming the field and the value', (field, value) => {
    const input: Record<string, unknown> = { ...json, [field]: value }
    if (value === undefined) delete input[field]
    expect(() => receiptFromJson(input)).toThrow(TypeError)
    expect(() => receiptFromJson(input)).toThrow(
      new RegExp(`^receipt\\.${field} must be .*, got ${escapeRegExp(value)}$`),
    )
  })
})

function escapeRegExp(value: unknown): string {
  return (JSON.stringify(value) ?? 'undefined').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
