import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common'
import { isClientError } from '../graphql/graphql.errors'
import { ComputeService } from './compute.service'
import type { InferRequest } from './infer-input'

/** The slice of express's response this controller uses. */
interface Response {
  status(code: number): Response
  json(body: unknown): void
  setHeader(name: string, value: string): void
}

const STATUS: Record<string, number> = { BAD_USER_INPUT: 400, NOT_FOUND: 404, RATE_LIMITED: 429, UNAVAILABLE: 503 }

/** Plain HTTP for bots: one round trip for a prediction and its receipt. Errors are `{ error: { code, reason, message } }`. */
@Controller('v1')
export class ComputeController {
  constructor(@Inject(ComputeService) private readonly compute: ComputeService) {}

  /** Runs an inference; `?wait=false` accepts it and answers 202 with its id, to fetch from /v1/requests/:id. */
  @Post('infer')
  async infer(@Body() body: InferRequest, @Query('wait') wait: string | undefined, @Res() res: Response) {
    await reply(res, async () => {
      const outcome = await this.compute.infer(body ?? {}, { wait: wait !== 'false' && wait !== '0' })
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
    const reason = 'reason' in error ? (error as { reason?: string }).reason : undefined
    if (error.code === 'RATE_LIMITED' || reason === 'WORKERS_BUSY') res.setHeader('retry-after', '1')
    res.status(STATUS[error.code] ?? 400).json({ error: { code: error.code, reason, message: error.message } })
  }
}
