import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FOOTER as DEFAULT_FOOTER } from '../seed/seed-data';
import { queryRows, type Queryable } from './rows';

export interface ActiveFooter {
  textTemplate: string;
  htmlTemplate: string;
  /** No footer row is active: the built-in default stands in. */
  isDefault: boolean;
}

export interface FooterVersion {
  id: string;
  textTemplate: string;
  htmlTemplate: string;
  updatedBy: string | null;
  updatedByEmail: string | null;
  updatedAt: Date;
}

/**
 * `email_footer`: versions of the footer every letter carries; exactly one is active, older ones
 * stay as history. The mailer fills the active one per letter, the reply worker recognises it in
 * quoted replies, the console edits it.
 */
@Injectable()
export class FooterRepository {
  constructor(private readonly ds: DataSource) {}

  async active(q: Queryable = this.ds): Promise<ActiveFooter> {
    const [row] = await queryRows<{ text_template: string; html_template: string }>(q, `SELECT text_template, html_template FROM email_footer WHERE active LIMIT 1`);
    return row
      ? { textTemplate: row.text_template, htmlTemplate: row.html_template, isDefault: false }
      : { textTemplate: DEFAULT_FOOTER.text, htmlTemplate: DEFAULT_FOOTER.html, isDefault: true };
  }

  /** The active version with who saved it (the console's editor); null before any was saved. */
  async current(): Promise<FooterVersion | null> {
    const [f] = await queryRows<FooterVersion>(
      this.ds,
      `SELECT f.id, f.text_template AS "textTemplate", f.html_template AS "htmlTemplate", f.updated_by AS "updatedBy",
              u.email AS "updatedByEmail", f.created_at AS "updatedAt"
         FROM email_footer f LEFT JOIN app_user u ON u.id = f.updated_by WHERE f.active`,
    );
    return f ?? null;
  }

  /**
   * A new active version inside the caller's transaction (the previous one stays as history).
   * Returns the new id and the version it replaced.
   */
  async save(m: Queryable, f: { textTemplate: string; htmlTemplate: string; updatedBy: string }): Promise<{ id: string; previous: { id: string; textTemplate: string; htmlTemplate: string } | null }> {
    const [previous] = await queryRows<{ id: string; textTemplate: string; htmlTemplate: string }>(
      m, `SELECT id, text_template AS "textTemplate", html_template AS "htmlTemplate" FROM email_footer WHERE active FOR UPDATE`,
    );
    await m.query(`UPDATE email_footer SET active = false WHERE active`);
    const [row] = await queryRows<{ id: string }>(
      m, `INSERT INTO email_footer (text_template, html_template, active, updated_by) VALUES ($1, $2, true, $3) RETURNING id`,
      [f.textTemplate, f.htmlTemplate, f.updatedBy],
    );
    return { id: row.id, previous: previous ?? null };
  }
}
