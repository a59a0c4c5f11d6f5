import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { lineDiff, unifiedDiff } from '@mz/line-diff';
import type { SessionUser } from '../auth/session.service';
import { logAdminAction } from '@mz/domain';
import type { PromptCreateInput, PromptWeightsInput } from '@mz/api-schemas';

const PROMPT_SELECT = `
  SELECT pt.id, pt.topic_id AS "topicId", pt.version, pt.system_template AS "systemTemplate", pt.user_template AS "userTemplate",
         pt.change_note AS "changeNote", pt.active, pt.weight, pt.created_by AS "createdBy", u.email AS "createdByEmail",
         pt.created_at AS "createdAt",
         (SELECT count(*)::int FROM letter l WHERE l.prompt_template_id = pt.id) AS letters
    FROM prompt_template pt LEFT JOIN app_user u ON u.id = pt.created_by`;

/**
 * Prompt templates: immutable versions (a database trigger refuses text edits), one active or
 * several active with weights for an A/B test. Only `active` and `weight` ever change.
 */
@Injectable()
export class AdminPromptsService {
  constructor(private readonly ds: DataSource) {}

  async list(topicId: string) {
    await this.requireTopic(this.ds.manager, topicId);
    return this.ds.query(`${PROMPT_SELECT} WHERE pt.topic_id = $1 ORDER BY pt.version DESC`, [topicId]);
  }

  async one(id: string) {
    const [p] = await this.ds.query(`${PROMPT_SELECT} WHERE pt.id = $1`, [id]);
    if (!p) throw new NotFoundException('Prompt version not found');
    return p;
  }

  /** New version = max + 1, under a lock on the topic row so two admins cannot both take the same number. */
  async create(admin: SessionUser, topicId: string, input: PromptCreateInput) {
    const id = await this.ds.transaction(async (m) => {
      await m.query(`SELECT id FROM topic WHERE id = $1 FOR UPDATE`, [topicId]).then((r) => {
        if (!r.length) throw new NotFoundException('Topic not found');
      });
      const [{ next }] = await m.query(`SELECT COALESCE(max(version), 0) + 1 AS next FROM prompt_template WHERE topic_id = $1`, [topicId]);
      if (input.activate) await m.query(`UPDATE prompt_template SET active = false WHERE topic_id = $1 AND active`, [topicId]);
      const [row] = await m.query(
        `INSERT INTO prompt_template (topic_id, version, system_template, user_template, change_note, active, weight, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, 100, $7) RETURNING id`,
        [topicId, next, input.systemTemplate, input.userTemplate, input.changeNote || null, input.activate, admin.id],
      );
      await logAdminAction(m, admin, { action: 'prompt.create', details: { topicId, version: next, promptId: row.id, activated: input.activate } });
      return row.id as string;
    });
    return this.one(id);
  }

  async diff(topicId: string, from: number, to: number) {
    const rows: { version: number; system_template: string; user_template: string }[] = await this.ds.query(
      `SELECT version, system_template, user_template FROM prompt_template WHERE topic_id = $1 AND version = ANY($2::int[])`,
      [topicId, [from, to]],
    );
    const a = rows.find((r) => r.version === from);
    const b = rows.find((r) => r.version === to);
    if (!a || !b) throw new NotFoundException(`Version ${!a ? from : to} not found for this topic`);
    const side = (x: string, y: string, part: string) => ({
      lines: lineDiff(x, y),
      unified: unifiedDiff(x, y, { from: `v${from}/${part}`, to: `v${to}/${part}` }),
    });
    return {
      from,
      to,
      system: side(a.system_template, b.system_template, 'system'),
      user: side(a.user_template, b.user_template, 'user'),
    };
  }

  /** This version becomes the only active one (weight kept as is; alone, any weight means 100%). */
  async activate(admin: SessionUser, promptId: string) {
    await this.ds.transaction(async (m) => {
      const [p] = await m.query(`SELECT topic_id, version, weight FROM prompt_template WHERE id = $1`, [promptId]);
      if (!p) throw new NotFoundException('Prompt version not found');
      await m.query(`SELECT id FROM topic WHERE id = $1 FOR UPDATE`, [p.topic_id]);
      const before = await this.activeVersions(m, p.topic_id);
      await m.query(`UPDATE prompt_template SET active = (id = $2), weight = CASE WHEN id = $2 AND weight = 0 THEN 100 ELSE weight END WHERE topic_id = $1`, [p.topic_id, promptId]);
      await logAdminAction(m, admin, { action: 'prompt.activate', details: { topicId: p.topic_id, version: p.version, previouslyActive: before } });
    });
    return this.one(promptId);
  }

  /** A/B: the listed versions become active with these weights; every other version inactive. */
  async setWeights(admin: SessionUser, topicId: string, input: PromptWeightsInput) {
    await this.ds.transaction(async (m) => {
      await this.requireTopic(m, topicId, true);
      const versions = input.weights.map((w) => w.version);
      const found: { version: number }[] = await m.query(`SELECT version FROM prompt_template WHERE topic_id = $1 AND version = ANY($2::int[])`, [topicId, versions]);
      const missing = versions.filter((v) => !found.some((f) => f.version === v));
      if (missing.length) throw new BadRequestException(`Unknown version(s) for this topic: ${missing.join(', ')}`);
      const before = await this.activeVersions(m, topicId);
      await m.query(`UPDATE prompt_template SET active = false WHERE topic_id = $1 AND active AND NOT (version = ANY($2::int[]))`, [topicId, versions]);
      for (const w of input.weights) {
        await m.query(`UPDATE prompt_template SET active = $3, weight = $4 WHERE topic_id = $1 AND version = $2`, [topicId, w.version, w.weight > 0, w.weight]);
      }
      await logAdminAction(m, admin, { action: 'prompt.weights', details: { topicId, before, after: input.weights.filter((w) => w.weight > 0) } });
    });
    return this.list(topicId);
  }

  private async activeVersions(m: EntityManager, topicId: string): Promise<{ version: number; weight: number }[]> {
    return m.query(`SELECT version, weight FROM prompt_template WHERE topic_id = $1 AND active ORDER BY version`, [topicId]);
  }

  private async requireTopic(m: EntityManager, topicId: string, lock = false): Promise<void> {
    const rows = await m.query(`SELECT id FROM topic WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [topicId]);
    if (!rows.length) throw new NotFoundException('Topic not found');
  }
}
