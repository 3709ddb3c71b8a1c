import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common'
import { IndexerService } from '../../indexer/indexer.service'
import { ChangeFeed } from './change-feed'
import { FeedRepository } from './feed.repository'

/** The process's one change feed, following whichever Indexer this gateway runs. */
@Injectable()
export class ChangeFeedService implements OnModuleInit, OnApplicationShutdown {
  readonly feed: ChangeFeed

  constructor(
    @Inject(IndexerService) private readonly indexer: IndexerService,
    @Inject(FeedRepository) repository: FeedRepository,
  ) {
    const logger = new Logger('Subscriptions')
    this.feed = new ChangeFeed({
      store: repository,
      logger: { log: (m) => logger.log(m), warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
    })
  }

  // Registered before the indexer starts (at bootstrap), so the feed sees its first commit.
  onModuleInit(): void {
    this.indexer.onIndexer((indexer) => this.feed.attach(indexer))
  }

  onApplicationShutdown(): void {
    this.feed.detach()
  }
}
