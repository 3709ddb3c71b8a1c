import 'reflect-metadata'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type INestApplication, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DASHBOARD_DIR, DashboardController, EXPLORER_ENABLED } from './dashboard.controller'

async function serve(dist: string, explorer = true): Promise<{ app: INestApplication; base: string }> {
  @Module({
    controllers: [DashboardController],
    providers: [
      { provide: DASHBOARD_DIR, useValue: dist },
      { provide: EXPLORER_ENABLED, useValue: explorer },
    ],
  })
  class TestDashboardModule {}
  const app = await NestFactory.create(TestDashboardModule, { logger: false })
  await app.listen(0, '127.0.0.1')
  const { port } = app.getHttpServer().address() as AddressInfo
  return { app, base: `http://127.0.0.1:${port}` }
}

describe('the gateway serving the dashboard', () => {
  let dir: string
  let built: { app: INestApplication; base: string }
  let missing: { app: INestApplication; base: string }
  let noExplorer: { app: INestApplication; base: string }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cg-dashboard-'))
    await mkdir(path.join(dir, 'dist/assets'), { recursive: true })
    await writeFile(path.join(dir, 'dist/index.html'), '<!doctype html><title>dashboard</title>')
    await writeFile(path.join(dir, 'dist/explorer.html'), '<!doctype html><title>explorer</title>')
    await writeFile(path.join(dir, 'dist/assets/index-abc123.js'), 'console.log(1)')
    await writeFile(path.join(dir, 'secret.js'), 'outside dist')
    built = await serve(path.join(dir, 'dist'))
    missing = await serve(path.join(dir, 'not-built'))
    noExplorer = await serve(path.join(dir, 'dist'), false)
  })

  afterAll(async () => {
    await built?.app.close()
    await missing?.app.close()
    await noExplorer?.app.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('answers / with index.html, revalidated, under a same-origin content security policy', async () => {
    const res = await fetch(`${built.base}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/text\/html/)
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/)
    expect(await res.text()).toContain('<title>dashboard</title>')
  })

  it('serves hashed assets with long-lived caching', async () => {
    const res = await fetch(`${built.base}/assets/index-abc123.js`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/javascript/)
    expect(res.headers.get('cache-control')).toMatch(/immutable/)
  })

  it('answers 404 for unknown assets and for paths that try to leave the assets folder', async () => {
    expect((await fetch(`${built.base}/assets/nope.js`)).status).toBe(404)
    expect((await fetch(`${built.base}/assets/..%2F..%2Fsecret.js`)).status).toBe(404)
    expect((await fetch(`${built.base}/assets/..%2Findex.html`)).status).toBe(404)
  })

  it('says how to build the dashboard when it is not built', async () => {
    const res = await fetch(`${missing.base}/`)
    expect(res.status).toBe(503)
    expect(await res.text()).toMatch(/npm run build -w @computegraph\/dashboard/)
  })

  it('serves the GraphiQL explorer at /explorer under the same policy, and a 404 naming the switch where it is off', async () => {
    const res = await fetch(`${built.base}/explorer`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/)
    expect(await res.text()).toContain('<title>explorer</title>')
    const off = await fetch(`${noExplorer.base}/explorer`)
    expect(off.status).toBe(404)
    expect(await off.text()).toMatch(/GRAPHQL_GRAPHIQL=1/)
    expect((await fetch(`${noExplorer.base}/`)).status).toBe(200)
  })
})
