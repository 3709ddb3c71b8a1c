// `npm run bench -- gas`: gas used by each contract operation on a fresh anvil, read from the transaction receipts.
import { type Account, type Hex, keccak256, parseEther, toHex } from 'viem'
import { actions, advanceTime, reads, startLocalNetwork, transactionReceipt } from '../contracts/src/fixture'

const net = await startLocalNetwork()
try {
  const act = actions(net)
  const view = reads(net)
  const [admin, alice, bob, client, funder] = net.accounts as [Account, Account, Account, Account, Account]
  const rows: [string, bigint][] = []
  const measure = async (operation: string, tx: Promise<Hex>) => {
    rows.push([operation, (await transactionReceipt(net, await tx)).gasUsed])
  }
  const modelId = keccak256(toHex('model bytes'))
  const payment = parseEther('10')
  const newJob = async (n: number) => {
    const now = await act.latestTimestamp()
    const input = keccak256(toHex(`input ${n}`))
    return act.createJob(client, { modelId, inputHash: input, payment, deadline: now + 3600n })
  }

  await act.mint(alice.address, parseEther('10000'))
  await act.mint(bob.address, parseEther('10000'))
  await act.fundClient(client)
  await act.mint(funder.address, parseEther('100'))
  await measure('ComputeToken.approve', act.approve(alice, net.addresses.staking, parseEther('10000')))
  await act.approve(bob, net.addresses.staking, parseEther('10000'))
  await act.approve(funder, net.addresses.rewardPool, parseEther('100'))

  await measure('ProviderStaking.register', act.register(alice, 'ipfs://alice'))
  await measure('ProviderStaking.stake (first)', act.stake(alice, parseEther('5000')))
  await measure('ProviderStaking.stake (top-up)', act.stake(alice, parseEther('100')))
  await act.register(bob)
  await act.stake(bob, parseEther('5000'))
  await measure('ProviderStaking.requestUnstake', act.requestUnstake(bob, parseEther('100')))
  await advanceTime(net, BigInt(net.deployment.params.unbondingDelay))
  await measure('ProviderStaking.withdraw', act.withdraw(bob))
  await measure(
    'ProviderStaking.slash (arbiter)',
    act.slash(admin, bob.address, parseEther('1'), keccak256(toHex('reason')), admin.address),
  )

  await measure('JobMarket.registerModel', act.registerModel(client, modelId, 'ipfs://model'))
  await measure('JobMarket.createJob (first job)', newJob(1))
  await measure('JobMarket.createJob', newJob(2))
  await measure('JobMarket.assignJob (provider takes it)', act.assignJob(alice, 1n, alice.address))
  await measure('JobMarket.assignJob (dispatcher)', act.assignJob(admin, 2n, bob.address))
  await measure('JobMarket.submitResult (first in epoch)', act.completeJob(alice, 1n))
  await measure('JobMarket.submitResult', act.completeJob(bob, 2n))
  await newJob(3)
  await measure('JobMarket.cancelJob', act.cancelJob(client, 3n))
  await newJob(4)
  await act.assignJob(alice, 4n, alice.address)
  await advanceTime(net, 3601n)
  await measure('JobMarket.expireJob', act.expireJob(admin, 4n))
  await measure('JobMarket.disputeJob (client)', act.disputeJob(client, 1n, keccak256(toHex('evidence'))))
  await measure(
    'JobMarket.resolveDispute (upheld: slash, refund, rest to pool)',
    act.resolveDispute(admin, 1n, true, parseEther('20')),
  )
  await act.disputeJob(client, 2n, keccak256(toHex('evidence')))
  await measure('JobMarket.resolveDispute (rejected)', act.resolveDispute(admin, 2n, false, 0n))

  await measure('RewardPool.fund', act.fundRewards(funder, parseEther('50')))
  await advanceTime(net, BigInt(net.deployment.params.epochDuration))
  await measure('RewardPool.finalizeEpoch', act.finalizeEpoch(admin))
  await measure('RewardPool.claim', act.claim(alice, 0n))
  await measure('RewardPool.claim (last claimant)', act.claim(bob, 0n))
  if ((await view.reserved()) !== 0n) throw new Error('the epoch did not pay out all of its rewards')

  const width = Math.max(...rows.map(([op]) => op.length))
  console.log(`| ${'operation'.padEnd(width)} | gas used |`)
  console.log(`| ${'-'.repeat(width)} | -------: |`)
  for (const [op, gas] of rows) console.log(`| ${op.padEnd(width)} | ${gas.toString().padStart(8)} |`)
} finally {
  await net.stop()
}
