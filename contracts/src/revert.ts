import { BaseError, ContractFunctionRevertedError, decodeErrorResult, type Hex, type PublicClient } from 'viem'
import { computeTokenAbi, jobMarketAbi, providerStakingAbi, rewardPoolAbi } from '../generated/abis'

/** Every custom error of the four contracts: a call into JobMarket can revert with ProviderStaking's or the token's. */
export const contractErrorsAbi = [...computeTokenAbi, ...providerStakingAbi, ...jobMarketAbi, ...rewardPoolAbi].filter(
  (item) => item.type === 'error',
)

/** A contract's revert: its custom error and arguments (`Error`/`Panic` for require strings and panics). */
export interface Revert {
  errorName: string
  args: readonly unknown[]
}

/** `WrongStatus(7, 4)`: a revert as one line for logs and stored errors. */
export const formatRevert = ({ errorName, args }: Revert) =>
  `${errorName}(${args.map((a) => (typeof a === 'string' ? a : String(a))).join(', ')})`

function decodeData(data: Hex | undefined): Revert | undefined {
  if (!data || data === '0x') return undefined
  try {
    const decoded = decodeErrorResult({ abi: contractErrorsAbi, data })
    return { errorName: decoded.errorName, args: decoded.args ?? [] }
  } catch {
    return { errorName: 'UnknownError', args: [data.slice(0, 10)] }
  }
}

/**
 * The revert inside a viem error (a simulation, a gas estimate or an eth_call that reverted), decoded against all
 * four contracts' errors; undefined when the error is something else (a network failure, a nonce race).
 */
export function revertOfError(error: unknown): Revert | undefined {
  if (!(error instanceof BaseError)) return undefined
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
  if (reverted instanceof ContractFunctionRevertedError) {
    if (reverted.data) return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] }
    return decodeData(reverted.raw) ?? { errorName: 'Error', args: [reverted.reason ?? 'execution reverted'] }
  }
  // An eth_call (no ABI at hand) carries the raw revert data on the RPC error.
  const raw = error.walk((e) => typeof (e as { data?: unknown }).data === 'string') as { data?: Hex } | null
  return decodeData(raw?.data)
}

/**
 * Why a mined transaction reverted: replays it on its parent block (automine and most dev chains mine one block per
 * transaction, so the parent's state is the one it ran on). Undefined when the replay succeeds: the state it saw
 * differed, e.g. a transaction ahead of it in the same block.
 */
export async function replayRevert({
  client,
  hash,
  blockNumber,
}: {
  client: PublicClient
  hash: Hex
  blockNumber: bigint
}): Promise<Revert | undefined> {
  const tx = await client.getTransaction({ hash })
  return client
    .call({ account: tx.from, to: tx.to, data: tx.input, value: tx.value, blockNumber: blockNumber - 1n })
    .then(
      () => undefined,
      (error: Error) => revertOfError(error) ?? { errorName: 'Error', args: [error.message.split('\n')[0]] },
    )
}
