import { type Deployment, readDeployment } from '@computegraph/contracts/deploy'
import { Inject, Injectable, Logger } from '@nestjs/common'
import type { Address, Hex } from 'viem'
import type { Config } from '../../config/config'
import { CONFIG } from '../../config/config.module'
import { BadUserInputError } from '../../graphql/graphql.errors'
import { IndexedStateRepository } from './indexed-state.repository'
import { ReceiptRepository } from './receipt.repository'
import { parseReceiptBundleText, ReceiptBundleError, receiptBundleToJson, verificationName } from './receipt-bundle'
import {
  type ReceiptVerification,
  type TrustedGateway,
  type VerificationLookups,
  verifyReceiptBundle,
} from './verify-receipt'

export interface ExpectedDomain {
  chainId: number
  verifyingContract: Address
}

/** What a deployment fixes for verification: the domain receipts are bound to and the gateways it trusts. */
export interface DeploymentTrust {
  expected: ExpectedDomain
  roles: Pick<Deployment, 'dispatcher' | 'arbiter'>
}

/**
 * The gateways whose attestations count: the deployment's dispatcher and arbiter (the roles JobMarket gave them when
 * it was deployed), and any key the verifier was told to trust. The GraphQL API and the CLI both judge by this.
 */
export function trustedGateways({
  deployment,
  extra = [],
}: {
  deployment?: Pick<Deployment, 'dispatcher' | 'arbiter'>
  extra?: readonly Address[]
}): TrustedGateway[] {
  // Without a deployment only the keys given are trusted.
  return [
    ...(deployment
      ? [
          { address: deployment.dispatcher, as: 'the deployment’s dispatcher' },
          { address: deployment.arbiter, as: 'the deployment’s arbiter' },
        ]
      : []),
    ...extra.map((address) => ({ address, as: 'a gateway the verifier was told to trust' })),
  ]
}

/** Lookups over the gateway's database: stake and jobs from the indexed entities, nonces from the receipt store. */
export function indexedLookups({
  chainId,
  state,
  receipts,
}: {
  chainId: number
  state: IndexedStateRepository
  receipts: ReceiptRepository
}): VerificationLookups {
  return {
    stakeAt: ({ provider, block }) => state.stakeAt({ chainId, provider, block }),
    receiptsWithNonce: (args) => receipts.digestsWithNonce(args),
    job: (args) => state.job(args),
    heldAttestation: async ({ digest }) => {
      const held = (await receipts.find(digest))?.attestation
      return held ? verificationName(held.attestation.verification) : null
    },
  }
}

/** The chain and JobMarket of a deployment file (what receipts must be bound to), and its trusted gateways. */
export async function deploymentTrustOf(file: string): Promise<DeploymentTrust> {
  const deployment = await readDeployment(file)
  return {
    expected: { chainId: deployment.chainId, verifyingContract: deployment.contracts.JobMarket.address },
    roles: { dispatcher: deployment.dispatcher, arbiter: deployment.arbiter },
  }
}

export const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000))

/** Verifies receipt bundles against the gateway's indexed state and receipt store; serves stored bundles. */
@Injectable()
export class VerificationService {
  private readonly logger = new Logger('Verification')
  private deployment?: Promise<DeploymentTrust | undefined>

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(IndexedStateRepository) private readonly state: IndexedStateRepository,
    @Inject(ReceiptRepository) private readonly receipts: ReceiptRepository,
  ) {}

  /** The deployment this gateway indexes, read once; without one the domain check is skipped, and says so. */
  private deploymentTrust(): Promise<DeploymentTrust | undefined> {
    const file = this.config.indexer.deploymentFile
    this.deployment ??= file
      ? deploymentTrustOf(file).catch((error: Error) => {
          this.logger.warn(`receipts are verified without an expected domain: cannot read ${file}: ${error.message}`)
          return undefined
        })
      : Promise.resolve(undefined)
    return this.deployment
  }

  /**
   * `text` is the bundle's JSON; `at` (unix seconds, wall clock) pins the time of the verdict, now by default;
   * `trust` adds gateways to the deployment's; `requireAttestation` fails a bundle that has none.
   */
  async verify({
    text,
    at,
    trust = [],
    requireAttestation = false,
  }: {
    text: string
    at?: bigint
    trust?: readonly Address[]
    requireAttestation?: boolean
  }): Promise<ReceiptVerification> {
    let bundle: ReturnType<typeof parseReceiptBundleText>
    try {
      bundle = parseReceiptBundleText(text)
    } catch (error) {
      if (error instanceof ReceiptBundleError) throw new BadUserInputError(error.message, { cause: error })
      throw error
    }
    const deployment = await this.deploymentTrust()
    const expected = deployment?.expected
    return verifyReceiptBundle({
      bundle,
      now: at ?? nowSeconds(),
      expected,
      trustedGateways: trustedGateways({ deployment: deployment?.roles, extra: trust }),
      requireAttestation,
      lookups: indexedLookups({
        chainId: expected?.chainId ?? bundle.domain.chainId,
        state: this.state,
        receipts: this.receipts,
      }),
    })
  }

  /** The stored bundle with this digest as JSON text, or null. */
  async stored(digest: Hex): Promise<string | null> {
    const bundle = await this.receipts.find(digest)
    return bundle ? JSON.stringify(receiptBundleToJson(bundle)) : null
  }
}
