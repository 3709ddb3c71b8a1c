import { Module } from '@nestjs/common'
import { IndexedStateRepository } from './indexed-state.repository'
import { ReceiptRepository } from './receipt.repository'
import { VERIFICATION_SCHEMA, verificationSchema } from './verification.schema'
import { VerificationService } from './verification.service'

/** Receipt verification and the receipt store; the router records every receipt it returns with ReceiptRepository. */
@Module({
  providers: [
    ReceiptRepository,
    IndexedStateRepository,
    VerificationService,
    { provide: VERIFICATION_SCHEMA, inject: [VerificationService], useFactory: verificationSchema },
  ],
  exports: [ReceiptRepository, VerificationService, VERIFICATION_SCHEMA],
})
export class VerificationModule {}
