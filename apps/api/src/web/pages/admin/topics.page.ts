import { confirmDialog } from '../../components/confirm-dialog';
import { badge, button, field, switchField, withBusy } from '../../components/fields';
import { toast, toastError } from '../../components/toast';
import { h } from '../../lib/dom';
import { adminApi, type AdminPersona, type AdminTopic } from '../../lib/admin-api';
import { plural } from '../../lib/format';
import type { PageContext } from '../page';
import { adminHead } from './admin-layout';

/** The catalogue: topics (voice, model settings, on/off) and the personas that voice them. */
export async function topicsPage(ctx: PageContext): Promise<HTMLElement> {
  const [topics, personas] = await Promise.all([adminApi.topics(), adminApi.personas()]);
  return h(
    'div',
    null,
    adminHead('Topics & personas', 'A topic is what subscribers choose; a persona is the voice its letters are written in. Topic codes never change: they tag every letter’s subject.'),
    h('section', { class: 'stack', 'aria-labelledby': 'topics-title' }, h('h2', { id: 'topics-title' }, 'Topics'), topics.map((t) => topicEditor(ctx, t, personas)), newTopic(ctx, personas)),
    h('section', { class: 'stack', 'aria-labelledby': 'personas-title' }, h('h2', { id: 'personas-title' }, 'Personas'), personas.map((p) => personaEditor(ctx, p)), newPersona(ctx)),
  );
}

function personaSelect(personas: AdminPersona[], selected?: string): HTMLSelectElement {
  return h('select', { name: 'personaId' }, personas.map((p) => h('option', { value: p.id, selected: p.id === selected }, `${p.name} (${p.era})`)));
}

function topicEditor(ctx: PageContext, t: AdminTopic, personas: AdminPersona[]): HTMLElement {
  const name = h('input', { type: 'text', value: t.name, maxlength: '120', required: true });
  const description = h('textarea', { rows: '2', maxlength: '1000' });
  description.value = t.description;
  const persona = personaSelect(personas, t.personaId);
  const model = h('input', { type: 'text', value: t.model ?? '', placeholder: 'Default model', maxlength: '200' });
  const temperature = h('input', { type: 'number', min: '0', max: '2', step: '0.05', value: String(t.temperature) });
  const creativity = h('input', { type: 'number', min: '0', max: '1', step: '0.05', value: String(t.creativity) });
  const length = h('select', null, ['short', 'medium', 'long'].map((l) => h('option', { value: l, selected: l === t.responseLength }, l)));
  const active = h('input', { checked: t.active });
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, 'Save topic');
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h('div', { class: 'form-row' }, field('Name', name), field('Persona', persona)),
    field('Description', description),
    h('div', { class: 'form-row' }, field('Model', model, { hint: 'Empty: the service’s LLM_MODEL.' }), field('Temperature', temperature), field('Creativity (0–1)', creativity), field('Length', length)),
    switchField('Offered to subscribers', active, { hint: 'Off: hidden from new subscribers; existing ones can still switch it off.' }),
    h('div', { class: 'cluster' }, save, h('a', { href: `/admin/prompts?topic=${t.id}`, class: 'btn btn-quiet btn-small' }, 'Prompt versions →')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await withBusy(save, 'Saving…', () =>
        adminApi.updateTopic(t.id, {
          name: name.value.trim(),
          description: description.value.trim(),
          personaId: persona.value,
          model: model.value.trim() || null,
          temperature: Number(temperature.value),
          creativity: Number(creativity.value),
          responseLength: length.value as AdminTopic['responseLength'],
          active: active.checked,
        }),
      );
      toast(`${name.value.trim()} saved.`);
      ctx.rerender();
    } catch (err) {
      toastError(err);
    }
  });
  return h(
    'details',
    { class: 'disclosure' },
    h(
      'summary',
      null,
      `${t.name} `,
      h('span', { class: 'muted small' }, `(${t.code}) · ${t.personaName} · ${plural(t.subscribers, 'subscriber')} · prompt ${t.activePrompts.map((p) => `v${p.version}`).join('/') || '—'} `),
      t.active ? null : badge('hidden', 'warn'),
    ),
    h('div', { class: 'disclosure-body' }, form),
  );
}

function newTopic(ctx: PageContext, personas: AdminPersona[]): HTMLElement {
  const code = h('input', { type: 'text', pattern: '[a-z0-9-]{2,24}', maxlength: '24', required: true, placeholder: 'e.g. patience' });
  const name = h('input', { type: 'text', maxlength: '120', required: true });
  const description = h('textarea', { rows: '2', maxlength: '1000', required: true });
  const persona = personaSelect(personas);
  const create = h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, 'Create topic');
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h('div', { class: 'form-row' }, field('Code', code, { hint: '2–24 characters a–z, 0–9, “-”. Permanent.' }), field('Name', name), field('Persona', persona)),
    field('Description', description),
    h('p', { class: 'small muted' }, 'The first prompt version is copied from the oldest topic; edit it on the Prompts page.'),
    create,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    try {
      await withBusy(create, 'Creating…', () => adminApi.createTopic({ code: code.value.trim(), name: name.value.trim(), description: description.value.trim(), personaId: persona.value }));
      toast(`Topic ${name.value.trim()} created.`);
      ctx.rerender();
    } catch (err) {
      toastError(err);
    }
  });
  return h('details', { class: 'disclosure' }, h('summary', null, '+ New topic'), h('div', { class: 'disclosure-body' }, form));
}

function personaFields(p?: AdminPersona) {
  const name = h('input', { type: 'text', value: p?.name ?? '', maxlength: '120', required: true });
  const era = h('input', { type: 'text', value: p?.era ?? '', maxlength: '120', required: true, placeholder: 'e.g. Rome, 1st century' });
  const notes = h('textarea', { rows: '3', maxlength: '4000', required: true });
  notes.value = p?.styleNotes ?? '';
  return { name, era, notes, row: [h('div', { class: 'form-row' }, field('Name', name), field('Era', era)), field('Style notes', notes, { hint: 'How this voice writes: the composer puts this into the prompt.' })] };
}

function personaEditor(ctx: PageContext, p: AdminPersona): HTMLElement {
  const f = personaFields(p);
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, 'Save persona');
  const del = button('Delete', { variant: 'quiet', small: true, disabled: (p.topics ?? 0) > 0, title: (p.topics ?? 0) > 0 ? 'Voices a topic' : '' });
  const form = h('form', { class: 'stack', novalidate: true }, f.row, h('div', { class: 'cluster' }, save, del));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await withBusy(save, 'Saving…', () => adminApi.updatePersona(p.id, { name: f.name.value.trim(), era: f.era.value.trim(), styleNotes: f.notes.value.trim() }));
      toast('Persona saved.');
      ctx.rerender();
    } catch (err) {
      toastError(err);
    }
  });
  del.addEventListener('click', async () => {
    if (!(await confirmDialog({ title: `Delete ${p.name}?`, body: h('p', null, 'The persona is removed. Topics are not affected (none uses it).'), confirmLabel: 'Delete', danger: true }))) return;
    try {
      await withBusy(del, 'Deleting…', () => adminApi.deletePersona(p.id));
      toast('Persona deleted.');
      ctx.rerender();
    } catch (err) {
      toastError(err);
    }
  });
  return h('details', { class: 'disclosure' }, h('summary', null, `${p.name} `, h('span', { class: 'muted small' }, `${p.era} · ${plural(p.topics ?? 0, 'topic')}`)), h('div', { class: 'disclosure-body' }, form));
}

function newPersona(ctx: PageContext): HTMLElement {
  const f = personaFields();
  const create = h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, 'Create persona');
  const form = h('form', { class: 'stack', novalidate: true }, f.row, create);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    try {
      await withBusy(create, 'Creating…', () => adminApi.createPersona({ name: f.name.value.trim(), era: f.era.value.trim(), styleNotes: f.notes.value.trim() }));
      toast('Persona created.');
      ctx.rerender();
    } catch (err) {
      toastError(err);
    }
  });
  return h('details', { class: 'disclosure' }, h('summary', null, '+ New persona'), h('div', { class: 'disclosure-body' }, form));
}
