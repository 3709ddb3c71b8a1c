import { parseArgs } from 'node:util'
import type { Hex } from 'viem'
import { deployAll, writeDeployment } from './deploy'

const USAGE = `usage: npm run deploy -w @computegraph/contracts -- --rpc-url URL --private-key 0x… [--out deployment.json]
  [--arbiter 0x…] [--dispatcher 0x…] [--min-stake WEI] [--unbonding-delay S] [--fee-bps N] [--dispute-window S] [--epoch-duration S]`

const { values } = parseArgs({
  options: {
    'rpc-url': { type: 'string' },
    'private-key': { type: 'string' },
    out: { type: 'string', default: 'deployment.json' },
    arbiter: { type: 'string' },
    dispatcher: { type: 'string' },
    'min-stake': { type: 'string' },
    'unbonding-delay': { type: 'string' },
    'fee-bps': { type: 'string' },
    'dispute-window': { type: 'string' },
    'epoch-duration': { type: 'string' },
    help: { type: 'boolean' },
  },
})

if (values.help || !values['rpc-url'] || !values['private-key']) {
  console.error(USAGE)
  process.exit(values.help ? 0 : 2)
}
if (!/^0x[0-9a-fA-F]{64}$/.test(values['private-key'])) {
  console.error('Invalid --private-key: expected 0x followed by 64 hex digits')
  process.exit(2)
}
const big = (flag: string, v: string | undefined) => {
  if (v === undefined) return undefined
  if (!/^[0-9]+$/.test(v)) {
    console.error(`Invalid --${flag}="${v}": expected a non-negative integer`)
    process.exit(2)
  }
  return BigInt(v)
}

const deployment = await deployAll({
  rpcUrl: values['rpc-url'],
  privateKey: values['private-key'] as Hex,
  arbiter: values.arbiter as Hex | undefined,
  dispatcher: values.dispatcher as Hex | undefined,
  params: Object.fromEntries(
    Object.entries({
      minStake: big('min-stake', values['min-stake']),
      unbondingDelay: big('unbonding-delay', values['unbonding-delay']),
      feeBps: values['fee-bps'] === undefined ? undefined : Number(big('fee-bps', values['fee-bps'])),
      disputeWindow: big('dispute-window', values['dispute-window']),
      epochDuration: big('epoch-duration', values['epoch-duration']),
    }).filter(([, v]) => v !== undefined),
  ),
})
await writeDeployment(values.out, deployment)
for (const [name, c] of Object.entries(deployment.contracts))
  console.log(`${name.padEnd(16)} ${c.address} block ${c.startBlock}`)
console.log(`wrote ${values.out} (chain ${deployment.chainId})`)
