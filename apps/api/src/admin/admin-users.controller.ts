import { ConflictException, Controller, Delete, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiForbiddenResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { ZodQuery } from '../common/openapi';
import { query, UuidParam } from '../common/zod-validation.pipe';
import { AdminGuard, CurrentUser } from '../auth/session.guard';
import type { SessionUser } from '../auth/session.service';
import { AccountErasureService } from '../subscriber/account-erasure.service';
import { AccountExportService } from '../subscriber/account-export.service';
import { logAdminAction } from '@mz/domain';
import { AdminUsersService } from './admin-users.service';
import { UsersQuery, type UsersParams } from '@mz/api-schemas';

@ApiTags('admin: users')
@ApiCookieAuth()
@ApiForbiddenResponse({ description: 'Admin role required' })
@UseGuards(AdminGuard)
@Controller('api/admin/users')
export class AdminUsersController {
  constructor(
    private readonly users: AdminUsersService,
    private readonly exporter: AccountExportService,
    private readonly eraser: AccountErasureService,
    private readonly ds: DataSource,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Search users by email or name fragment; filter by status and role' })
  @ZodQuery(UsersQuery)
  search(@Query(query(UsersQuery)) q: UsersParams) {
    return this.users.search(q);
  }

  @Get(':id')
  detail(@Param('id', UuidParam) id: string) {
    return this.users.detail(id);
  }

  @Post(':id/suspend')
  @HttpCode(200)
  @ApiOperation({ summary: 'Suspend: sessions revoked, no letters or sign-in links while suspended' })
  suspend(@CurrentUser() admin: SessionUser, @Param('id', UuidParam) id: string) {
    return this.users.setSuspended(admin, id, true);
  }

  @Post(':id/unsuspend')
  @HttpCode(200)
  unsuspend(@CurrentUser() admin: SessionUser, @Param('id', UuidParam) id: string) {
    return this.users.setSuspended(admin, id, false);
  }

  @Get(':id/export')
  @ApiOperation({ summary: 'The user\'s data export (same document as GET /api/me/export); logged as an admin action' })
  async export(@CurrentUser() admin: SessionUser, @Param('id', UuidParam) id: string, @Res({ passthrough: true }) res: Response) {
    const data = await this.exporter.export(id);
    await logAdminAction(this.ds.manager, admin, { action: 'user.export', userId: id });
    res.setHeader('Content-Disposition', `attachment; filename="mentor-zero-export-${id}.json"`);
    res.setHeader('Cache-Control', 'no-store');
    return data;
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Erase the user (same as DELETE /api/me). Not for your own account.' })
  async erase(@CurrentUser() admin: SessionUser, @Param('id', UuidParam) id: string): Promise<void> {
    if (id === admin.id) throw new ConflictException('Use DELETE /api/me to erase your own account');
    await this.eraser.erase(id, { actor: admin.id, kind: 'admin' }, (m) => logAdminAction(m, admin, { action: 'user.delete', userId: id }));
  }

  @Get(':id/thread')
  @ApiOperation({ summary: 'The user\'s letters and replies as one thread, oldest first: items [{type: "letter"|"reply", at, letter|reply}]' })
  thread(@Param('id', UuidParam) id: string) {
    return this.users.thread(id);
  }
}
