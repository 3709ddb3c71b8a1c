import type { Server } from 'node:http'
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import { startWsServer, type WsServerOptions } from './ws-server'

/** Serves graphql-ws on the Nest HTTP server once the GraphQL options have handed it the schema. */
@Injectable()
export class WsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('GraphQL')
  private options?: Omit<WsServerOptions, 'server' | 'log'>
  private running?: { close(): Promise<void> }

  constructor(@Inject(HttpAdapterHost) private readonly host: HttpAdapterHost) {}

  configure(options: Omit<WsServerOptions, 'server' | 'log'>): void {
    this.options = options
  }

  onApplicationBootstrap(): void {
    if (!this.options) return
    const server = this.host.httpAdapter.getHttpServer() as Server
    this.running = startWsServer({ ...this.options, server, log: (m) => this.logger.error(m) })
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running?.close()
  }
}
