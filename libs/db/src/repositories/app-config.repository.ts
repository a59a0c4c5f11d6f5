import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { parseRuntimeSettings, type RuntimeSettingKey, type RuntimeSettings } from '@mz/contracts';
import { namedStatement, queryNamed } from '../named-statement';
import { queryRows, type Queryable } from './rows';

const READ_ALL = namedStatement('mz_app_config_read', `SELECT key, value FROM app_config`);

export interface AppConfigRow {
  key: string;
  value: unknown;
  description: string | null;
  updatedBy: string | null;
  updatedByEmail: string | null;
  updatedAt: Date;
}

/**
 * `app_config`, typed by RUNTIME_SETTINGS (libs/contracts): the services read the toggles through
 * `settings()` (every value validated, a malformed one replaced by its default), the console
 * lists and writes them. The mailer's claim reads `sending_paused` inside its own statement, on
 * purpose: the check and the claim must see the same snapshot.
 */
@Injectable()
export class AppConfigRepository {
  constructor(private readonly ds: DataSource) {}

  async settings(): Promise<RuntimeSettings> {
    return parseRuntimeSettings(await queryNamed<{ key: string; value: unknown }>(this.ds, READ_ALL, []));
  }

  async get<K extends RuntimeSettingKey>(key: K): Promise<RuntimeSettings[K]> {
    return (await this.settings())[key];
  }

  /** Every row, with who changed it last, for the console. */
  list(): Promise<AppConfigRow[]> {
    return queryRows<AppConfigRow>(
      this.ds,
      `SELECT c.key, c.value, c.description, c.updated_by AS "updatedBy", u.email AS "updatedByEmail", c.updated_at AS "updatedAt"
         FROM app_config c LEFT JOIN app_user u ON u.id = c.updated_by ORDER BY c.key`,
    );
  }

  /** Writes a validated value inside the caller's transaction; returns the value it replaced (null: none). */
  async set(m: Queryable, key: RuntimeSettingKey, value: unknown, updatedBy: string): Promise<unknown> {
    const [before] = await queryRows<{ value: unknown }>(m, `SELECT value FROM app_config WHERE key = $1 FOR UPDATE`, [key]);
    await m.query(
      `INSERT INTO app_config (key, value, updated_by, updated_at) VALUES ($1, $2::jsonb, $3, now())
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = now()`,
      [key, JSON.stringify(value), updatedBy],
    );
    return before?.value ?? null;
  }
}
