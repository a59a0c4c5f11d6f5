import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiForbiddenResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodQuery } from '../common/openapi';
import { query } from '../common/zod-validation.pipe';
import { AdminGuard } from '../auth/session.guard';
import { AdminAuditService } from './admin-audit.service';
import { AdminMetricsService } from './admin-metrics.service';
import { AuditQuery, MetricsQuery, type AuditParams, type MetricsParams } from './admin.schemas';

@ApiTags('admin: insights')
@ApiCookieAuth()
@ApiForbiddenResponse({ description: 'Admin role required' })
@UseGuards(AdminGuard)
@Controller('api/admin')
export class AdminInsightsController {
  constructor(private readonly metricsService: AdminMetricsService, private readonly audits: AdminAuditService) {}

  @Get('metrics')
  @ApiOperation({ summary: 'Dashboard: per-day sends/failures/replies, lateness p50/p99, done-rate by topic and prompt version, kpi_daily, queue depths' })
  @ZodQuery(MetricsQuery)
  metrics(@Query(query(MetricsQuery)) q: MetricsParams) {
    return this.metricsService.metrics(q.days);
  }

  @Get('audit')
  @ApiOperation({ summary: 'Audit log: ADMIN_ACTION events, newest first (filter by action, actor)' })
  @ZodQuery(AuditQuery)
  audit(@Query(query(AuditQuery)) q: AuditParams) {
    return this.audits.list(q);
  }
}
