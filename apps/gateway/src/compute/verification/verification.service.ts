import { readDeployment } from '@computegraph/contracts/deploy'
import { Inject, Injectable, Logger } from '@nestjs/common'
import type { Address, Hex } from 'viem'
import type { Config } from '../../config/config'
import { CONFIG } from '../../config/config.module'
import { BadUserInputError } from '../../graphql/graphql.errors'
import { IndexedStateRepository } from './indexed-state.repository'
import { ReceiptRepository } from './receipt.repository'
import { parseReceiptBundleText, ReceiptBundleError, receiptBundleToJson } from './receipt-bundle'
import { type ReceiptVerification, type VerificationLookups, verifyReceiptBundle } from './verify-receipt'

export interface ExpectedDomain {
  chainId: number
  verifyingContract: Address
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
    stakeAt: ({ provider, timestamp }) => state.stakeAt({ chainId, provider, timestamp }),
    receiptsWithNonce: (args) => receipts.digestsWithNonce(args),
    job: (args) => state.job(args),
  }
}

/** The chain and JobMarket of a deployment file: what receipts must be bound to. */
export async function expectedDomainOf(file: string): Promise<ExpectedDomain> {
  const deployment = await readDeployment(file)
  return { chainId: deployment.chainId, verifyingContract: deployment.contracts.JobMarket.address }
}

export const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000))

/** Verifies receipt bundles against the gateway's indexed state and receipt store; serves stored bundles. */
@Injectable()
export class VerificationService {
  private readonly logger = new Logger('Verification')
  private expected?: Promise<ExpectedDomain | undefined>

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(IndexedStateRepository) private readonly state: IndexedStateRepository,
    @Inject(ReceiptRepository) private readonly receipts: ReceiptRepository,
  ) {}

  /** The deployment this gateway indexes, read once; without one the domain check is skipped, and says so. */
  private expectedDomain(): Promise<ExpectedDomain | undefined> {
    const file = this.config.indexer.deploymentFile
    this.expected ??= file
      ? expectedDomainOf(file).catch((error: Error) => {
          this.logger.warn(`receipts are verified without an expected domain: cannot read ${file}: ${error.message}`)
          return undefined
        })
      : Promise.resolve(undefined)
    return this.expected
  }

  /** `text` is the bundle's JSON; `at` (unix seconds) pins the time of the verdict, now by default. */
  async verify({ text, at }: { text: string; at?: bigint }): Promise<ReceiptVerification> {
    let bundle: ReturnType<typeof parseReceiptBundleText>
    try {
      bundle = parseReceiptBundleText(text)
    } catch (error) {
      if (error instanceof ReceiptBundleError) throw new BadUserInputError(error.message, { cause: error })
      throw error
    }
    const expected = await this.expectedDomain()
    return verifyReceiptBundle({
      bundle,
      now: at ?? nowSeconds(),
      expected,
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
