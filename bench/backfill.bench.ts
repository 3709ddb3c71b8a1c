// Backfill of >= 200k events from anvil into Postgres: the indexer's events/s and peak memory, beside the raw
// eth_getLogs+decode rate and the raw Postgres COPY rate measured on the same data in the same run.
// The indexer runs twice: as it does (query indexes built after catch-up) and with them in place from the start.
// `npm run bench -- backfill` (BENCH_EVENTS to change the size).
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ANVIL_KEYS } from '@computegraph/contracts/anvil'
import { writeDeployment } from '@computegraph/contracts/deploy'
import { actions, send, startLocalNetwork } from '@computegraph/contracts/fixture'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { type Abi, type Hex, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createScratchDatabase, openDatabase } from '../apps/gateway/src/db/database'
import { buildQueryIndexes } from '../apps/gateway/src/db/query-index-builder'
import { queryIndexes } from '../apps/gateway/src/db/query-indexes'
import { loadIndexDeclaration, loadSchemaModel } from '../apps/gateway/src/db/schema-file'
import { TEST_POSTGRES_URL } from '../apps/gateway/src/db/testing'
import { decodeLog } from '../apps/gateway/src/indexer/events'
import { ChainRpc } from '../apps/gateway/src/indexer/rpc'

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))
const TARGET_EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000)
// anvil's time per block grows with the logs already on the chain, so fewer, fuller blocks generate much faster.
const EVENTS_PER_BLOCK = 1000
const RANGE = 10 // blocks per eth_getLogs: ~10k logs, for the raw baseline and the indexer's first request

// A load generator that makes the real contracts emit events: one call creates jobs and tops up a stake.
const LOAD_GENERATOR = `
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
interface IToken { function approve(address, uint256) external returns (bool); }
interface IStaking { function register(string calldata) external; function stake(uint256) external; }
interface IMarket {
  function registerModel(bytes32, string calldata) external;
  function createJob(bytes32, uint8, bytes32, uint256, uint64) external returns (uint256);
}
contract LoadGenerator {
  IStaking immutable staking; IMarket immutable market; bytes32 immutable modelId;
  constructor(IToken token, IStaking staking_, IMarket market_) {
    staking = staking_; market = market_; modelId = keccak256(abi.encode(address(this)));
    token.approve(address(staking_), type(uint256).max);
    token.approve(address(market_), type(uint256).max);
    staking_.register("ipfs://load-generator");
    market_.registerModel(modelId, "ipfs://bench-model");
  }
  function run(uint256 jobs, uint256 stakes, uint256 salt) external {
    for (uint256 i = 0; i < jobs; i++) market.createJob(modelId, 0, keccak256(abi.encode(salt, i)), 1 + i, uint64(block.timestamp + 1 days));
    for (uint256 i = 0; i < stakes; i++) staking.stake(1 + i);
  }
}`

function compileLoadGenerator(): { abi: Abi; bytecode: Hex } {
  const solc = require('solc') as { compile(input: string): string }
  const out = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: 'Solidity',
        sources: { 'LoadGenerator.sol': { content: LOAD_GENERATOR } },
        settings: {
          optimizer: { enabled: true, runs: 200 },
          outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
        },
      }),
    ),
  )
  const c = out.contracts['LoadGenerator.sol'].LoadGenerator
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

async function main() {
  const net = await startLocalNetwork({ anvil: { args: ['--gas-limit', '1000000000'] } })
  const dir = await mkdtemp(path.join(tmpdir(), 'cg-bench-'))
  const scratch: { drop(): Promise<void> }[] = []
  try {
    const admin = privateKeyToAccount(ANVIL_KEYS[0])
    const wallet = net.wallet(admin)
    const gen = compileLoadGenerator()
    const hash = await wallet.deployContract({
      abi: gen.abi,
      bytecode: gen.bytecode,
      args: [net.addresses.token, net.addresses.staking, net.addresses.jobMarket],
      account: admin,
      chain: net.chain,
    })
    const receipt = await net.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 })
    const generator = receipt.contractAddress as Hex
    await actions(net).mint(generator, parseEther('1000000000'))

    // Generate: each block holds EVENTS_PER_BLOCK events (half jobs, half stakes).
    const t0 = performance.now()
    const blocks = Math.ceil(TARGET_EVENTS / EVENTS_PER_BLOCK)
    for (let b = 0; b < blocks; b++) {
      await send(
        net,
        wallet.writeContract({
          address: generator,
          abi: gen.abi,
          functionName: 'run',
          args: [BigInt(EVENTS_PER_BLOCK / 2), BigInt(EVENTS_PER_BLOCK / 2), BigInt(b)],
          account: admin,
          chain: net.chain,
          gas: BigInt(EVENTS_PER_BLOCK) * 200_000n,
        }),
      )
    }
    const head = await net.publicClient.getBlockNumber()
    const generateSecs = (performance.now() - t0) / 1000
    const deploymentFile = path.join(dir, 'deployment.json')
    await writeDeployment(deploymentFile, net.deployment)

    // Raw fetch + decode with the same RPC client, ranges and parallelism the indexer uses.
    const rpc = new ChainRpc({ urls: [net.anvil.rpcUrl], timeoutMs: 60_000, maxAttempts: 3 })
    const addresses = [net.addresses.staking, net.addresses.jobMarket, net.addresses.rewardPool]
    const t1 = performance.now()
    let fetched = 0
    const rows: string[] = []
    const ranges: [bigint, bigint][] = []
    for (let from = 1n; from <= head; from += BigInt(RANGE)) ranges.push([from, from + BigInt(RANGE) - 1n])
    for (let i = 0; i < ranges.length; i += 4) {
      const chunks = await Promise.all(
        ranges.slice(i, i + 4).map(([from, to]) => rpc.getLogs({ addresses, fromBlock: from, toBlock: to })),
      )
      for (const logs of chunks) {
        for (const log of logs) {
          const e = decodeLog(log, net.deployment.chainId, log.blockTimestamp ?? 0n)
          if (e) {
            fetched++
            if (rows.length < TARGET_EVENTS * 2) {
              rows.push(
                `${e.chainId}\t${e.blockNumber}\t${e.logIndex}\t${e.blockHash}\t${e.transactionHash}\t${e.transactionIndex}\t${e.address}\t${e.contract}\t${e.name}\t{}\t${e.timestamp}\n`,
              )
            }
          }
        }
      }
    }
    const rawFetchSecs = (performance.now() - t1) / 1000

    // Raw COPY of the same events into a table shaped like chain_event.
    const copyDb = await createScratchDatabase(TEST_POSTGRES_URL)
    scratch.push(copyDb)
    const client = new pg.Client({ connectionString: copyDb.url })
    await client.connect()
    await client.query(`create table ev (chain_id int, block_number int8, log_index int, block_hash text,
      transaction_hash text, transaction_index int, address text, contract text, name text, args jsonb, timestamp int8,
      primary key (chain_id, block_number, log_index))`)
    const t2 = performance.now()
    await new Promise<void>((resolve, reject) => {
      const stream = client.query(copyFrom('copy ev from stdin'))
      stream.on('error', reject)
      stream.on('finish', () => resolve())
      // One write per 5k rows: the stream's per-write overhead is not what we are measuring.
      for (let i = 0; i < rows.length; i += 5_000) stream.write(rows.slice(i, i + 5_000).join(''))
      stream.end()
    })
    const copySecs = (performance.now() - t2) / 1000
    await client.end()

    // The indexer, as its own process, from scratch into a fresh Postgres database: as it runs (query indexes built
    // after catch-up), and with the query indexes in place from the start, as if the migrations created them.
    const indexOnce = async ({ queryIndexesFirst }: { queryIndexesFirst: boolean }) => {
      const indexDb = await createScratchDatabase(TEST_POSTGRES_URL)
      scratch.push(indexDb)
      const migrated = await openDatabase({ databaseUrl: indexDb.url, dataDir: dir })
      if (queryIndexesFirst) {
        const indexes = queryIndexes({ model: loadSchemaModel(), declaration: loadIndexDeclaration() })
        await buildQueryIndexes({ database: migrated, indexes })
      }
      await migrated.close()
      const child = spawn(
        process.execPath,
        ['--import', require.resolve('tsx'), path.join(here, '../apps/gateway/src/indexer/indexer.cli.ts')],
        {
          env: {
            ...process.env,
            RPC_URL: net.anvil.rpcUrl,
            DATABASE_URL: indexDb.url,
            DEPLOYMENT_FILE: deploymentFile,
            FINALITY: '0',
            GETLOGS_INITIAL_RANGE: String(RANGE),
            POLL_INTERVAL_MS: '50',
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      )
      const spawned = performance.now()
      // The clock starts when the indexer holds the lock and is about to fetch: process boot is reported apart.
      let ready = 0
      child.stdout?.on('data', (chunk: Buffer) => {
        if (!ready && /lock acquired/.test(chunk.toString())) ready = performance.now()
      })
      const probe = new pg.Client({ connectionString: indexDb.url })
      await probe.connect()
      let peakRss = 0
      for (;;) {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
        peakRss = Math.max(peakRss, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024)
        const r = await probe.query('select block_number from sync_state')
        if (r.rows[0] && BigInt(r.rows[0].block_number) >= head) break
        if (child.exitCode !== null) throw new Error(`indexer exited with ${child.exitCode}`)
        await new Promise((res) => setTimeout(res, 25))
      }
      const end = performance.now()
      const counted = await probe.query('select count(*)::int as n from chain_event')
      await probe.end()
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
      const indexed = counted.rows[0].n as number
      if (indexed !== fetched) throw new Error(`indexed ${indexed} events, but the chain has ${fetched}`)
      return { indexed, indexSecs: (end - ready) / 1000, bootSecs: (ready - spawned) / 1000, peakRss }
    }
    const { indexed, indexSecs, bootSecs, peakRss } = await indexOnce({ queryIndexesFirst: false })
    const withIndexes = await indexOnce({ queryIndexesFirst: true })

    const rawRate = fetched / rawFetchSecs
    const indexRate = indexed / indexSecs
    console.log(`${fmt(fetched)} events in ${fmt(blocks)} blocks (generated in ${generateSecs.toFixed(0)} s)\n`)
    console.log('| measure | events | seconds | events/s | vs raw getLogs+decode |')
    console.log('| --- | ---: | ---: | ---: | ---: |')
    console.log(
      `| raw eth_getLogs + decode (viem, ${RANGE}-block ranges, 4 in parallel) | ${fmt(fetched)} | ${rawFetchSecs.toFixed(2)} | ${fmt(rawRate)} | 100% |`,
    )
    console.log(
      `| raw Postgres COPY into an event table | ${fmt(rows.length)} | ${copySecs.toFixed(2)} | ${fmt(rows.length / copySecs)} | — |`,
    )
    console.log(
      `| computegraph indexer backfill (events, entities, cursor) | ${fmt(indexed)} | ${indexSecs.toFixed(2)} | ${fmt(indexRate)} | ${((indexRate / rawRate) * 100).toFixed(0)}% |`,
    )
    const withRate = withIndexes.indexed / withIndexes.indexSecs
    console.log(
      `| the same with the query indexes in place from the start | ${fmt(withIndexes.indexed)} | ${withIndexes.indexSecs.toFixed(2)} | ${fmt(withRate)} | ${((withRate / rawRate) * 100).toFixed(0)}% |`,
    )
    console.log(
      `\nindexer process boot before indexing (tsx, imports, migrations check, lock): ${bootSecs.toFixed(2)} s`,
    )
    console.log(`indexer peak RSS (VmHWM): ${(peakRss / 2 ** 20).toFixed(0)} MB`)
  } finally {
    for (const s of scratch) await s.drop().catch(() => {})
    await rm(dir, { recursive: true, force: true })
    await net.stop()
  }
}

await main()
