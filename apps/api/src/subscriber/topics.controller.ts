import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { previewRuns } from '@mz/schedule';
import { ZodOk, ZodQuery } from '../common/openapi';
import { query } from '../common/zod-validation.pipe';
import { PreviewQuery, PreviewResponse, TopicView, type PreviewParams } from '@mz/api-schemas';
import { SubscriptionsService } from './subscriptions.service';

/** Public, read-only: what the landing page and the settings page need before anyone signs in. */
@ApiTags('public')
@Controller('api')
export class TopicsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Get('topics')
  @ApiOperation({ summary: 'Active topics with their persona' })
  @ZodOk(z.object({ topics: z.array(TopicView) }))
  async topics() {
    return { topics: await this.subscriptions.topics() };
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
