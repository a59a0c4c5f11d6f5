import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type AppConfig, escapeHtml, fillTemplate, isRuntimeSettingKey, RUNTIME_SETTINGS, TEMPLATE_PLACEHOLDER } from '@mz/contracts';
import { AppConfigRepository, FooterRepository } from '@mz/db';
import { changesOf, links, logAdminAction, signUnsubscribeToken } from '@mz/domain';
import { APP_CONFIG } from '@mz/platform';
import { sanitizeFooterHtml } from '../common/sanitize';
import { validationError, zodIssues } from '../common/zod-validation.pipe';
import type { SessionUser } from '../auth/session.service';
import type { FooterPreviewInput, FooterPutInput } from '@mz/api-schemas';

/** The footer's placeholders (the mailer fills them with the same fillTemplate: unknown ones stay visible). */
const KNOWN_PLACEHOLDERS = new Set(['login_link', 'unsubscribe_link', 'topic_name']);

/** Footer editor and config toggles. */
@Injectable()
export class AdminSettingsService {
  constructor(
    private readonly ds: DataSource,
    private readonly footers: FooterRepository,
    private readonly settings: AppConfigRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  footer() {
    return this.footers.current();
  }

  /**
   * Saves a new footer version (the old one stays, inactive, as history). The HTML is sanitised
   * here because the mailer puts it into every letter as is; both versions must keep a way out.
   */
  async saveFooter(admin: SessionUser, input: FooterPutInput) {
    const html = sanitizeFooterHtml(input.htmlTemplate);
    checkFooter(input.textTemplate, html);
    await this.ds.transaction(async (m) => {
      const saved = await this.footers.save(m, { textTemplate: input.textTemplate, htmlTemplate: html, updatedBy: admin.id });
      const before = saved.previous;
      await logAdminAction(m, admin, {
        action: 'footer.update',
        details: { footerId: saved.id, previousFooterId: before?.id ?? null, changes: changesOf(before ?? {}, { textTemplate: input.textTemplate, htmlTemplate: html }) },
      });
    });
    return this.footer();
  }

  /** The footer as a reader would see it, with sample links (the HTML sanitised exactly as on save). */
  previewFooter(input: FooterPreviewInput) {
    const html = sanitizeFooterHtml(input.htmlTemplate);
    const sample = {
      login_link: links.login(this.config.APP_BASE_URL, 'SAMPLE-LOGIN-TOKEN'),
      unsubscribe_link: links.unsubscribe(this.config.APP_BASE_URL, signUnsubscribeToken('00000000-0000-4000-8000-000000000000', 'preview-only-not-a-real-secret-000000')),
      topic_name: input.topicName,
    };
    return {
      text: fillTemplate(input.textTemplate, sample),
      html: fillTemplate(html, sample, escapeHtml),
      warnings: footerWarnings(input.textTemplate, html),
    };
  }

  async listConfig() {
    return (await this.settings.list()).map((r) => ({ ...r, editable: isRuntimeSettingKey(r.key) }));
  }

  async getConfig(key: string) {
    const row = (await this.listConfig()).find((r) => r.key === key);
    if (!row) throw new NotFoundException(`Unknown config key "${key}"`);
    return row;
  }

  async setConfig(admin: SessionUser, key: string, value: unknown) {
    if (!isRuntimeSettingKey(key)) throw new NotFoundException(`Unknown or read-only config key "${key}"`);
    const parsed = RUNTIME_SETTINGS[key].schema.safeParse(value);
    if (!parsed.success) throw validationError(`value for ${key}`, zodIssues(parsed.error));
    await this.ds.transaction(async (m) => {
      const from = await this.settings.set(m, key, parsed.data, admin.id);
      await logAdminAction(m, admin, { action: 'config.set', details: { key, from, to: parsed.data } });
    });
    return this.getConfig(key);
  }
}

function footerWarnings(text: string, html: string): string[] {
  const warnings: string[] = [];
  for (const [name, t] of [['text', text], ['html', html]] as const) {
    const unknown = [...t.matchAll(TEMPLATE_PLACEHOLDER)].map((m) => m[1]).filter((p) => !KNOWN_PLACEHOLDERS.has(p));
    if (unknown.length) warnings.push(`${name}: unknown placeholder(s) ${[...new Set(unknown)].map((p) => `{{${p}}}`).join(', ')} will show as written`);
    if (!/\{\{\s*unsubscribe_link\s*\}\}/.test(t)) warnings.push(`${name}: no {{unsubscribe_link}} — every letter must offer a way out`);
  }
  return warnings;
}

function checkFooter(text: string, html: string): void {
  const missing = footerWarnings(text, html).filter((w) => w.includes('unsubscribe_link'));
  if (missing.length) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: `Invalid footer: ${missing.join('; ')}` });
}
