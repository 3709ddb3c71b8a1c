import { Module } from '@nestjs/common'
import type { Config } from '../config/config'
import { CONFIG } from '../config/config.module'
import { DASHBOARD_DIR, DashboardController, EXPLORER_ENABLED } from './dashboard.controller'
import { DASHBOARD_DIST } from './dashboard-files'

/** The dashboard's static files at `/`, the explorer at `/explorer`, `/assets/*`; every other path stays with the API. */
@Module({
  controllers: [DashboardController],
  providers: [
    { provide: DASHBOARD_DIR, useValue: DASHBOARD_DIST },
    { provide: EXPLORER_ENABLED, inject: [CONFIG], useFactory: (config: Config) => config.graphql.graphiql },
  ],
})
export class DashboardModule {}
