import { Controller, Get, Header, Inject } from '@nestjs/common'
import { Registry } from 'prom-client'
import { MetricsService } from './metrics.service'

/** Prometheus scrape endpoint. */
@Controller()
export class MetricsController {
  constructor(@Inject(MetricsService) private readonly metrics: MetricsService) {}

  /** The gateway's and the process's metrics in Prometheus text format. */
  @Get('metrics')
  @Header('content-type', Registry.PROMETHEUS_CONTENT_TYPE)
  render() {
    return this.metrics.render()
  }
}
