import { Module } from '@nestjs/common';
import { DomainModule } from '@mz/domain';
import { UnsubscribeController } from './unsubscribe.controller';
import { UnsubscribeService } from './unsubscribe.service';

/** Signed one-click unsubscribe links (RFC 8058), no login needed. */
@Module({
  imports: [DomainModule],
  controllers: [UnsubscribeController],
  providers: [UnsubscribeService],
  exports: [UnsubscribeService],
})
export class UnsubscribeModule {}
