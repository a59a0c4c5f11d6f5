import { AuthMetrics } from './auth.metrics';
import { Module } from '@nestjs/common';
import { CommonModule } from '../common/common.module';
import { SubscriptionsModule } from '../subscriber/subscriptions.module';
import { AuthController } from './auth.controller';
import { LoginLinkService } from './login-link.service';
import { LoginPageController } from './login-page.controller';
import { LoginService } from './login.service';
import { AdminGuard, SessionGuard } from './session.guard';
import { SessionService } from './session.service';

/** Magic-link sign-in, sessions and the guards every other feature uses. */
@Module({
  imports: [CommonModule, SubscriptionsModule],
  controllers: [AuthController, LoginPageController],
  providers: [AuthMetrics, SessionService, LoginService, LoginLinkService, SessionGuard, AdminGuard],
  exports: [SessionService, SessionGuard, AdminGuard],
})
export class AuthModule {}
