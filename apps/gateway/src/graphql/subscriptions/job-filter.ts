import { BadUserInputError } from '../graphql.errors'

/** `jobChanged(where:)` as the client sent it. */
export interface JobChangedFilter {
  id?: string | null
  id_in?: string[] | null
  client?: string | null
  provider?: string | null
  status_in?: string[] | null
}

/** The fields of a job version a filter looks at. */
export interface JobSummary {
  id: string
  client: string
  provider: string | null
  status: string
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const JOB_ID = /^[0-9]{1,78}$/ // a uint256 in decimal

function jobId(value: string, arg: string): string {
  if (!JOB_ID.test(value))
    throw new BadUserInputError(`where.${arg} must be a decimal job id, got ${JSON.stringify(value)}`)
  return BigInt(value).toString()
}

function address(value: string, arg: string): string {
  if (!ADDRESS.test(value)) {
    throw new BadUserInputError(`where.${arg} must be a 0x-prefixed 20-byte address, got ${JSON.stringify(value)}`)
  }
  return value.toLowerCase()
}

/** Validates a `JobChanged_filter` and returns its predicate; `maxIn` bounds `id_in` as `first` bounds pages. */
export function compileJobFilter({
  where,
  maxIn,
}: {
  where: JobChangedFilter | null | undefined
  maxIn: number
}): (job: JobSummary) => boolean {
  const tests: ((job: JobSummary) => boolean)[] = []
  if (where?.id != null) {
    const id = jobId(where.id, 'id')
    tests.push((j) => j.id === id)
  }
  if (where?.id_in != null) {
    if (where.id_in.length > maxIn) {
      throw new BadUserInputError(
        `where.id_in may list at most ${maxIn} ids (GRAPHQL_MAX_FIRST), got ${where.id_in.length}`,
      )
    }
    const ids = new Set(where.id_in.map((id) => jobId(id, 'id_in')))
    tests.push((j) => ids.has(j.id))
  }
  if (where?.client != null) {
    const client = address(where.client, 'client')
    tests.push((j) => j.client.toLowerCase() === client)
  }
  if (where?.provider != null) {
    const provider = address(where.provider, 'provider')
    tests.push((j) => j.provider?.toLowerCase() === provider)
  }
  if (where?.status_in != null) {
    const statuses = new Set(where.status_in)
    tests.push((j) => statuses.has(j.status))
  }
  return (job) => tests.every((t) => t(job))
}
