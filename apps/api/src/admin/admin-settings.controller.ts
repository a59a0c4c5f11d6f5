import { Body, Controller, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiForbiddenResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ZodBody } from '../common/openapi';
import { body, ZodPipe } from '../common/zod-validation.pipe';
import { AdminGuard, CurrentUser } from '../auth/session.guard';
import type { SessionUser } from '../auth/session.service';
import { AdminSettingsService } from './admin-settings.service';
import { ConfigPut, FooterPreview, FooterPut, type FooterPutInput, type FooterPreviewInput } from '@mz/api-schemas';

const ConfigKey = new ZodPipe(z.string().regex(/^[a-z0-9_]{1,64}$/, 'expected a config key'), 'parameter');

@ApiTags('admin: settings')
@ApiCookieAuth()
@ApiForbiddenResponse({ description: 'Admin role required' })
@UseGuards(AdminGuard)
@Controller('api/admin')
export class AdminSettingsController {
  constructor(private readonly settings: AdminSettingsService) {}

  @Get('footer')
  @ApiOperation({ summary: 'The active letter footer (placeholders {{login_link}}, {{unsubscribe_link}}, {{topic_name}})' })
  async footer() {
    return { footer: await this.settings.footer() };
  }

  @Put('footer')
  @ApiOperation({ summary: 'Save a new footer (HTML sanitised; both templates must contain {{unsubscribe_link}})' })
  @ZodBody(FooterPut)
  async saveFooter(@CurrentUser() admin: SessionUser, @Body(body(FooterPut)) input: FooterPutInput) {
    return { footer: await this.settings.saveFooter(admin, input) };
  }

  @Post('footer/preview')
  @HttpCode(200)
  @ApiOperation({ summary: 'Render a footer with sample links → {text, html (sanitised), warnings}' })
  @ZodBody(FooterPreview)
  preview(@Body(body(FooterPreview)) input: FooterPreviewInput) {
    return this.settings.previewFooter(input);
  }

  @Get('config')
  @ApiOperation({ summary: 'Runtime toggles: [{key, value, description, editable, updatedAt, updatedByEmail}]' })
  async config() {
    return { config: await this.settings.listConfig() };
  }

  @Get('config/:key')
  getConfig(@Param('key', ConfigKey) key: string) {
    return this.settings.getConfig(key);
  }

  @Put('config/:key')
  @ApiOperation({ summary: 'Set a toggle: body {value}; log_prompts/sending_paused boolean, unsubscribe_confidence 0.5..1, llm_offline_fallback/llm_batch_compose boolean, llm_batch_excluded_topics topic codes' })
  @ZodBody(ConfigPut)
  setConfig(@CurrentUser() admin: SessionUser, @Param('key', ConfigKey) key: string, @Body(body(ConfigPut)) input: z.infer<typeof ConfigPut>) {
    return this.settings.setConfig(admin, key, input.value);
  }
}
