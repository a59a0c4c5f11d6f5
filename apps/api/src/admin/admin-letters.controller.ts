import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiForbiddenResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { LetterCommands, logAdminAction } from '@mz/domain';
import { ZodQuery } from '../common/openapi';
import { query, UuidParam } from '../common/zod-validation.pipe';
import { AdminGuard, CurrentUser } from '../auth/session.guard';
import type { SessionUser } from '../auth/session.service';
import { AdminLettersService } from './admin-letters.service';
import { LettersAdminQuery, type LettersAdminParams } from '@mz/api-schemas';

@ApiTags('admin: letters')
@ApiCookieAuth()
@ApiForbiddenResponse({ description: 'Admin role required' })
@UseGuards(AdminGuard)
@Controller('api/admin/letters')
export class AdminLettersController {
  constructor(private readonly letters: AdminLettersService, private readonly commands: LetterCommands, private readonly ds: DataSource) {}

  @Get()
  @ApiOperation({ summary: 'Letters, newest first, filtered by status/kind/errorType/userId/topic, with retry state and counts per status' })
  @ZodQuery(LettersAdminQuery)
  list(@Query(query(LettersAdminQuery)) q: LettersAdminParams) {
    return this.letters.list(q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One letter: body (sanitised HTML), retry state, the logged prompt when present, events, replies' })
  detail(@Param('id', UuidParam) id: string) {
    return this.letters.detail(id);
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Retry now: a failed or retrying letter goes back to the stage it failed in, queued without delay (409 otherwise)' })
  async retry(@CurrentUser() admin: SessionUser, @Param('id', UuidParam) id: string) {
    const r = await this.commands.retryNow(id, admin.id);
    await logAdminAction(this.ds.manager, admin, { action: 'letter.retry', letterId: id, details: { from: r.previousStatus, to: r.status, stage: r.stage } });
    return r;
  }
}
