import { actions, advanceTime, type LocalNetwork, reads, startLocalNetwork } from '@computegraph/contracts/fixture'
import { receiptDomain, receiptToJson } from '@computegraph/contracts/receipts'
import type { Account } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Config } from '../config/config'
import type { ComputeRepository, JobToSubmit } from './compute.repository'
import { ComputeChain } from './compute-chain'
import type { ComputeIdentity } from './compute-identity'
import type { InferenceService } from './inference.service'
import { JobDispatcherService } from './job-dispatcher.service'

// The dispatcher against a real chain, with its storage stubbed: the repository hands it one computed job, as the
// indexed state would, and records what the dispatcher decides.
let net: LocalNetwork

beforeAll(async () => {
  net = await startLocalNetwork()
}, 60_000)

afterAll(async () => {
  await net?.stop()
})

function dispatcherFor(job: JobToSubmit) {
  const deployer = net.accounts[0] as Account & { type: 'local' }
  const identity = {
    deployment: net.deployment,
    domain: receiptDomain({ chainId: net.deployment.chainId, jobMarket: net.addresses.jobMarket }),
    account: deployer,
    ephemeral: false,
  } as ComputeIdentity
  const chain = new ComputeChain(identity, net.anvil.rpcUrl)
  const submissions: unknown[] = []
  const assignments: unknown[] = []
  const submit = chain.submitResult.bind(chain)
  chain.submitResult = (args) => {
    submissions.push(args)
    return submit(args)
  }
  const assign = chain.assignJob.bind(chain)
  chain.assignJob = (args) => {
    assignments.push(args)
    return assign(args)
  }
  const failures: { id: string; error: { reason: string; message: string } }[] = []
  let recorded = false
  const repository = {
    jobsToSubmit: async () => (recorded ? [] : [job]),
    openJobs: async () => [],
    recordSubmissionFailure: async (failure: (typeof failures)[number]) => {
      failures.push(failure)
      recorded = true
    },
  } as unknown as ComputeRepository
  const dispatcher = new JobDispatcherService(
    { indexer: { pollIntervalMs: 50 }, compute: { onchainJobs: true } } as Config,
    identity,
    { current: chain },
    repository,
    {} as InferenceService,
  )
  return { dispatcher, submissions, assignments, failures }
}

async function settle(dispatcher: JobDispatcherService, polls: number) {
  for (let i = 0; i < polls; i++) {
    await dispatcher.poll()
    // poll() launches the submission without awaiting it; the chain writer's queue settles it.
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe('submitting a computed on-chain job', () => {
  it('decides a submission the contract refuses once, records its decoded revert, and does not retry it', async () => {
    const act = actions(net)
    const provider = net.accounts[1] as Account
    const client = net.accounts[2] as Account
    await act.onboardProvider(provider)
    await act.fundClient(client)
    const modelId = `0x${'11'.repeat(32)}` as const
    const inputHash = `0x${'22'.repeat(32)}` as const
    await act.registerModel(client, modelId)
    const deadline = (await act.latestTimestamp()) + 60n
    await act.createJob(client, { modelId, inputHash, payment: 10n ** 18n, deadline })
    const jobId = (await reads(net).jobCount()) as bigint
    await act.assignJob(provider, jobId, provider.address)
    const { receipt, signature } = await act.signedReceipt(provider, {
      jobId,
      requester: client.address,
      modelId,
      requestHash: inputHash,
      price: 10n ** 18n,
      expiresAt: deadline + 86_400n,
    })
    // The job's deadline passes before the gateway gets to submit (a restart, a chain clock that jumped).
    await advanceTime(net, 120n)

    const { dispatcher, submissions, failures } = dispatcherFor({
      jobId,
      status: 'ASSIGNED',
      assignedTo: provider.address,
      client: client.address,
      modelId,
      inputHash,
      payment: 10n ** 18n,
      worker: provider.address,
      result: { receipt: { receipt: receiptToJson(receipt), signature } },
    })
    await settle(dispatcher, 5)

    expect(submissions).toHaveLength(1)
    expect(failures).toEqual([
      {
        id: `job-${jobId}`,
        error: {
          reason: 'SUBMISSION_REVERTED',
          message: `submitResult(job ${jobId}) reverted: DeadlinePassed(${deadline})`,
        },
      },
    ])
    expect(((await reads(net).job(jobId)) as { status: number }).status).toBe(1)
  })

  it('never assigns a job whose id now names another job (a reset or reorganised chain), and records why', async () => {
    const act = actions(net)
    const provider = net.accounts[3] as Account
    const client = net.accounts[4] as Account
    const other = net.accounts[5] as Account
    await act.onboardProvider(provider)
    await act.fundClient(client)
    const modelId = `0x${'33'.repeat(32)}` as const
    const inputHash = `0x${'44'.repeat(32)}` as const
    await act.registerModel(client, modelId)
    const deadline = (await act.latestTimestamp()) + 3600n
    await act.createJob(client, { modelId, inputHash, payment: 10n ** 18n, deadline })
    const jobId = (await reads(net).jobCount()) as bigint
    // What the gateway computed under this id before the chain was reset: another client's job.
    const { receipt, signature } = await act.signedReceipt(provider, {
      jobId,
      requester: other.address,
      modelId,
      requestHash: inputHash,
      price: 10n ** 18n,
    })

    const { dispatcher, submissions, assignments, failures } = dispatcherFor({
      jobId,
      status: 'OPEN',
      assignedTo: null,
      client: client.address,
      modelId,
      inputHash,
      payment: 10n ** 18n,
      worker: provider.address,
      result: { receipt: { receipt: receiptToJson(receipt), signature } },
    })
    await settle(dispatcher, 3)

    expect(assignments).toEqual([])
    expect(submissions).toEqual([])
    expect(failures.map((f) => f.error.reason)).toEqual(['JOB_CHANGED'])
    expect(((await reads(net).job(jobId)) as { status: number }).status).toBe(0)
  })

  it('leaves a job that the chain shows completed but the index still open to the index, without recording a failure', async () => {
    const act = actions(net)
    const provider = net.accounts[6] as Account
    const client = net.accounts[7] as Account
    await act.onboardProvider(provider)
    await act.fundClient(client)
    const modelId = `0x${'55'.repeat(32)}` as const
    const inputHash = `0x${'66'.repeat(32)}` as const
    await act.registerModel(client, modelId)
    const deadline = (await act.latestTimestamp()) + 3600n
    await act.createJob(client, { modelId, inputHash, payment: 10n ** 18n, deadline })
    const jobId = (await reads(net).jobCount()) as bigint
    await act.assignJob(provider, jobId, provider.address)
    const { receipt, signature } = await act.signedReceipt(provider, {
      jobId,
      requester: client.address,
      modelId,
      requestHash: inputHash,
      price: 10n ** 18n,
    })
    // Submitted before a restart; the index, a few blocks behind, still has the job OPEN.
    await act.submitResult(provider, receipt, signature)

    const { dispatcher, submissions, assignments, failures } = dispatcherFor({
      jobId,
      status: 'OPEN',
      assignedTo: null,
      client: client.address,
      modelId,
      inputHash,
      payment: 10n ** 18n,
      worker: provider.address,
      result: { receipt: { receipt: receiptToJson(receipt), signature } },
    })
    await settle(dispatcher, 4)

    expect(assignments).toHaveLength(1)
    expect(submissions).toEqual([])
    expect(failures).toEqual([])
  })
})
