import { Controller, Get, Inject, Param, Res } from '@nestjs/common'
import { assetPath, BUILD_COMMAND, CONTENT_SECURITY_POLICY, isBuilt } from './dashboard-files'

export const DASHBOARD_DIR = Symbol('DASHBOARD_DIR')

/** The slice of express's response this controller uses. */
interface Response {
  status(code: number): Response
  type(type: string): Response
  send(body: string): void
  setHeader(name: string, value: string): void
  headersSent: boolean
  sendFile(file: string, callback: (error?: Error & { status?: number }) => void): void
}

/** Serves the analysts' dashboard (apps/dashboard, built by Vite) at `/`; it reads /graphql on the same origin. */
@Controller()
export class DashboardController {
  constructor(@Inject(DASHBOARD_DIR) private readonly dist: string) {}

  @Get()
  index(@Res() res: Response) {
    res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY)
    if (!isBuilt(this.dist)) {
      res
        .status(503)
        .type('text/plain')
        .send(
          `The dashboard is not built: ${this.dist} has no index.html.\n` +
            `Run \`${BUILD_COMMAND}\` (npm start does it first). GraphQL is at /graphql.\n`,
        )
      return
    }
    // index.html names the hashed assets of the current build: never cached without asking.
    res.setHeader('cache-control', 'no-cache')
    this.send(res, `${this.dist}/index.html`)
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() res: Response) {
    const file = assetPath({ dist: this.dist, name })
    if (!file) {
      res.status(404).type('text/plain').send('Not found')
      return
    }
    res.setHeader('cache-control', 'public, max-age=31536000, immutable')
    this.send(res, file)
  }

  private send(res: Response, file: string) {
    res.sendFile(file, (error) => {
      if (!error || res.headersSent) return
      res
        .status(error.status === 404 || (error as { code?: string }).code === 'ENOENT' ? 404 : 500)
        .type('text/plain')
        .send('Not found')
    })
  }
}
