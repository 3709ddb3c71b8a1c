import { customType } from 'drizzle-orm/pg-core'

/** uint256 amounts: numeric(78,0) in Postgres, bigint in code, never a JavaScript number. */
export const uint256 = customType<{ data: bigint; driverData: string }>({
  dataType: () => 'numeric(78, 0)',
  toDriver: (value) => value.toString(),
  fromDriver: (value) => BigInt(value),
})
