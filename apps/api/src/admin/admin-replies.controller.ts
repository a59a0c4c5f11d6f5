import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiForbiddenResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodBody, ZodQuery } from '../common/openapi';
import { body, query, UuidParam } from '../common/zod-validation.pipe';
import { AdminGuard, CurrentUser } from '../auth/session.guard';
import type { SessionUser } from '../auth/session.service';
import { AdminRepliesService } from './admin-replies.service';
import { RepliesQuery, SimulateReply, type SimulateReplyInput, type RepliesParams } from '@mz/api-schemas';
import { ReplySimulatorService } from './reply-simulator.service';

@ApiTags('admin: replies')
@ApiCookieAuth()
@ApiForbiddenResponse({ description: 'Admin role required' })
@UseGuards(AdminGuard)
@Controller('api/admin')
export class AdminRepliesController {
  constructor(private readonly replies: AdminRepliesService, private readonly simulator: ReplySimulatorService) {}

  @Get('replies')
  @ApiOperation({ summary: 'Received messages (understood fields and extracted text only; never raw MIME)' })
  @ZodQuery(RepliesQuery)
  list(@Query(query(RepliesQuery)) q: RepliesParams) {
    return this.replies.list(q);
  }

  @Get('replies/review')
  @ApiOperation({ summary: 'Messages flagged for review (an unclear or low-confidence unsubscribe, or a sender we could not verify: analysis.reviewReason), oldest first; none of them changed anything' })
  async review() {
    return { items: await this.replies.review() };
  }

  @Get('replies/:id')
  detail(@Param('id', UuidParam) id: string) {
    return this.replies.detail(id);
  }

  @Post('replies/:id/confirm-unsubscribe')
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm: unsubscribe the topic the reply answered (pending letters cancelled)' })
  confirm(@CurrentUser() admin: SessionUser, @Param('id', UuidParam) id: string) {
    return this.replies.confirmUnsubscribe(admin, id);
  }

  @Post('replies/:id/dismiss')
  @HttpCode(200)
  @ApiOperation({ summary: 'Dismiss: keep the subscription; the reply stays a note' })
  dismiss(@CurrentUser() admin: SessionUser, @Param('id', UuidParam) id: string) {
    return this.replies.dismiss(admin, id);
  }

  @Post('simulate-reply')
  @HttpCode(202)
  @ApiOperation({ summary: 'Reply simulator: builds the reply MIME, stores it (source simulator) and queues process-reply → {inboundMessageId, messageId}' })
  @ZodBody(SimulateReply)
  simulate(@CurrentUser() admin: SessionUser, @Body(body(SimulateReply)) input: SimulateReplyInput) {
    return this.simulator.simulate(admin, input);
  }
}
