import { Controller, Get, HttpException, Param, Query, Req, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { previewRuns } from '@mz/schedule';
import { ZodOk, ZodQuery } from '../common/openapi';
import { query, ZodPipe } from '../common/zod-validation.pipe';
import { RateLimits } from '../common/rate-limits.service';
import { PreviewQuery, PreviewResponse, TopicCode, TopicSampleView, TopicView, type PreviewParams } from '@mz/api-schemas';
import { SubscriptionsService } from './subscriptions.service';
import { TopicSampleService } from './topic-sample.service';

const TopicParam = new ZodPipe(TopicCode, 'parameter');

/** Public, read-only: what the landing page and the settings page need before anyone signs in. */
@ApiTags('public')
@Controller('api')
export class TopicsController {
  constructor(private readonly subscriptions: SubscriptionsService, private readonly samples: TopicSampleService, private readonly limits: RateLimits) {}

  @Get('topics')
  @ApiOperation({ summary: 'Active topics with their persona' })
  @ZodOk(z.object({ topics: z.array(TopicView) }))
  async topics() {
    return { topics: await this.subscriptions.topics() };
  }

  @Get('topics/:topic/sample')
  @ApiOperation({
    summary: 'A sample letter of an active topic, for the landing page',
    description: 'Written by the offline composer (never the LLM, whoever asks), once per topic per UTC day, and the same for every visitor that day. 60 requests per 15 minutes per IP.',
  })
  @ZodOk(TopicSampleView)
  @ApiNotFoundResponse({ description: 'Unknown or inactive topic' })
  @ApiTooManyRequestsResponse()
  async sample(@Param('topic', TopicParam) topic: string, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const limit = await this.limits.consume('topicSamplePerIp', req.ip || 'unknown');
    if (!limit.allowed) {
      res.setHeader('Retry-After', String(limit.retryAfterSec));
      throw new HttpException({ statusCode: 429, error: 'Too Many Requests', message: `Too many sample letters; try again in ${limit.retryAfterSec} s` }, 429);
    }
    // The same letter all day: a browser may keep it for an hour.
    res.setHeader('Cache-Control', 'public, max-age=3600');
    return this.samples.sample(topic);
  }

  @Get('schedule/preview')
  @ApiOperation({
    summary: 'Next send times for a schedule, computed by the scheduler\'s own function',
    description: 'DST gaps shift forward by the gap (02:30 → 03:30); a repeated hour uses its first occurrence. `after` defaults to now; `count` 1..30 (default 3).',
  })
  @ZodQuery(PreviewQuery)
  @ZodOk(PreviewResponse)
  preview(@Query(query(PreviewQuery)) q: PreviewParams) {
    const runs = previewRuns({
      timezone: q.timezone,
      sendTimeLocal: q.sendTime,
      after: q.after ? new Date(q.after) : new Date(),
      lastScheduledLocalDate: q.lastLocalDate ?? null,
      count: q.count,
    });
    return { runs: runs.map((r) => ({ utc: r.at.toISOString(), local: r.local })) };
  }
}
