import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common'
import type { Config } from '../config/config'
import { CONFIG } from '../config/config.module'
import { type Database, openDatabase } from './database'

export const DATABASE = Symbol('DATABASE')

@Global()
@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [CONFIG],
      useFactory: (config: Config) =>
        openDatabase({
          databaseUrl: config.databaseUrl,
          dataDir: config.dataDir,
          statementTimeoutMs: config.graphql.statementTimeoutMs,
        }),
    },
  ],
  exports: [DATABASE],
})
export class DbModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close()
  }
}
