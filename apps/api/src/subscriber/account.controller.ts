import { Controller, Delete, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiConflictResponse, ApiCookieAuth, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { LetterCommands } from '@mz/domain';
import type { Response } from 'express';
import { ZodOk, ZodQuery } from '../common/openapi';
import { pageSchema } from '../common/pagination';
import { query, UuidParam } from '../common/zod-validation.pipe';
import { CurrentUser, SessionGuard } from '../auth/session.guard';
import { SessionService, type SessionUser } from '../auth/session.service';
import { AccountErasureService } from './account-erasure.service';
import { AccountExportService } from './account-export.service';
import { MyLettersService } from './my-letters.service';
import { LettersQuery, LetterView, type LettersParams, MarkDoneResponse } from '@mz/api-schemas';

@ApiTags('subscriber')
@ApiCookieAuth()
@UseGuards(SessionGuard)
@Controller('api')
export class AccountController {
  constructor(
    private readonly letters: MyLettersService,
    private readonly exporter: AccountExportService,
    private readonly eraser: AccountErasureService,
    private readonly sessions: SessionService,
    private readonly commands: LetterCommands,
  ) {}

  @Get('letters')
  @ApiOperation({ summary: 'My letters with my replies, newest first (bodies once sent; HTML sanitised; reply text is plain text)' })
  @ZodQuery(LettersQuery)
  @ZodOk(pageSchema(LetterView))
  list(@CurrentUser() user: SessionUser, @Query(query(LettersQuery)) q: LettersParams) {
    return this.letters.list(user.id, q);
  }

  @Get('letters/:id')
  @ApiOperation({ summary: 'One of my letters' })
  @ZodOk(LetterView)
  one(@CurrentUser() user: SessionUser, @Param('id', UuidParam) id: string) {
    return this.letters.one(user.id, id);
  }

  @Post('letters/:id/done')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark one of my sent letters done: the same effect as replying "done" (once per letter; the streak counts it once)' })
  @ZodOk(MarkDoneResponse)
  @ApiNotFoundResponse({ description: 'No such letter of mine' })
  @ApiConflictResponse({ description: 'The letter was not sent' })
  markDone(@CurrentUser() user: SessionUser, @Param('id', UuidParam) id: string) {
    return this.commands.markDone(user.id, id);
  }

  @Get('me/export')
  @ApiOperation({ summary: 'Everything we hold about me, as a JSON download' })
  @ApiOkResponse({ description: 'JSON document (format mentor-zero-export/1)' })
  async export(@CurrentUser() user: SessionUser, @Res({ passthrough: true }) res: Response) {
    res.setHeader('Content-Disposition', 'attachment; filename="mentor-zero-export.json"');
    res.setHeader('Cache-Control', 'no-store');
    return this.exporter.export(user.id);
  }

  @Delete('me')
  @HttpCode(204)
  @ApiOperation({ summary: 'Erase me: personal data removed, pending letters cancelled, no more mail; signs out' })
  @ApiNoContentResponse()
  async erase(@CurrentUser() user: SessionUser, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.eraser.erase(user.id, { actor: user.id, kind: 'self' });
    res.clearCookie(this.sessions.cookieName, this.sessions.cookieOptions());
  }
}
