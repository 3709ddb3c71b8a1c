export * from '../generated/abis'
export * from './deploy'
export { CONTRACT_NAMES, type ContractName } from './names'
export * from './receipts'
