import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiForbiddenResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodOk, ZodQuery } from '../common/openapi';
import { pageSchema } from '../common/pagination';
import { query } from '../common/zod-validation.pipe';
import { AdminGuard } from '../auth/session.guard';
import { AdminConversationsService } from './admin-conversations.service';
import { ConversationsQuery, ConversationView, type ConversationsParams } from '@mz/api-schemas';

@ApiTags('admin: users')
@ApiCookieAuth()
@ApiForbiddenResponse({ description: 'Admin role required' })
@UseGuards(AdminGuard)
@Controller('api/admin/conversations')
export class AdminConversationsController {
  constructor(private readonly conversations: AdminConversationsService) {}

  @Get()
  @ApiOperation({ summary: 'Every subscriber\'s thread: letters sent and replies, last activity, last intent; newest first. Open one with GET /api/admin/users/:id/thread' })
  @ZodQuery(ConversationsQuery)
  @ZodOk(pageSchema(ConversationView))
  list(@Query(query(ConversationsQuery)) q: ConversationsParams) {
    return this.conversations.list(q);
  }
}
