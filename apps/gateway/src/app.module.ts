import { type DynamicModule, Module } from '@nestjs/common'
import { COMPUTE_SCHEMA } from './compute/compute.graphql'
import { ComputeModule } from './compute/compute.module'
import { VerificationModule } from './compute/verification/verification.module'
import { VERIFICATION_SCHEMA } from './compute/verification/verification.schema'
import type { Config } from './config/config'
import { ConfigModule } from './config/config.module'
import { DashboardModule } from './dashboard/dashboard.module'
import { DbModule } from './db/db.module'
import { GraphqlModule } from './graphql/graphql.module'
import { HealthController } from './health/health.controller'
import { IndexerModule } from './indexer/indexer.module'
import { MetricsModule } from './metrics/metrics.module'

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DbModule,
        IndexerModule,
        GraphqlModule.forRoot({
          imports: [ComputeModule, VerificationModule],
          extensions: [COMPUTE_SCHEMA, VERIFICATION_SCHEMA],
        }),
        ...(config.metrics.enabled ? [MetricsModule] : []),
        DashboardModule,
      ],
      controllers: [HealthController],
    }
  }
}
