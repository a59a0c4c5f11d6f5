import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SessionUser } from '../auth/session.service';
import { changesOf, logAdminAction } from '@mz/domain';
import type { PersonaCreateInput, PersonaPatchInput, TopicCreateInput, TopicPatchInput } from '@mz/api-schemas';

const TOPIC_COLUMNS: Record<keyof TopicPatchInput, string> = {
  name: 'name', description: 'description', personaId: 'persona_id', model: 'model', temperature: 'temperature',
  responseLength: 'response_length', creativity: 'creativity', instructions: 'instructions', active: 'active',
};
const PERSONA_COLUMNS: Record<keyof PersonaPatchInput, string> = {
  name: 'name', era: 'era', styleNotes: 'style_notes', creativity: 'creativity', responseLength: 'response_length', instructions: 'instructions',
};
const PERSONA_SELECT = `p.id, p.name, p.era, p.style_notes AS "styleNotes", p.creativity::float8 AS creativity,
  p.response_length AS "responseLength", p.instructions, p.created_at AS "createdAt"`;

const TOPIC_SELECT = `
  SELECT t.id, t.code, t.name, t.description, t.persona_id AS "personaId", p.name AS "personaName", t.model,
         t.temperature::float8 AS temperature, t.response_length AS "responseLength", t.creativity::float8 AS creativity, t.instructions,
         json_build_object('creativity', coalesce(t.creativity, p.creativity)::float8, 'responseLength', coalesce(t.response_length, p.response_length),
                           'instructions', coalesce(t.instructions, p.instructions)) AS effective,
         t.active, t.created_at AS "createdAt", t.updated_at AS "updatedAt",
         (SELECT count(*)::int FROM subscription s WHERE s.topic_id = t.id AND s.enabled) AS subscribers,
         COALESCE((SELECT json_agg(json_build_object('version', pt.version, 'weight', pt.weight) ORDER BY pt.version)
                     FROM prompt_template pt WHERE pt.topic_id = t.id AND pt.active), '[]') AS "activePrompts"
    FROM topic t JOIN persona p ON p.id = t.persona_id`;

/** Topics and personas: the console's catalogue editor. Every change is an ADMIN_ACTION. */
@Injectable()
export class AdminCatalogService {
  constructor(private readonly ds: DataSource) {}

  listTopics() {
    return this.ds.query(`${TOPIC_SELECT} ORDER BY t.name`);
  }

  async topic(id: string) {
    const [t] = await this.ds.query(`${TOPIC_SELECT} WHERE t.id = $1`, [id]);
    if (!t) throw new NotFoundException('Topic not found');
    return t;
  }

  async createTopic(admin: SessionUser, input: TopicCreateInput) {
    const id = await this.ds.transaction(async (m) => {
      if (!(await m.query(`SELECT 1 FROM persona WHERE id = $1`, [input.personaId])).length) throw new BadRequestException('Unknown persona');
      if ((await m.query(`SELECT 1 FROM topic WHERE code = $1`, [input.code])).length) throw new ConflictException(`Topic code "${input.code}" exists`);
      let prompt = input.prompt;
      if (!prompt) {
        const [first] = await m.query(
          `SELECT pt.system_template, pt.user_template FROM prompt_template pt JOIN topic t ON t.id = pt.topic_id
            ORDER BY t.created_at, pt.version LIMIT 1`,
        );
        if (!first) throw new BadRequestException('No prompt to copy: give prompt.systemTemplate and prompt.userTemplate');
        prompt = { systemTemplate: first.system_template, userTemplate: first.user_template };
      }
      const [row] = await m.query(
        `INSERT INTO topic (code, name, description, persona_id, model, temperature, response_length, creativity, instructions, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
        [input.code, input.name, input.description, input.personaId, input.model ?? null, input.temperature, input.responseLength, input.creativity, input.instructions, input.active],
      );
      await m.query(
        `INSERT INTO prompt_template (topic_id, version, system_template, user_template, change_note, active, weight, created_by)
         VALUES ($1, 1, $2, $3, 'Initial version', true, 100, $4)`,
        [row.id, prompt.systemTemplate, prompt.userTemplate, admin.id],
      );
      await logAdminAction(m, admin, { action: 'topic.create', details: { topicId: row.id, code: input.code } });
      return row.id as string;
    });
    return this.topic(id);
  }

  async updateTopic(admin: SessionUser, id: string, patch: TopicPatchInput) {
    await this.ds.transaction(async (m) => {
      const [before] = await m.query(
        `SELECT name, description, persona_id AS "personaId", model, temperature::float8 AS temperature,
                response_length AS "responseLength", creativity::float8 AS creativity, instructions, active
           FROM topic WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (!before) throw new NotFoundException('Topic not found');
      if (patch.personaId && !(await m.query(`SELECT 1 FROM persona WHERE id = $1`, [patch.personaId])).length) {
        throw new BadRequestException('Unknown persona');
      }
      const changes = changesOf(before, patch);
      if (!Object.keys(changes).length) return;
      const keys = Object.keys(changes) as (keyof TopicPatchInput)[];
      await m.query(
        `UPDATE topic SET ${keys.map((k, i) => `${TOPIC_COLUMNS[k]} = $${i + 2}`).join(', ')}, updated_at = now() WHERE id = $1`,
        [id, ...keys.map((k) => patch[k])],
      );
      await logAdminAction(m, admin, { action: 'topic.update', details: { topicId: id, changes } });
    });
    return this.topic(id);
  }

  listPersonas() {
    return this.ds.query(
      `SELECT ${PERSONA_SELECT},
              (SELECT count(*)::int FROM topic t WHERE t.persona_id = p.id) AS topics
         FROM persona p ORDER BY p.name`,
    );
  }

  async createPersona(admin: SessionUser, input: PersonaCreateInput) {
    return this.ds.transaction(async (m) => {
      const [row] = await m.query(
        `INSERT INTO persona AS p (name, era, style_notes, creativity, response_length, instructions) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (name) DO NOTHING RETURNING ${PERSONA_SELECT}`,
        [input.name, input.era, input.styleNotes, input.creativity, input.responseLength, input.instructions],
      );
      if (!row) throw new ConflictException(`A persona named "${input.name}" exists`);
      await logAdminAction(m, admin, { action: 'persona.create', details: { personaId: row.id, name: input.name } });
      return row;
    });
  }

  async updatePersona(admin: SessionUser, id: string, patch: PersonaPatchInput) {
    return this.ds.transaction(async (m) => {
      const [before] = await m.query(
        `SELECT name, era, style_notes AS "styleNotes", creativity::float8 AS creativity, response_length AS "responseLength", instructions FROM persona WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (!before) throw new NotFoundException('Persona not found');
      const changes = changesOf(before, patch);
      const keys = Object.keys(changes) as (keyof PersonaPatchInput)[];
      if (keys.length) {
        if (patch.name && (await m.query(`SELECT 1 FROM persona WHERE name = $1 AND id <> $2`, [patch.name, id])).length) {
          throw new ConflictException(`A persona named "${patch.name}" exists`);
        }
        await m.query(`UPDATE persona SET ${keys.map((k, i) => `${PERSONA_COLUMNS[k]} = $${i + 2}`).join(', ')} WHERE id = $1`, [id, ...keys.map((k) => patch[k])]);
        await logAdminAction(m, admin, { action: 'persona.update', details: { personaId: id, changes } });
      }
      const [row] = await m.query(`SELECT ${PERSONA_SELECT} FROM persona p WHERE p.id = $1`, [id]);
      return row;
    });
  }

  async deletePersona(admin: SessionUser, id: string): Promise<void> {
    await this.ds.transaction(async (m) => {
      const [p] = await m.query(`SELECT name FROM persona WHERE id = $1 FOR UPDATE`, [id]);
      if (!p) throw new NotFoundException('Persona not found');
      if ((await m.query(`SELECT 1 FROM topic WHERE persona_id = $1 LIMIT 1`, [id])).length) {
        throw new ConflictException('This persona voices a topic; give the topic another persona first');
      }
      await m.query(`DELETE FROM persona WHERE id = $1`, [id]);
      await logAdminAction(m, admin, { action: 'persona.delete', details: { personaId: id, name: p.name } });
    });
  }
}
