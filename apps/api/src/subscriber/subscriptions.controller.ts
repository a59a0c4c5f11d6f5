import { Body, Controller, Get, HttpCode, HttpException, Param, Post, Put, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { ApiAcceptedResponse, ApiConflictResponse, ApiCookieAuth, ApiNotFoundResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { LetterCommands } from '@mz/domain';
import { openApiSchema, ZodBody, ZodOk } from '../common/openapi';
import { RateLimits } from '../common/rate-limits.service';
import { body, ZodPipe } from '../common/zod-validation.pipe';
import { CurrentUser, SessionGuard } from '../auth/session.guard';
import type { SessionUser } from '../auth/session.service';
import { SubscriptionSettings, SubscriptionsPut, SubscriptionView, TopicCode, type SubscriptionSettingsInput, type SubscriptionsPutInput } from '@mz/api-schemas';
import { SubscriptionsService } from './subscriptions.service';

const TopicParam = new ZodPipe(TopicCode, 'parameter');
const SubscriptionsResponse = z.object({ subscriptions: z.array(SubscriptionView) });
const SendNowResponse = z.object({ letterId: z.uuid(), scheduledFor: z.iso.datetime(), queued: z.boolean() });

@ApiTags('subscriber')
@ApiCookieAuth()
@UseGuards(SessionGuard)
@Controller('api/subscriptions')
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService, private readonly letters: LetterCommands, private readonly limits: RateLimits) {}

  @Get()
  @ApiOperation({ summary: 'My settings for every active topic (subscribed: false where never set up)' })
  @ZodOk(SubscriptionsResponse)
  async list(@CurrentUser() user: SessionUser) {
    return { subscriptions: await this.subscriptions.list(user.id) };
  }

  @Put()
  @ApiOperation({
    summary: 'Save settings of several topics at once (all or nothing)',
    description: 'Recomputes each next run; disabling cancels pending letters. contextNote: omitted → unchanged, null or "" → cleared.',
  })
  @ZodBody(SubscriptionsPut)
  @ZodOk(SubscriptionsResponse)
  @ApiNotFoundResponse({ description: 'Unknown topic (nothing saved)' })
  async saveAll(@CurrentUser() user: SessionUser, @Body(body(SubscriptionsPut)) input: SubscriptionsPutInput) {
    return { subscriptions: await this.subscriptions.save(user.id, input.subscriptions) };
  }

  @Put(':topic')
  @ApiOperation({ summary: 'Save one topic\'s settings (subscribes on first save)' })
  @ZodBody(SubscriptionSettings)
  @ZodOk(SubscriptionView)
  @ApiNotFoundResponse({ description: 'Unknown topic' })
  async saveOne(@CurrentUser() user: SessionUser, @Param('topic', TopicParam) topic: string, @Body(body(SubscriptionSettings)) input: SubscriptionSettingsInput) {
    const all = await this.subscriptions.save(user.id, [{ ...input, topic }]);
    return all.find((s) => s.topic.code === topic);
  }

  @Post(':topic/send-now')
  @HttpCode(202)
  @ApiOperation({ summary: 'Write and send a letter of this topic now (extra; the schedule does not move). 10 per hour.' })
  @ApiAcceptedResponse({ schema: openApiSchema(SendNowResponse, 'output') })
  @ApiNotFoundResponse({ description: 'Not subscribed to this topic' })
  @ApiConflictResponse({ description: 'Topic disabled or inactive' })
  @ApiTooManyRequestsResponse()
  async sendNow(@CurrentUser() user: SessionUser, @Param('topic', TopicParam) topic: string, @Res({ passthrough: true }) res: Response) {
    const limit = await this.limits.consume('sendNowPerUser', user.id);
    if (!limit.allowed) {
      res.setHeader('Retry-After', String(limit.retryAfterSec));
      throw new HttpException({ statusCode: 429, error: 'Too Many Requests', message: `Too many letters on demand; try again in ${limit.retryAfterSec} s` }, 429);
    }
    const r = await this.letters.sendNow(user.id, topic);
    return { letterId: r.letterId, scheduledFor: r.scheduledFor.toISOString(), queued: r.queued };
  }
}
