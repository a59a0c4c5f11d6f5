import { Module } from '@nestjs/common';
import { DomainModule } from '@mz/domain';
import { AuthModule } from '../auth/auth.module';
import { CommonModule } from '../common/common.module';
import { AccountErasureService } from './account-erasure.service';
import { AccountExportService } from './account-export.service';
import { AccountController } from './account.controller';
import { MyLettersService } from './my-letters.service';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionsService } from './subscriptions.service';
import { TopicsController } from './topics.controller';

/** What a subscriber does: topics, settings, schedule preview, letters, export and erasure. */
@Module({
  imports: [AuthModule, CommonModule, DomainModule],
  controllers: [TopicsController, SubscriptionsController, AccountController],
  providers: [SubscriptionsService, MyLettersService, AccountExportService, AccountErasureService],
  exports: [SubscriptionsService, AccountExportService, AccountErasureService],
})
export class SubscriberModule {}
