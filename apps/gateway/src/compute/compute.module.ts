import { Inject, Module } from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import type { Config } from '../config/config'
import { CONFIG } from '../config/config.module'
import { jsonBody, rateLimit, wellFormedPath } from '../graphql/http-guards'
import { IndexerModule } from '../indexer/indexer.module'
import { ComputeController } from './compute.controller'
import { COMPUTE_SCHEMA, computeSchema } from './compute.graphql'
import { ComputeRepository } from './compute.repository'
import { ComputeService } from './compute.service'
import { COMPUTE_CHAIN, computeChainRef } from './compute-chain.provider'
import { COMPUTE_IDENTITY, type ComputeIdentity, loadComputeIdentity } from './compute-identity'
import { InferenceService } from './inference.service'
import { JobDispatcherService } from './job-dispatcher.service'
import { ModelCatalog } from './model-catalog'
import { SPOT_CHECKER } from './spot-check'
import { SpotCheckService } from './spot-check.service'
import { TrainingService } from './training.service'
import { VerificationModule } from './verification/verification.module'
import { WorkerGatewayService } from './worker-gateway.service'
import { WorkerPool } from './worker-pool'

/** Routing inference and training to staked workers: admission, selection, the queue, receipts, spot checks. */
@Module({
  imports: [VerificationModule, IndexerModule],
  controllers: [ComputeController],
  providers: [
    { provide: COMPUTE_IDENTITY, inject: [CONFIG], useFactory: (config: Config) => loadComputeIdentity(config) },
    {
      provide: COMPUTE_CHAIN,
      inject: [CONFIG, COMPUTE_IDENTITY],
      useFactory: (config: Config, identity: ComputeIdentity | null) => computeChainRef({ config, identity }),
    },
    { provide: WorkerPool, useValue: new WorkerPool() },
    { provide: ModelCatalog, inject: [WorkerPool], useFactory: (pool: WorkerPool) => new ModelCatalog(pool) },
    ComputeRepository,
    SpotCheckService,
    { provide: SPOT_CHECKER, useExisting: SpotCheckService },
    InferenceService,
    ComputeService,
    WorkerGatewayService,
    JobDispatcherService,
    TrainingService,
    {
      provide: COMPUTE_SCHEMA,
      inject: [ComputeService, TrainingService],
      useFactory: (compute: ComputeService, training: TrainingService) => computeSchema({ compute, training }),
    },
  ],
  exports: [
    JobDispatcherService,
    TrainingService,
    COMPUTE_SCHEMA,
    ComputeService,
    InferenceService,
    SpotCheckService,
    WorkerPool,
    COMPUTE_IDENTITY,
  ],
})
export class ComputeModule {
  // Rate limits, body size and type on /v1, installed while the app is built, ahead of the framework's router and
  // its 100 kB body parser (as on /graphql), answering in /v1's error shape. JSON only: a form post from another
  // site's page is refused before it can start a computation.
  constructor(@Inject(HttpAdapterHost) host: HttpAdapterHost, @Inject(CONFIG) config: Config) {
    const { rateLimit: rate } = config.graphql
    const shape = 'rest'
    host.httpAdapter.use('/v1', wellFormedPath({ shape }))
    if (rate.perSecond > 0) host.httpAdapter.use('/v1', rateLimit({ config: rate, shape }))
    host.httpAdapter.use(
      '/v1',
      jsonBody({ maxBytes: config.compute.maxBodyBytes, setting: 'COMPUTE_MAX_BODY_BYTES', shape, requireJson: true }),
    )
  }
}
