import { Module } from '@nestjs/common';
import { DomainModule } from '@mz/domain';
import { AuthModule } from '../auth/auth.module';
import { CommonModule } from '../common/common.module';
import { AccountErasureService } from './account-erasure.service';
import { AccountExportService } from './account-export.service';
import { AccountController } from './account.controller';
import { MyLettersService } from './my-letters.service';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionsModule } from './subscriptions.module';
import { TopicSampleService } from './topic-sample.service';
import { TopicsController } from './topics.controller';

/** What a subscriber does: topics, settings, schedule preview, letters, export and erasure. */
@Module({
  imports: [AuthModule, CommonModule, DomainModule, SubscriptionsModule],
  controllers: [TopicsController, SubscriptionsController, AccountController],
  providers: [TopicSampleService, MyLettersService, AccountExportService, AccountErasureService],
  exports: [SubscriptionsModule, AccountExportService, AccountErasureService],
})
export class SubscriberModule {}
