import { type DynamicModule, Global, Module } from '@nestjs/common'
import type { Config } from './config'

export const CONFIG = Symbol('CONFIG')

/** Makes the one validated config, read at start, available to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: Config): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] }
  }
}
