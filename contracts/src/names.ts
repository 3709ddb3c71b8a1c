/** The contracts whose ABIs and bytecode we publish, in a fixed order so the compiler's output is stable. */
export const CONTRACT_NAMES = ['ComputeToken', 'ProviderStaking', 'JobMarket', 'RewardPool'] as const
export type ContractName = (typeof CONTRACT_NAMES)[number]
