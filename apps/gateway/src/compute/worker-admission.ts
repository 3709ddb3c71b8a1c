import type { ProviderStanding } from './compute.repository'

export type Admission = { admitted: true; stake: bigint } | { admitted: false; reason: string }

/**
 * Whether a provider may serve: registered in ProviderStaking and staked at or above the minimum, per the indexed
 * state (a provider slashed below the minimum is out). Mirrors ProviderStaking.isEligible.
 */
export function admission({ standing }: { standing: ProviderStanding | undefined }): Admission {
  if (!standing?.registered) {
    return {
      admitted: false,
      reason: `provider ${standing?.provider ?? 'unknown'} is not registered in ProviderStaking (as indexed so far)`,
    }
  }
  if (standing.stake < standing.minStake) {
    return {
      admitted: false,
      reason: `provider ${standing.provider} has stake ${standing.stake}, below the minimum ${standing.minStake}`,
    }
  }
  return { admitted: true, stake: standing.stake }
}
