import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where `npm run build -w @computegraph/dashboard` writes the page: apps/dashboard/dist. */
export const DASHBOARD_DIST = fileURLToPath(new URL('../../../dashboard/dist', import.meta.url))

export const BUILD_COMMAND = 'npm run build -w @computegraph/dashboard'

// Vite names every asset by its content hash under assets/; anything else is not ours to serve.
const ASSET_NAME = /^[\w.-]+\.(js|css|svg|woff2?|png)$/

// The page loads nothing from elsewhere; the policy makes that a promise the browser keeps.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  // GraphiQL's fonts are inlined as data: URLs.
  "font-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** The file for GET /assets/:name, or undefined for a name that is not a plain asset file name. */
export function assetPath({ dist, name }: { dist: string; name: string }): string | undefined {
  if (!ASSET_NAME.test(name) || name.startsWith('.')) return undefined
  return path.join(dist, 'assets', name)
}

export function isBuilt(dist: string): boolean {
  return existsSync(path.join(dist, 'index.html'))
}
