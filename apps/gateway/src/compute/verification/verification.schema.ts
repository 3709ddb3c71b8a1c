import { type Address, getAddress, type Hex, isAddress } from 'viem'
import { BadUserInputError } from '../../graphql/graphql.errors'
import type { SchemaExtension } from '../../graphql/schema-extension'
import type { VerificationService } from './verification.service'

/** Injection token of the verification module's SchemaExtension (see GraphqlModule.forRoot's `extensions`). */
export const VERIFICATION_SCHEMA = Symbol('VERIFICATION_SCHEMA')

const typeDefs = /* GraphQL */ `
"How one property of a receipt fared: SKIPPED when what it needs (a body, an attestation, the indexed state) is missing"
enum ReceiptCheckStatus {
  PASS
  FAIL
  SKIPPED
}

"What the gateway's attestation says was checked about a receipt"
enum ReceiptVerificationMode {
  SIGNATURE_ONLY
  REEXECUTED_MATCH
  DISPUTED
}

"One check of a receipt: requestHash, outputHash, signature, domain, expiry, replay, job, stake, attestation, evidence"
type ReceiptCheck {
  name: String!
  status: ReceiptCheckStatus!
  "What was checked and, when it failed, exactly what was wrong"
  reason: String!
}

type ReceiptVerification {
  "True when no check failed"
  valid: Boolean!
  "The receipt's EIP-712 digest, as JobMarket emits it"
  digest: Bytes!
  "The address the signature recovers, null when none does"
  signer: Bytes
  "The attested verification mode; null without an attestation"
  verification: ReceiptVerificationMode
  "The gateway that attested, and whether this verifier trusts it; null without an attestation"
  attester: ReceiptAttester
  checks: [ReceiptCheck!]!
}

type ReceiptAttester {
  address: Bytes!
  "The deployment's dispatcher or arbiter, or a key given in trustGateways"
  trusted: Boolean!
}

extend type Query {
  """
  Verifies a receipt bundle (the JSON the gateway returns with each result, given as a string): hashes, signature,
  domain, expiry, replay, the on-chain job, the attestation (and whether its gateway is trusted) with its evidence,
  and the signer's stake at the block a trusted attestation names (else at the indexed head).
  \`at\` (unix seconds, wall clock, the clock of the receipt's issuedAt) gives the verdict as of that time instead of
  now. \`trustGateways\` adds gateway addresses to trust besides the deployment's dispatcher and arbiter;
  \`requireAttestation\` fails a bundle that carries no attestation.
  """
  verifyReceipt(
    bundle: String!
    at: BigInt
    requireAttestation: Boolean = false
    trustGateways: [Bytes!]
  ): ReceiptVerification!
  "The receipt bundle this gateway handed out with that digest, as JSON text; null when it handed out none"
  receipt(digest: Bytes!): String
}
`

/** A trustGateways entry: Bytes carries any hex, an address is 20 of them. */
function gatewayAddress(value: Hex): Address {
  if (!isAddress(value, { strict: false })) {
    throw new BadUserInputError(`trustGateways must hold 20-byte addresses, got ${value}`)
  }
  return getAddress(value)
}

/** `verifyReceipt` and `receipt`, resolved by the VerificationService in one line each. */
export function verificationSchema(service: VerificationService): SchemaExtension {
  return {
    typeDefs,
    resolvers: {
      Query: {
        verifyReceipt: {
          resolve: async (
            _: never,
            args: { bundle: string; at?: string | null; requireAttestation?: boolean; trustGateways?: Hex[] | null },
          ) => {
            const report = await service.verify({
              text: args.bundle,
              at: args.at ? BigInt(args.at) : undefined,
              trust: (args.trustGateways ?? []).map(gatewayAddress),
              requireAttestation: args.requireAttestation ?? false,
            })
            return { ...report, checks: report.checks.map((c) => ({ ...c, status: c.status.toUpperCase() })) }
          },
        },
        receipt: { resolve: (_: never, args: { digest: Hex }) => service.stored(args.digest) },
      },
    },
  }
}
