import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  type Hex,
  isHex,
  type PublicClient,
  type TransactionReceipt,
} from 'viem'
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
  // A selector is 4 bytes; anything shorter is no revert data.
  if (!data || data.length < 10) return undefined
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
  const raw = error.walk((e) => isHex((e as { data?: unknown }).data)) as { data?: Hex } | null
  return decodeData(raw?.data)
}

/** Why a mined transaction reverted: its decoded revert, or what else happened (out of gas, a replay that passes). */
export type MinedRevert = { revert: Revert; at: bigint } | { outOfGas: bigint } | { replayPasses: bigint }

/**
 * Replays a reverted transaction as it ran: on its parent's state (automine: one transaction per block), with the
 * mined block's number and timestamp and the transaction's gas limit. A replay in the parent block's own context
 * would pass a call that reverted only because its block came later, and would hide an exhausted gas limit.
 */
export async function replayRevert({
  client,
  receipt,
}: {
  client: PublicClient
  receipt: TransactionReceipt
}): Promise<MinedRevert> {
  const [tx, block] = await Promise.all([
    client.getTransaction({ hash: receipt.transactionHash }),
    client.getBlock({ blockNumber: receipt.blockNumber }),
  ])
  if (receipt.gasUsed === tx.gas) return { outOfGas: tx.gas }
  return client
    .call({
      account: tx.from,
      to: tx.to,
      data: tx.input,
      value: tx.value,
      gas: tx.gas,
      blockNumber: receipt.blockNumber - 1n,
      blockOverrides: { number: block.number, time: block.timestamp },
    })
    .then(
      (): MinedRevert => ({ replayPasses: block.timestamp }),
      (error: Error): MinedRevert => ({
        revert: revertOfError(error) ?? { errorName: 'Error', args: [error.message.split('\n')[0] ?? error.message] },
        at: block.timestamp,
      }),
    )
}

/** A mined revert as one line: `DeadlinePassed(12) at block time 13`, `out of gas (used all 50000)`. */
export function formatMinedRevert(mined: MinedRevert): string {
  if ('outOfGas' in mined) return `out of gas (used all ${mined.outOfGas})`
  if ('replayPasses' in mined) return `the replay at block time ${mined.replayPasses} succeeds`
  return `${formatRevert(mined.revert)} at block time ${mined.at}`
}
