import { AdminConversationsController } from './admin-conversations.controller';
import { AdminConversationsService } from './admin-conversations.service';
import { Module } from '@nestjs/common';
import { DomainModule } from '@mz/domain';
import { AuthModule } from '../auth/auth.module';
import { SubscriberModule } from '../subscriber/subscriber.module';
import { UnsubscribeModule } from '../unsubscribe/unsubscribe.module';
import { AdminAuditService } from './admin-audit.service';
import { AdminCatalogController } from './admin-catalog.controller';
import { AdminCatalogService } from './admin-catalog.service';
import { AdminInsightsController } from './admin-insights.controller';
import { AdminLettersController } from './admin-letters.controller';
import { AdminLettersService } from './admin-letters.service';
import { AdminMetricsService } from './admin-metrics.service';
import { AdminPromptsService } from './admin-prompts.service';
import { AdminRepliesController } from './admin-replies.controller';
import { AdminRepliesService } from './admin-replies.service';
import { AdminSettingsController } from './admin-settings.controller';
import { AdminSettingsService } from './admin-settings.service';
import { AdminUsersController } from './admin-users.controller';
import { AdminUsersService } from './admin-users.service';
import { LetterPreviewService } from './letter-preview.service';
import { ReplySimulatorService } from './reply-simulator.service';
import { AdminSuppressionsService } from './admin-suppressions.service';

/** The admin API under /api/admin (AdminGuard on every controller). Bull Board is mounted in http-setup. */
@Module({
  imports: [AuthModule, SubscriberModule, UnsubscribeModule, DomainModule],
  controllers: [AdminCatalogController, AdminUsersController, AdminConversationsController, AdminLettersController, AdminRepliesController, AdminSettingsController, AdminInsightsController],
  providers: [
    AdminConversationsService,
    AdminCatalogService, AdminPromptsService, AdminUsersService, AdminLettersService, AdminRepliesService,
    AdminSettingsService, AdminMetricsService, AdminAuditService, ReplySimulatorService, AdminSuppressionsService, LetterPreviewService,
  ],
})
export class AdminModule {}
