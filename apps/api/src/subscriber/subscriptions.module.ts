import { Module } from '@nestjs/common';
import { DomainModule } from '@mz/domain';
import { SubscriptionsService } from './subscriptions.service';

/**
 * The subscription table's api-side owner on its own, so sign-in (AuthModule, which applies a
 * landing-page choice when a link is confirmed) and the subscriber pages share one service
 * without the two feature modules importing each other.
 */
@Module({
  imports: [DomainModule],
  providers: [SubscriptionsService],
  exports: [SubscriptionsService],
})
export class SubscriptionsModule {}
