import { BigInt, Bytes } from '@graphprotocol/graph-ts'
import {
  DisputeResolved,
  JobAssigned,
  JobCancelled,
  JobCompleted,
  JobCreated,
  JobDisputed,
  JobExpired,
  ModelRegistered,
} from '../generated/JobMarket/JobMarket'
import { Client, Dispute, Job, Model } from '../generated/schema'
import { loadNetwork, loadProvider, ONE, ZERO } from './common'
import { networkPoint, providerPoint } from './stats'

export function handleModelRegistered(event: ModelRegistered): void {
  const model = new Model(event.params.modelId)
  model.owner = event.params.owner
  model.uri = event.params.uri
  model.jobCount = ZERO
  model.registeredAt = event.block.timestamp
  model.save()

  const network = loadNetwork()
  network.modelCount = network.modelCount.plus(ONE)
  network.save()
}

export function handleJobCreated(event: JobCreated): void {
  const network = loadNetwork()
  const p = event.params
  const job = new Job(p.jobId.toString())
  job.client = p.client
  job.model = p.modelId
  job.kind = p.kind === 1 ? 'TRAINING' : 'INFERENCE'
  job.status = 'OPEN'
  job.payment = p.payment
  job.inputHash = p.inputHash
  job.deadline = p.deadline
  job.createdAt = event.block.timestamp
  job.createdAtBlock = event.block.number
  job.updatedAt = event.block.timestamp
  job.save()

  const model = Model.load(p.modelId)
  if (model == null) throw new Error(`job ${job.id} names unregistered model ${p.modelId.toHexString()}`)
  model.jobCount = model.jobCount.plus(ONE)
  model.save()

  let client = Client.load(p.client)
  if (client == null) {
    client = new Client(p.client)
    client.jobsCreated = ZERO
    client.totalEscrowed = ZERO
    client.totalPaid = ZERO
    client.totalRefunded = ZERO
    network.clientCount = network.clientCount.plus(ONE)
  }
  client.jobsCreated = client.jobsCreated.plus(ONE)
  client.totalEscrowed = client.totalEscrowed.plus(p.payment)
  client.save()

  network.jobCount = network.jobCount.plus(ONE)
  network.save()
  networkPoint(event, network, ONE, ZERO, ZERO, ZERO, ZERO, ZERO)
}

export function handleJobAssigned(event: JobAssigned): void {
  const job = loadJob(event.params.jobId)
  job.status = 'ASSIGNED'
  job.provider = event.params.provider
  job.assignedAt = event.block.timestamp
  job.updatedAt = event.block.timestamp
  job.save()

  const provider = loadProvider(event.params.provider)
  provider.jobsAssigned = provider.jobsAssigned.plus(ONE)
  provider.save()
}

export function handleJobCompleted(event: JobCompleted): void {
  const p = event.params
  const job = loadJob(p.jobId)
  job.status = 'COMPLETED'
  job.outputHash = p.outputHash
  job.receiptDigest = p.receiptDigest
  job.fee = p.fee
  job.completedAt = event.block.timestamp
  job.updatedAt = event.block.timestamp
  job.save()

  const provider = loadProvider(p.provider)
  provider.jobsCompleted = provider.jobsCompleted.plus(ONE)
  provider.save()

  const client = loadClient(job.client)
  client.totalPaid = client.totalPaid.plus(p.payment)
  client.save()

  const network = loadNetwork()
  network.jobsCompleted = network.jobsCompleted.plus(ONE)
  network.totalPayments = network.totalPayments.plus(p.payment)
  network.totalFees = network.totalFees.plus(p.fee)
  network.save()
  networkPoint(event, network, ZERO, ONE, p.payment, p.fee, ZERO, ZERO)
  providerPoint(event, provider, ONE, ZERO, ZERO)
}

export function handleJobCancelled(event: JobCancelled): void {
  const job = loadJob(event.params.jobId)
  job.status = 'CANCELLED'
  job.refund = event.params.refund
  job.updatedAt = event.block.timestamp
  job.save()

  refundClient(job.client, event.params.refund)
  const network = loadNetwork()
  network.jobsCancelled = network.jobsCancelled.plus(ONE)
  network.totalRefunds = network.totalRefunds.plus(event.params.refund)
  network.save()
}

export function handleJobExpired(event: JobExpired): void {
  const job = loadJob(event.params.jobId)
  job.status = 'EXPIRED'
  job.refund = event.params.refund
  job.updatedAt = event.block.timestamp
  job.save()

  const assignedTo = job.provider
  if (assignedTo !== null) {
    const provider = loadProvider(assignedTo)
    provider.jobsFailed = provider.jobsFailed.plus(ONE)
    provider.save()
  }
  refundClient(job.client, event.params.refund)
  const network = loadNetwork()
  network.jobsExpired = network.jobsExpired.plus(ONE)
  network.totalRefunds = network.totalRefunds.plus(event.params.refund)
  network.save()
}

export function handleJobDisputed(event: JobDisputed): void {
  const job = loadJob(event.params.jobId)
  job.status = 'DISPUTED'
  job.updatedAt = event.block.timestamp
  job.save()

  // A rejected dispute returns the job to COMPLETED, where it can be disputed again: the new dispute replaces it.
  const dispute = new Dispute(job.id)
  dispute.job = job.id
  dispute.raisedBy = event.params.by
  dispute.evidenceHash = event.params.evidenceHash
  dispute.status = 'OPEN'
  dispute.slashed = ZERO
  dispute.refund = ZERO
  dispute.raisedAt = event.block.timestamp
  dispute.resolvedAt = null
  dispute.save()

  const network = loadNetwork()
  network.jobsDisputed = network.jobsDisputed.plus(ONE)
  network.save()
}

export function handleDisputeResolved(event: DisputeResolved): void {
  const p = event.params
  const job = loadJob(p.jobId)
  // An upheld dispute leaves the job DISPUTED; the slash itself is indexed from ProviderStaking's Slashed.
  if (p.providerAtFault) job.refund = p.refund
  else job.status = 'COMPLETED'
  job.updatedAt = event.block.timestamp
  job.save()

  const dispute = Dispute.load(job.id)
  if (dispute == null) throw new Error(`dispute of job ${job.id} resolved but never raised`)
  dispute.status = p.providerAtFault ? 'UPHELD' : 'REJECTED'
  dispute.slashed = p.slashed
  dispute.refund = p.refund
  dispute.resolvedAt = event.block.timestamp
  dispute.save()

  if (p.providerAtFault) {
    const provider = loadProvider(p.provider)
    provider.jobsFailed = provider.jobsFailed.plus(ONE)
    provider.save()
  }
  refundClient(job.client, p.refund)
  const network = loadNetwork()
  network.totalRefunds = network.totalRefunds.plus(p.refund)
  network.save()
}

function loadJob(jobId: BigInt): Job {
  const job = Job.load(jobId.toString())
  if (job == null) throw new Error(`job ${jobId.toString()} was never created`)
  return job
}

function loadClient(id: Bytes): Client {
  const client = Client.load(id)
  if (client == null) throw new Error(`client ${id.toHexString()} never created a job`)
  return client
}

function refundClient(id: Bytes, refund: BigInt): void {
  const client = loadClient(id)
  client.totalRefunded = client.totalRefunded.plus(refund)
  client.save()
}
