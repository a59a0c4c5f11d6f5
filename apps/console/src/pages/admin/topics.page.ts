import { confirmDialog } from '../../components/confirm-dialog';
import { badge, button, field, switchField, withBusy } from '../../components/fields';
import { toast, toastError } from '../../components/toast';
import { h } from '../../lib/dom';
import { htmlFrame } from '../../components/html-frame';
import { adminApi, type AdminPersona, type AdminTopic, type PreviewVoice, type ResponseLength } from '../../lib/admin-api';
import { formatNumber, humanize, plural } from '../../lib/format';
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
    h('section', { class: 'stack', 'aria-labelledby': 'personas-title' }, h('h2', { id: 'personas-title' }, 'Personas'), personas.map((p) => personaEditor(ctx, p, topics.find((t) => t.personaId === p.id))), newPersona(ctx)),
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
  const v = voiceFields({ creativity: t.creativity, responseLength: t.responseLength, temperature: t.temperature, instructions: t.instructions }, 'topic');
  const personaOf = () => personas.find((p) => p.id === persona.value);
  const refreshInherited = () => v.showInherited(personaOf());
  persona.addEventListener('change', refreshInherited);
  v.row.addEventListener('input', refreshInherited); // the temperature hint follows the creativity typed
  refreshInherited();
  const preview = previewPanel(t.id, () => v.effective(personaOf()));
  const active = h('input', { checked: t.active });
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, 'Save topic');
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h('div', { class: 'form-row' }, field('Name', name), field('Persona', persona)),
    field('Description', description),
    field('Model', model, { hint: 'Empty: the service’s LLM_MODEL.' }),
    h('p', { class: 'small muted' }, 'Voice: empty fields take the persona’s settings.'),
    v.row,
    switchField('Offered to subscribers', active, { hint: 'Off: hidden from new subscribers; existing ones can still switch it off.' }),
    h('div', { class: 'cluster' }, save, preview.button, h('a', { href: `/admin/prompts?topic=${t.id}`, class: 'btn btn-quiet btn-small' }, 'Prompt versions →')),
    preview.output,
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
          ...v.overrides(),
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
  const v = voiceFields({ creativity: p?.creativity ?? 0.5, responseLength: p?.responseLength ?? 'medium', temperature: null, instructions: p?.instructions ?? '' }, 'persona');
  const values = () => ({ name: name.value.trim(), era: era.value.trim(), styleNotes: notes.value.trim(), ...v.personaValues() });
  return {
    values, voice: v,
    row: [
      h('div', { class: 'form-row' }, field('Name', name), field('Era', era)),
      field('Style notes', notes, { hint: 'How this voice writes: the composer puts this into the prompt.' }),
      v.row,
    ],
  };
}

/**
 * The voice settings of a persona (all set) or of a topic (each may be empty: inherit the
 * persona's). Creativity sets the sampling temperature (0.3 at 0 … 1.1 at 1) unless a topic gives
 * its own temperature; length sets the word target and the token budget.
 */
function voiceFields(init: { creativity: number | null; responseLength: ResponseLength | null; temperature: number | null; instructions: string | null }, owner: 'persona' | 'topic') {
  const inherit = owner === 'topic';
  const creativity = h('input', { type: 'number', min: '0', max: '1', step: '0.05', value: init.creativity === null ? '' : String(init.creativity), required: !inherit });
  const lengthOptions = (['short', 'medium', 'long'] as const).map((l) => h('option', { value: l, selected: l === init.responseLength }, l));
  const inheritLength = h('option', { value: '', selected: init.responseLength === null }, 'Persona’s');
  const length = h('select', null, inherit ? [inheritLength, ...lengthOptions] : lengthOptions);
  const temperature = h('input', { type: 'number', min: '0', max: '2', step: '0.05', value: init.temperature === null ? '' : String(init.temperature) });
  const instructions = h('textarea', { rows: '2', maxlength: '4000' });
  instructions.value = init.instructions ?? '';
  const num = (el: HTMLInputElement) => (el.value.trim() === '' ? null : Number(el.value));
  const mapped = (c: number) => Math.round((0.3 + Math.min(1, Math.max(0, c)) * 0.8) * 100) / 100;
  const row = h(
    'div',
    { class: 'stack' },
    h(
      'div',
      { class: 'form-row' },
      field('Creativity (0–1)', creativity, { hint: 'Sets the temperature: 0 → 0.3, 1 → 1.1.' }),
      field('Length', length, { hint: 'short ≈ 100–200 words, medium ≈ 200–350, long ≈ 350–600.' }),
      inherit ? field('Temperature', temperature, { hint: 'Empty: from creativity.' }) : null,
    ),
    field('Instructions', instructions, { hint: inherit ? 'Empty: the persona’s. Replaces them when set.' : 'Added to every letter’s system message for this voice.' }),
  );
  return {
    row,
    /** A topic form: placeholders name what it inherits from the chosen persona. */
    showInherited(p: AdminPersona | undefined) {
      if (!p) return;
      creativity.placeholder = `Persona’s (${p.creativity})`;
      inheritLength.textContent = `Persona’s (${p.responseLength})`;
      temperature.placeholder = `From creativity (${mapped(num(creativity) ?? p.creativity).toFixed(2)})`;
      instructions.placeholder = p.instructions ? `Persona’s: ${p.instructions}` : 'Persona’s (none)';
    },
    overrides: () => ({
      creativity: num(creativity),
      responseLength: (length.value || null) as ResponseLength | null,
      temperature: num(temperature),
      instructions: instructions.value.trim() || null,
    }),
    personaValues: () => ({ creativity: num(creativity) ?? 0.5, responseLength: length.value as ResponseLength, instructions: instructions.value.trim() }),
    /** What a letter would be written with: this form's values over the persona's. */
    effective(p: AdminPersona | undefined): PreviewVoice {
      const c = num(creativity) ?? p?.creativity ?? 0.5;
      return {
        creativity: Math.min(1, Math.max(0, c)),
        responseLength: ((length.value || p?.responseLength) ?? 'medium') as ResponseLength,
        temperature: inherit ? num(temperature) : null,
        instructions: instructions.value.trim() || (inherit ? (p?.instructions ?? '') : ''),
      };
    },
  };
}

/** "Preview a letter": the real composer writes a sample with the form's voice; shown, never sent. */
function previewPanel(topicId: string, voice: () => PreviewVoice) {
  const button = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, 'Preview a letter');
  const output = h('div', { class: 'stack', 'aria-live': 'polite' });
  button.addEventListener('click', async () => {
    try {
      const p = await withBusy(button, 'Writing…', () => adminApi.previewTopic(topicId, voice()));
      output.replaceChildren(
        h(
          'section',
          { class: 'panel', 'aria-label': 'Letter preview' },
          h('h3', null, p.subject),
          h(
            'p',
            { class: 'small muted' },
            `${p.model}${p.fallbackReason ? ` (the LLM failed: ${humanize(p.fallbackReason)})` : ''} · temperature ${p.temperature.toFixed(2)} · ${formatNumber(p.words)} words · budget ${formatNumber(p.maxTokens)} tokens · not sent`,
          ),
          htmlFrame(p.bodyHtml, { title: `Preview: ${p.subject}` }),
        ),
      );
    } catch (err) {
      toastError(err);
    }
  });
  return { button, output };
}

function personaEditor(ctx: PageContext, p: AdminPersona, sampleTopic: AdminTopic | undefined): HTMLElement {
  const f = personaFields(p);
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, 'Save persona');
  const del = button('Delete', { variant: 'quiet', small: true, disabled: (p.topics ?? 0) > 0, title: (p.topics ?? 0) > 0 ? 'Voices a topic' : '' });
  // A persona is previewed on a topic it voices, with this form's voice (as its topics that do not override it).
  const preview = sampleTopic ? previewPanel(sampleTopic.id, () => f.voice.effective(undefined)) : null;
  const form = h('form', { class: 'stack', novalidate: true }, f.row, h('div', { class: 'cluster' }, save, preview?.button ?? null, del), preview?.output ?? null);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await withBusy(save, 'Saving…', () => adminApi.updatePersona(p.id, f.values()));
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
      await withBusy(create, 'Creating…', () => adminApi.createPersona(f.values()));
      toast('Persona created.');
      ctx.rerender();
    } catch (err) {
      toastError(err);
    }
  });
  return h('details', { class: 'disclosure' }, h('summary', null, '+ New persona'), h('div', { class: 'disclosure-body' }, form));
}
