import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ConsoleAssets } from './console-assets.service';
import { ConsoleController } from './console.controller';

/**
 * The web console (subscriber pages and admin console: the apps/console project, bundled by
 * apps/console/build.mjs): the HTML shell for '/', '/settings', '/letters', '/admin', '/admin/*'
 * (not '/admin/queues', which is Bull Board) and the content-hashed files under '/assets'.
 * The session lookup (AuthModule) lets it refuse /admin to non-admins.
 */
@Module({
  imports: [AuthModule],
  controllers: [ConsoleController],
  providers: [ConsoleAssets],
  exports: [ConsoleAssets],
})
export class ConsoleModule {}
