import { Inject, Module } from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import type { Config } from '../config/config'
import { CONFIG } from '../config/config.module'
import { jsonBody, rateLimit } from '../graphql/http-guards'
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
  // Body size and rate limits on /v1, installed while the app is built, ahead of the framework's 100 kB body parser
  // (as on /graphql).
  constructor(@Inject(HttpAdapterHost) host: HttpAdapterHost, @Inject(CONFIG) config: Config) {
    const { rateLimit: rate } = config.graphql
    if (rate.perSecond > 0) host.httpAdapter.use('/v1', rateLimit({ config: rate }))
    host.httpAdapter.use('/v1', jsonBody({ maxBytes: config.compute.maxBodyBytes, setting: 'COMPUTE_MAX_BODY_BYTES' }))
  }
}
