import { Controller, Get, Inject, Param, Res } from '@nestjs/common'
import { assetPath, BUILD_COMMAND, CONTENT_SECURITY_POLICY, isBuilt } from './dashboard-files'

export const DASHBOARD_DIR = Symbol('DASHBOARD_DIR')
/** Whether `/explorer` serves GraphiQL (config.graphql.graphiql). */
export const EXPLORER_ENABLED = Symbol('EXPLORER_ENABLED')

/** The slice of express's response this controller uses. */
interface Response {
  status(code: number): Response
  type(type: string): Response
  send(body: string): void
  setHeader(name: string, value: string): void
  headersSent: boolean
  sendFile(file: string, callback: (error?: Error & { status?: number }) => void): void
}

/**
 * Serves the analysts' dashboard (apps/dashboard, built by Vite) at `/` and, where enabled, the GraphiQL explorer at
 * `/explorer`; both read /graphql on the same origin and load nothing from elsewhere.
 */
@Controller()
export class DashboardController {
  constructor(
    @Inject(DASHBOARD_DIR) private readonly dist: string,
    @Inject(EXPLORER_ENABLED) private readonly explorer: boolean,
  ) {}

  @Get()
  index(@Res() res: Response) {
    this.page(res, 'index.html')
  }

  @Get('explorer')
  explorerPage(@Res() res: Response) {
    if (!this.explorer) {
      res.status(404).type('text/plain').send('The GraphQL explorer is off on this gateway (GRAPHQL_GRAPHIQL=1).\n')
      return
    }
    this.page(res, 'explorer.html')
  }

  private page(res: Response, name: string) {
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
    this.send(res, `${this.dist}/${name}`)
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
