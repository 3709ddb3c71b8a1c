import type { IncomingHttpHeaders } from 'node:http'
import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common'
import type { Config } from '../config/config'
import { CONFIG } from '../config/config.module'
import { httpStatusOf, restErrorBody } from '../graphql/error-formatter'
import { isClientError } from '../graphql/graphql.errors'
import { ComputeService } from './compute.service'
import type { InferRequest } from './infer-input'
import { apiKeyOf } from './request-id'

/** The slice of express's response this controller uses. */
interface Response {
  status(code: number): Response
  json(body: unknown): void
  setHeader(name: string, value: string): void
}

/** Plain HTTP for bots: one round trip for a prediction and its receipt. Errors are `{ error: { code, reason, message } }`. */
@Controller('v1')
export class ComputeController {
  constructor(
    @Inject(ComputeService) private readonly compute: ComputeService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** Runs an inference; `?wait=false` accepts it and answers 202 with its id, to fetch from /v1/requests/:id. */
  @Post('infer')
  async infer(
    @Body() body: InferRequest,
    @Query('wait') wait: string | undefined,
    @Headers() headers: IncomingHttpHeaders,
    @Res() res: Response,
  ) {
    const apiKey = apiKeyOf({ headers, apiKeyHeader: this.config.graphql.rateLimit.apiKeyHeader })
    await reply(res, async () => {
      const outcome = await this.compute.infer(body ?? {}, { wait: wait !== 'false' && wait !== '0', apiKey })
      return { status: outcome.status === 'completed' ? 200 : outcome.status === 'failed' ? 502 : 202, body: outcome }
    })
  }

  @Get('requests/:id')
  async request(@Param('id') id: string, @Res() res: Response) {
    await reply(res, async () => ({ status: 200, body: await this.compute.request(id) }))
  }

  /** Stores the request body of an on-chain job under its hash; answers the hash to put in createJob. */
  @Post('jobs/inputs')
  @HttpCode(201)
  async jobInput(@Body() body: InferRequest, @Res() res: Response) {
    await reply(res, async () => ({ status: 201, body: await this.compute.saveJobInput(body ?? {}) }))
  }

  @Get('models')
  models() {
    return this.compute.models()
  }

  @Get('workers')
  workers() {
    return this.compute.workers()
  }
}

async function reply(res: Response, run: () => Promise<{ status: number; body: unknown }>) {
  try {
    const { status, body } = await run()
    res.status(status).json(body)
  } catch (error) {
    if (!isClientError(error)) {
      res.status(500).json({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } })
      throw error
    }
    const body = restErrorBody(error)
    if (error.code === 'RATE_LIMITED' || body.error.reason === 'WORKERS_BUSY') res.setHeader('retry-after', '1')
    res.status(httpStatusOf(error)).json(body)
  }
}
