import { Module } from '@nestjs/common'
import { IndexerModule } from '../indexer/indexer.module'
import { GraphqlMetricsPlugin } from './graphql-metrics.plugin'
import { MetricsController } from './metrics.controller'
import { MetricsService } from './metrics.service'

/** GET /metrics for Prometheus: GraphQL traffic, indexer progress and the process's own metrics. */
@Module({
  imports: [IndexerModule],
  controllers: [MetricsController],
  providers: [MetricsService, GraphqlMetricsPlugin],
})
export class MetricsModule {}
