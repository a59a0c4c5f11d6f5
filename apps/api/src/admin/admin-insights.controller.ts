import { Controller, Delete, Get, HttpCode, Param, Query, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiForbiddenResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodQuery } from '../common/openapi';
import { query } from '../common/zod-validation.pipe';
import { AdminGuard } from '../auth/session.guard';
import { AdminAuditService } from './admin-audit.service';
import { AdminMetricsService } from './admin-metrics.service';
import { AdminSuppressionsService } from './admin-suppressions.service';
import { AuditQuery, MetricsQuery, SuppressionsQuery, type AuditParams, type MetricsParams, type SuppressionsParams } from '@mz/api-schemas';
import { CurrentUser } from '../auth/session.guard';
import type { SessionUser } from '../auth/session.service';
import { UuidParam } from '../common/zod-validation.pipe';

@ApiTags('admin: insights')
@ApiCookieAuth()
@ApiForbiddenResponse({ description: 'Admin role required' })
@UseGuards(AdminGuard)
@Controller('api/admin')
export class AdminInsightsController {
  constructor(private readonly metricsService: AdminMetricsService, private readonly audits: AdminAuditService, private readonly suppressions: AdminSuppressionsService) {}

  @Get('metrics')
  @ApiOperation({ summary: 'Dashboard: per-day sends/failures/replies, lateness p50/p99, done-rate by topic and prompt version, kpi_daily, queue depths' })
  @ZodQuery(MetricsQuery)
  metrics(@Query(query(MetricsQuery)) q: MetricsParams) {
    return this.metricsService.metrics(q.days);
  }

  @Get('suppressions')
  @ApiOperation({ summary: 'Suppressed addresses, newest first (filter by part of the address, reason): why, when, and the letter or message behind it' })
  @ZodQuery(SuppressionsQuery)
  listSuppressions(@Query(query(SuppressionsQuery)) q: SuppressionsParams) {
    return this.suppressions.list(q);
  }

  @Delete('suppressions/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Lift a suppression: mail may reach the address again (audited)' })
  async liftSuppression(@CurrentUser() admin: SessionUser, @Param('id', UuidParam) id: string): Promise<void> {
    await this.suppressions.lift(admin, id);
  }

  @Get('audit')
  @ApiOperation({ summary: 'Audit log: ADMIN_ACTION events, newest first (filter by action, actor)' })
  @ZodQuery(AuditQuery)
  audit(@Query(query(AuditQuery)) q: AuditParams) {
    return this.audits.list(q);
  }
}
