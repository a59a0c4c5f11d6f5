import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import type { AppConfig } from '@mz/contracts';
import { links, signUnsubscribeToken } from '@mz/domain';
import { APP_CONFIG } from '@mz/platform';
import { escapeHtml } from '../common/html';
import { sanitizeFooterHtml } from '../common/sanitize';
import { validationError, zodIssues } from '../common/zod-validation.pipe';
import type { SessionUser } from '../auth/session.service';
import { changesOf, logAdminAction } from './admin-audit';
import type { FooterPreviewInput, FooterPutInput } from './admin.schemas';

/** Runtime toggles an admin may set, each with its own validation (docs/architecture.md §5). */
export const CONFIG_SCHEMAS: Record<string, z.ZodType> = {
  log_prompts: z.boolean(),
  sending_paused: z.boolean(),
  unsubscribe_confidence: z.number().min(0.5).max(1),
  llm_offline_fallback: z.boolean(),
};

/** The footer's placeholders (the mailer fills them the same way: unknown ones stay visible). */
const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;
const KNOWN_PLACEHOLDERS = new Set(['login_link', 'unsubscribe_link', 'topic_name']);

/** Footer editor and config toggles. */
@Injectable()
export class AdminSettingsService {
  constructor(private readonly ds: DataSource, @Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async footer() {
    const [f] = await this.ds.query(
      `SELECT f.id, f.text_template AS "textTemplate", f.html_template AS "htmlTemplate", f.updated_by AS "updatedBy",
              u.email AS "updatedByEmail", f.created_at AS "updatedAt"
         FROM email_footer f LEFT JOIN app_user u ON u.id = f.updated_by WHERE f.active`,
    );
    return f ?? null;
  }

  /**
   * Saves a new footer version (the old one stays, inactive, as history). The HTML is sanitised
   * here because the mailer puts it into every letter as is; both versions must keep a way out.
   */
  async saveFooter(admin: SessionUser, input: FooterPutInput) {
    const html = sanitizeFooterHtml(input.htmlTemplate);
    checkFooter(input.textTemplate, html);
    await this.ds.transaction(async (m) => {
      const [before] = await m.query(`SELECT id, text_template AS "textTemplate", html_template AS "htmlTemplate" FROM email_footer WHERE active FOR UPDATE`);
      await m.query(`UPDATE email_footer SET active = false WHERE active`);
      const [row] = await m.query(
        `INSERT INTO email_footer (text_template, html_template, active, updated_by) VALUES ($1, $2, true, $3) RETURNING id`,
        [input.textTemplate, html, admin.id],
      );
      await logAdminAction(m, admin, {
        action: 'footer.update',
        details: { footerId: row.id, previousFooterId: before?.id ?? null, changes: changesOf(before ?? {}, { textTemplate: input.textTemplate, htmlTemplate: html }) },
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
    const fill = (t: string, encode: (v: string) => string) =>
      t.replace(PLACEHOLDER, (whole, name: string) => (Object.prototype.hasOwnProperty.call(sample, name) ? encode(sample[name as keyof typeof sample]) : whole));
    return {
      text: fill(input.textTemplate, (v) => v),
      html: fill(html, escapeHtml),
      warnings: footerWarnings(input.textTemplate, html),
    };
  }

  listConfig() {
    return this.ds.query(
      `SELECT c.key, c.value, c.description, c.updated_by AS "updatedBy", u.email AS "updatedByEmail", c.updated_at AS "updatedAt"
         FROM app_config c LEFT JOIN app_user u ON u.id = c.updated_by ORDER BY c.key`,
    ).then((rows: { key: string }[]) => rows.map((r) => ({ ...r, editable: r.key in CONFIG_SCHEMAS })));
  }

  async getConfig(key: string) {
    const row = (await this.listConfig()).find((r: { key: string }) => r.key === key);
    if (!row) throw new NotFoundException(`Unknown config key "${key}"`);
    return row;
  }

  async setConfig(admin: SessionUser, key: string, value: unknown) {
    const schema = CONFIG_SCHEMAS[key];
    if (!schema) throw new NotFoundException(`Unknown or read-only config key "${key}"`);
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw validationError(`value for ${key}`, zodIssues(parsed.error));
    await this.ds.transaction(async (m) => {
      const [before] = await m.query(`SELECT value FROM app_config WHERE key = $1 FOR UPDATE`, [key]);
      await m.query(
        `INSERT INTO app_config (key, value, updated_by, updated_at) VALUES ($1, $2::jsonb, $3, now())
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [key, JSON.stringify(parsed.data), admin.id],
      );
      await logAdminAction(m, admin, { action: 'config.set', details: { key, from: before?.value ?? null, to: parsed.data } });
    });
    return this.getConfig(key);
  }
}

function footerWarnings(text: string, html: string): string[] {
  const warnings: string[] = [];
  for (const [name, t] of [['text', text], ['html', html]] as const) {
    const unknown = [...t.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((p) => !KNOWN_PLACEHOLDERS.has(p));
    if (unknown.length) warnings.push(`${name}: unknown placeholder(s) ${[...new Set(unknown)].map((p) => `{{${p}}}`).join(', ')} will show as written`);
    if (!/\{\{\s*unsubscribe_link\s*\}\}/.test(t)) warnings.push(`${name}: no {{unsubscribe_link}} — every letter must offer a way out`);
  }
  return warnings;
}

function checkFooter(text: string, html: string): void {
  const missing = footerWarnings(text, html).filter((w) => w.includes('unsubscribe_link'));
  if (missing.length) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: `Invalid footer: ${missing.join('; ')}` });
}
