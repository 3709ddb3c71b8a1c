import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { jobMarketAbi } from '@computegraph/contracts/abis'
import { runActivity } from '@computegraph/contracts/activity'
import { ANVIL_KEYS } from '@computegraph/contracts/anvil'
import { actions, advanceTime, type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { type Browser, chromium, type Page } from 'playwright-core'
import { type Account, type Hex, parseEther } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../apps/gateway/src/graphql/testing/gateway'

// Callbacks given to page.evaluate run in the page; the root tsconfig has no DOM lib, so these are the few browser
// types they touch.
interface PageElement {
  dataset: Record<string, string | undefined>
  querySelector(selector: string): PageCanvas | null
}
interface PageCanvas {
  width: number
  height: number
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } }
}
declare const document: { querySelector(selector: string): PageElement | null }
declare function scrollTo(x: number, y: number): void

/** Debian's chromium package; `.ci/run` installs it. */
const CHROMIUM = '/usr/bin/chromium'
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DASHBOARD_DIR = path.join(ROOT, 'apps/dashboard')
const WORKER_MAIN = path.join(ROOT, 'gpu-worker/src/main.ts')
const SCREENSHOT = path.join(ROOT, 'test-results/dashboard.png')
// A laptop screen: the page must be readable here.
const VIEWPORT = { width: 1366, height: 768 }
// Conditions are waited for, never timed: these bounds only keep a broken run from hanging.
const WAIT = { timeout: 60_000 }

async function buildDashboard() {
  const vite = path.join(ROOT, 'node_modules/vite/bin/vite.js')
  await promisify(execFile)(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: DASHBOARD_DIR })
}

interface ChartState {
  points: number
  /** Pixels of the chart's first series colour on its canvas: what it drew from data, not its axes and grid. */
  seriesPixels: number
  data: Record<string, string>
}

/** Reads a chart's state as the page exposes it (data-* attributes) and what its canvas actually shows. */
function chartState(page: Page, name: string): Promise<ChartState> {
  return page.evaluate((chart) => {
    const el = document.querySelector(`[data-chart="${chart}"]`)
    if (!el) throw new Error(`no chart ${chart}`)
    const canvas = el.querySelector('canvas')
    const hex = el.dataset.colors?.split(',')[0] ?? ''
    const rgb = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16))
    let seriesPixels = 0
    if (canvas && canvas.width > 0 && canvas.height > 0) {
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i] === rgb[0] && pixels[i + 1] === rgb[1] && pixels[i + 2] === rgb[2] && pixels[i + 3] === 255) {
          seriesPixels++
        }
      }
    }
    return { points: Number(el.dataset.points), seriesPixels, data: { ...el.dataset } as Record<string, string> }
  }, name)
}

describe('the dashboard, in headless Chromium against a running demo', () => {
  let net: LocalNetwork
  let gateway: TestGateway
  let worker: ChildProcess | undefined
  let workerOutput = ''
  let browser: Browser | undefined
  let page: Page
  let origin: string
  let modelIds: Hex[]
  const requests: string[] = []
  const pageErrors: string[] = []
  const failedResponses: { url: string; status: number; body: string }[] = []
  const workerProvider = () => net.accounts[9] as Account
  const client = () => net.accounts[6] as Account

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: the dashboard's browser test drives Debian's chromium package. ` +
          'Run .ci/run, which installs it, or: apt-get install -y --no-install-recommends chromium',
      )
    }
    await buildDashboard()
    net = await startLocalNetwork()
    // Several hours of block time, so the hourly charts have many buckets and the daily ones more than one. The
    // chain's clock then runs that far ahead of the wall clocks the worker signs receipts with, as the demo's did.
    const log = await runActivity(net, {
      seed: 11,
      steps: 90,
      providers: [1, 2, 3, 4, 5],
      clients: [6, 7, 8],
      onStep: (step) => (step % 6 === 5 ? advanceTime(net, 3_600n) : undefined),
    })
    modelIds = log.modelIds
    await actions(net).onboardProvider(workerProvider())
    gateway = await startTestGateway({
      kind: 'postgres',
      net,
      env: { GATEWAY_PRIVATE_KEY: ANVIL_KEYS[0] as string, COMPUTE_HEARTBEAT_MS: '500', COMPUTE_SPOT_CHECK_SHARE: '0' },
    })
    origin = gateway.url.replace(/\/graphql$/, '')
    worker = spawn(
      process.execPath,
      ['--import', 'tsx', WORKER_MAIN, '--gateway', `${origin.replace(/^http/, 'ws')}/workers`],
      {
        cwd: ROOT,
        // JobMarket compares a receipt's expiresAt with block time, which the activity put days ahead of the wall
        // clock the worker signs with: its receipts must outlive that gap to be paid.
        env: { ...process.env, WORKER_PRIVATE_KEY: ANVIL_KEYS[9], WORKER_RECEIPT_TTL: String(30 * 86_400) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    worker.stdout?.on('data', (d) => {
      workerOutput += d
    })
    worker.stderr?.on('data', (d) => {
      workerOutput += d
    })
    await waitFor(
      async () => {
        const { body } = await gateway.query<{ workers: unknown[] }>('{ workers { id } }')
        return (body.data?.workers.length ?? 0) > 0
      },
      () => `the worker was not admitted:\n${workerOutput.slice(-2000)}`,
    )

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    })
    page = await browser.newPage({ viewport: VIEWPORT })
    page.on('request', (r) => requests.push(r.url()))
    page.on('pageerror', (e) => pageErrors.push(e.stack ?? e.message))
    page.on('console', (m) => {
      // Failed loads are checked one by one below; the Canvas2D hint is about this test's own pixel reads.
      if (/^Failed to load resource|^Canvas2D:/.test(m.text())) return
      if (m.type() === 'error' || m.type() === 'warning') pageErrors.push(`console.${m.type()}: ${m.text()}`)
    })
    page.on('response', (r) => {
      if (r.status() >= 400)
        failedResponses.push({ url: r.url(), status: r.status(), body: r.request().postData() ?? '' })
    })
    await page.goto(`${origin}/`)
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker?.once('exit', r))
      worker.kill('SIGKILL')
      await exited
    }
    await gateway?.close()
    await net?.stop()
  })

  it('draws the network charts with the indexed statistics', async () => {
    for (const name of ['stake', 'jobs', 'fees', 'rewards']) {
      await page.waitForFunction(
        (chart) => Number(document.querySelector(`[data-chart="${chart}"]`)?.dataset.points) > 0,
        name,
        WAIT,
      )
      const state = await chartState(page, name)
      expect(state.seriesPixels, `pixels of ${name}'s first series`).toBeGreaterThan(20)
    }
    const { body } = await gateway.query<{
      networkStats: unknown[]
      network: { jobCount: string; totalStake: string }
    }>(
      '{ networkStats(interval: hour, first: 1000, current: include) { id } network(id: "network") { jobCount totalStake } }',
    )
    const stats = body.data?.networkStats ?? []
    expect(stats.length).toBeGreaterThan(5)
    const jobs = await chartState(page, 'jobs')
    expect(jobs.points).toBe(stats.length)
    // Every job the network counts is in one of the hourly buckets the chart shows.
    expect(jobs.data.jobsCreated).toBe(body.data?.network.jobCount)
    expect((await chartState(page, 'stake')).data.latest).toBe(body.data?.network.totalStake)
  })

  it('shows the network totals with amounts scaled from 18 decimals', async () => {
    const { body } = await gateway.query<{ network: { totalStake: string; jobCount: string } }>(
      '{ network(id: "network") { totalStake jobCount } }',
    )
    const n = body.data?.network
    if (!n) throw new Error('no network entity')
    await expect.poll(() => page.textContent('#jobs-total'), WAIT).toBe(Number(n.jobCount).toLocaleString('en-US'))
    const cents = (BigInt(n.totalStake) + 5n * 10n ** 15n) / 10n ** 16n
    const shown = `${(cents / 100n).toLocaleString('en-US')}.${String(cents % 100n).padStart(2, '0')} CPT`
    expect(await page.textContent('#total-stake')).toBe(shown)
    expect(await page.textContent('#live-status')).toBe('live')
  })

  it('ranks providers by rewards, re-sorts by stake and opens a provider history', async () => {
    const top = async (order: string) => {
      const { body } = await gateway.query<{ providers: { id: string }[] }>(
        `{ providers(first: 1, orderBy: ${order}, orderDirection: desc) { id } }`,
      )
      return body.data?.providers[0]?.id
    }
    const firstRow = () => page.getAttribute('#providers-body tr:first-child', 'data-provider')
    await expect.poll(firstRow, WAIT).toBe(await top('rewardsEarned'))
    await page.click('button[data-order="stake"]')
    await expect.poll(firstRow, WAIT).toBe(await top('stake'))
    expect(await page.getAttribute('th[data-order="stake"]', 'aria-sort')).toBe('descending')

    const second = await page.getAttribute('#providers-body tr:nth-child(2)', 'data-provider')
    const { body } = await gateway.query<{ providerStats: unknown[] }>(
      `{ providerStats(interval: hour, first: 1000, current: include, where: { provider: "${second}" }) { id } }`,
    )
    const buckets = body.data?.providerStats.length ?? 0
    expect(buckets).toBeGreaterThan(0)
    await page.click('#providers-body tr:nth-child(2) button')
    await page.waitForFunction(
      ({ id, n }) => {
        const el = document.querySelector('[data-chart="provider"]')
        return el?.dataset.provider === id && Number(el.dataset.points) === n
      },
      { id: second, n: buckets },
      WAIT,
    )
    expect(await page.getAttribute('#providers-body tr:nth-child(2) button', 'aria-pressed')).toBe('true')
    // Even a provider with one bucket gets a visible mark, not an empty plot.
    expect((await chartState(page, 'provider')).seriesPixels).toBeGreaterThan(0)
  })

  it('switches the charts to daily buckets', async () => {
    const { body } = await gateway.query<{ networkStats: unknown[] }>(
      '{ networkStats(interval: day, first: 1000, current: include) { id } }',
    )
    await page.click('button[data-interval="day"]')
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-chart="jobs"]')?.dataset.points) === n,
      body.data?.networkStats.length,
      WAIT,
    )
    expect(await page.getAttribute('button[data-interval="day"]', 'aria-pressed')).toBe('true')
    await page.click('button[data-interval="hour"]')
  })

  it('lists the connected worker with its device and models', async () => {
    const row = page.locator('#workers-body tr[data-worker]')
    await expect.poll(() => row.count(), WAIT).toBe(1)
    const provider = (await row.locator('th').getAttribute('title')) ?? ''
    expect(provider.toLowerCase()).toBe(workerProvider().address.toLowerCase())
    expect(await row.textContent()).toMatch(/CPU/)
    expect(await row.textContent()).toMatch(/serving/)
    const { body } = await gateway.query<{ workers: { models: { name: string }[] }[] }>(
      '{ workers { models { name } } }',
    )
    for (const m of body.data?.workers[0]?.models ?? []) expect(await row.textContent()).toContain(m.name)
  })

  it('shows a job created on-chain without a reload, then its completion and receipt', async () => {
    const act = actions(net)
    const before = Number((await chartState(page, 'jobs')).data.jobsCreated)
    const deadline = (await act.latestTimestamp()) + 86_400n
    await act.createJob(client(), {
      modelId: modelIds[0] as Hex,
      inputHash: '0x1111111111111111111111111111111111111111111111111111111111111111',
      payment: parseEther('7'),
      deadline,
    })
    // The chain's own counter names the job; the page has to learn of it from the gateway.
    const id = String(await jobCount(net))

    const row = page.locator(`#jobs-body tr[data-job-id="${id}"]`)
    await row.waitFor(WAIT)
    expect(await row.getAttribute('data-status')).toBe('OPEN')
    expect(await page.textContent('#announcer')).toContain(`New job ${id}`)
    expect(await row.textContent()).toContain('7.00')
    expect(await page.getAttribute('#jobs-body tr:first-child', 'data-job-id')).toBe(id)
    // The current hour's bucket counts it too.
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-chart="jobs"]')?.dataset.jobsCreated) === n,
      before + 1,
      WAIT,
    )

    const p = workerProvider()
    await act.assignJob(p, BigInt(id), p.address)
    await act.completeJob(p, BigInt(id))
    await expect.poll(() => row.getAttribute('data-status'), WAIT).toBe('COMPLETED')
    const indexed = await gateway.query<{ job: { receiptDigest: string } }>(`{ job(id: "${id}") { receiptDigest } }`)
    const digest = indexed.body.data?.job.receiptDigest
    expect(digest).toMatch(/^0x[0-9a-f]{64}$/)
    expect(await row.locator('td[data-receipt]').getAttribute('data-receipt')).toBe(digest)
    // Without verifyReceipt on this gateway the column says so; with it, the receipt JobMarket paid is not held here.
    await expect
      .poll(() => row.locator('td[data-verdict]').getAttribute('data-verdict'), WAIT)
      .toMatch(/^(unavailable|on-chain|valid)$/)

    await page.evaluate(() => scrollTo(0, 0))
    await mkdir(path.dirname(SCREENSHOT), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
  })

  it('marks a job the gateway computed "verified", with the chain’s clock hours ahead of the worker’s', async () => {
    const act = actions(net)
    const wall = BigInt(Math.floor(Date.now() / 1000))
    expect((await act.latestTimestamp()) - wall).toBeGreaterThan(3_600n)
    const upload = await fetch(`${origin}/v1/jobs/inputs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'price-direction-logistic', input: [[0.1, -0.4, 1.2, 0.9, 1.1, 0.8, -0.3, 45]] }),
    })
    expect(upload.status).toBe(201)
    const { inputHash, modelId } = (await upload.json()) as { inputHash: Hex; modelId: Hex }
    // The activity may have registered the model already.
    await act.registerModel(client(), modelId, 'computegraph://price-direction-logistic').catch(() => {})
    await act.createJob(client(), {
      modelId,
      inputHash,
      payment: parseEther('3'),
      deadline: (await act.latestTimestamp()) + 86_400n,
    })
    const id = String(await jobCount(net))
    // The gateway assigns the job to its worker, which computes it; the gateway submits the receipt and holds it.
    const row = page.locator(`#jobs-body tr[data-job-id="${id}"]`)
    await expect.poll(() => row.getAttribute('data-status'), WAIT).toBe('COMPLETED')
    const verdict = row.locator('td[data-verdict]')
    await expect.poll(() => verdict.getAttribute('data-verdict'), WAIT).toBe('valid')
    expect(await verdict.textContent()).toBe('verified')
    expect(await verdict.locator('span').getAttribute('title')).toContain(
      `attested by the trusted gateway ${net.deployment.dispatcher}`,
    )
  }, 180_000)

  it('runs without script errors, and its only failed request is the probe for receipt verification', () => {
    expect(pageErrors).toEqual([])
    // This gateway has no `receipt` query: asking for it is how the page learns that (HTTP 400, validation failed).
    for (const r of failedResponses) {
      expect(r.status).toBe(400)
      expect(r.body).toMatch(/receipt\(digest:/)
    }
    expect(failedResponses.length).toBeLessThanOrEqual(1)
  })

  it('serves the GraphiQL explorer from its own files: it runs a query with every other host unreachable', async () => {
    const explorer = await (browser as Browser).newPage({ viewport: VIEWPORT })
    const foreign: string[] = []
    const errors: string[] = []
    explorer.on('pageerror', (e) => errors.push(e.stack ?? e.message))
    // A blocked font or script (the content security policy) is reported on the console.
    explorer.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console.error: ${m.text().slice(0, 300)}`)
    })
    // The network cable pulled: anything not from the gateway fails to load.
    await explorer.route('**/*', (route) => {
      const url = route.request().url()
      if (url.startsWith(origin) || url.startsWith('data:')) return route.continue()
      foreign.push(url)
      return route.abort('internetdisconnected')
    })
    try {
      const schemaLoaded = explorer.waitForResponse(
        (r) => r.url() === `${origin}/graphql` && /IntrospectionQuery/.test(r.request().postData() ?? ''),
      )
      await explorer.goto(`${origin}/explorer`)
      expect((await schemaLoaded).status()).toBe(200)
      await explorer.locator('.graphiql-execute-button').click()
      await explorer.locator('.result-window').getByText('"jobs"').waitFor({ timeout: 30_000 })
      const result = (await explorer.locator('.result-window').textContent()) ?? ''
      expect(result).toContain('"provider"')
      expect(result).not.toContain('"errors"')
      expect(foreign).toEqual([])
      expect(errors).toEqual([])
    } finally {
      await explorer.close()
    }
  }, 120_000)

  it('loads everything from the gateway itself: no fonts, scripts or data from elsewhere', () => {
    expect(requests.length).toBeGreaterThan(0)
    const foreign = requests.filter((url) => !url.startsWith(origin) && !url.startsWith('data:'))
    expect(foreign).toEqual([])
  })
})

function jobCount(net: LocalNetwork): Promise<bigint> {
  return net.publicClient.readContract({
    address: net.addresses.jobMarket,
    abi: jobMarketAbi,
    functionName: 'jobCount',
  })
}

async function waitFor(check: () => Promise<boolean>, message: () => string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(message())
    await new Promise((r) => setTimeout(r, 100))
  }
}
