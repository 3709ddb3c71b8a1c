import { Module } from '@nestjs/common'
import { DASHBOARD_DIR, DashboardController } from './dashboard.controller'
import { DASHBOARD_DIST } from './dashboard-files'

/** The dashboard's static files at `/` and `/assets/*`; every other path stays with the API. */
@Module({
  controllers: [DashboardController],
  providers: [{ provide: DASHBOARD_DIR, useValue: DASHBOARD_DIST }],
})
export class DashboardModule {}
