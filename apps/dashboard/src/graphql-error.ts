// No DOM here: the soak test runs the dashboard's receipt verifier in Node with its own request function.

/** A GraphQL request that failed: the server's messages and codes, or the HTTP failure. */
export class GraphqlError extends Error {
  override name = 'GraphqlError'
  constructor(
    message: string,
    readonly codes: (string | undefined)[] = [],
  ) {
    super(message)
  }

  /** The schema lacks a field (e.g. a gateway without the verification module). */
  missingField(field: string): boolean {
    return this.message.includes(`Cannot query field "${field}"`)
  }
}

/** POSTs one query to /graphql and returns its data, or throws GraphqlError with the server's messages. */
export type Request = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>
