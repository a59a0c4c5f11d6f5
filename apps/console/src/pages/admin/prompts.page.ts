import { badge, button, emptyState, field, loadError, spinner, withBusy } from '../../components/fields';
import { toast, toastError } from '../../components/toast';
import { type Child, h, replace } from '../../lib/dom';
import { adminApi, type AdminTopic, type PromptVersion } from '../../lib/admin-api';
import { formatDateTime, plural } from '../../lib/format';
import { type DiffLine, diffStats, foldUnchanged, lineDiff } from '../../lib/line-diff';
import { navigate } from '../../lib/router';
import type { PageContext } from '../page';
import { adminHead } from './admin-layout';

/** Prompt templates per topic: immutable versions, diff, new version, activate, A/B weights. */
export async function promptsPage(ctx: PageContext): Promise<HTMLElement> {
  const topics = await adminApi.topics();
  if (!topics.length) return h('div', null, adminHead('Prompts'), emptyState('No topics', 'Create a topic first.'));
  const topicId = ctx.query.get('topic') && topics.some((t) => t.id === ctx.query.get('topic')) ? ctx.query.get('topic')! : topics[0].id;
  const topic = topics.find((t) => t.id === topicId)!;

  const picker = h('select', { name: 'topic' }, topics.map((t) => h('option', { value: t.id, selected: t.id === topicId }, `${t.name} (${t.code})`)));
  picker.addEventListener('change', () => navigate(`/admin/prompts?topic=${encodeURIComponent(picker.value)}`));

  const body = h('div', { class: 'stack' }, spinner('Loading versions…'));
  const load = async () => {
    try {
      const versions = await adminApi.prompts(topicId);
      if (ctx.isCurrent()) replace(body, topicPrompts(ctx, topic, versions, load));
    } catch (err) {
      if (ctx.isCurrent()) replace(body, loadError(err, () => void load()));
    }
  };
  await load();

  return h(
    'div',
    { class: 'prompts' },
    adminHead('Prompts', 'Each topic has numbered prompt versions. Versions never change once created; letters record the version they used. Activate one, or several with weights for an A/B test.'),
    h('div', { class: 'toolbar' }, field('Topic', picker)),
    body,
  );
}

function topicPrompts(ctx: PageContext, topic: AdminTopic, versions: PromptVersion[], reload: () => Promise<void>): HTMLElement {
  if (!versions.length) return emptyState('No versions yet');
  const active = versions.filter((v) => v.active);
  const latest = versions.reduce((a, b) => (b.version > a.version ? b : a));
  const base = active[0] ?? latest;

  // Diff between any two versions (server-side diff of both templates).
  const fromSel = versionSelect(versions, versions.length > 1 ? (active[0] && active[0].version !== latest.version ? active[0].version : latest.version - 1) : latest.version, 'from');
  const toSel = versionSelect(versions, latest.version, 'to');
  const diffOut = h('div', { class: 'stack', 'aria-live': 'polite' });
  const showDiff = async () => {
    const from = Number(fromSel.value);
    const to = Number(toSel.value);
    if (from === to) {
      replace(diffOut, h('p', { class: 'muted' }, 'Pick two different versions to compare.'));
      return;
    }
    replace(diffOut, spinner('Comparing…'));
    try {
      const d = await adminApi.promptDiff(topic.id, from, to);
      if (!ctx.isCurrent()) return;
      replace(diffOut, diffBlock('System template', d.system.lines), diffBlock('User template', d.user.lines));
    } catch (err) {
      replace(diffOut, loadError(err, () => void showDiff()));
    }
  };
  fromSel.addEventListener('change', () => void showDiff());
  toSel.addEventListener('change', () => void showDiff());
  void showDiff();

  const weights = new Map<number, HTMLInputElement>();
  const versionList = h(
    'ol',
    { class: 'version-list', 'data-testid': 'versions' },
    versions.map((v) => {
      const activate = button('Activate', { small: true, variant: 'secondary', 'data-testid': `activate-v${v.version}` });
      activate.hidden = v.active && active.length === 1;
      activate.addEventListener('click', async () => {
        try {
          await withBusy(activate, 'Activating…', () => adminApi.activatePrompt(v.id));
          toast(`Version ${v.version} of ${topic.name} is now the only active prompt.`);
          await reload();
        } catch (err) {
          toastError(err);
        }
      });
      const view = h('details', { class: 'disclosure version-view' }, h('summary', null, 'Show text'), h('div', { class: 'disclosure-body stack' }, templateBlock('System template', v.systemTemplate), templateBlock('User template', v.userTemplate)));
      return h(
        'li',
        { class: ['version', v.active && 'is-active'], 'data-version': String(v.version) },
        h('span', { class: 'version-no' }, `v${v.version}`),
        h(
          'div',
          null,
          h('p', { class: 'cluster' }, v.active ? badge(active.length > 1 ? `active · weight ${v.weight}` : 'active', 'good') : badge('inactive'), h('span', { class: 'small muted' }, `${plural(v.letters ?? 0, 'letter')} · ${formatDateTime(v.createdAt)}${v.createdByEmail ? ` · ${v.createdByEmail}` : ''}`)),
          v.changeNote ? h('p', { class: 'version-note' }, v.changeNote) : null,
        ),
        h('div', { class: 'version-actions' }, activate),
        h('div', { class: 'version-detail' }, view),
      );
    }),
  );

  // A/B: weights for several active versions.
  const saveWeights = button('Save weights', { variant: 'secondary', small: true });
  const abRows = versions.map((v) => {
    const input = h('input', { type: 'number', id: `ab-${v.version}`, min: '0', max: '10000', step: '1', value: String(v.active ? v.weight : 0), class: 'weight-input', 'data-testid': `weight-v${v.version}` });
    weights.set(v.version, input);
    return h('div', { class: 'ab-row' }, h('label', { for: input.id }, `v${v.version}`), input);
  });
  saveWeights.addEventListener('click', async () => {
    const list = versions.map((v) => ({ version: v.version, weight: Math.max(0, Math.round(Number(weights.get(v.version)!.value) || 0)) }));
    try {
      await withBusy(saveWeights, 'Saving…', () => adminApi.setWeights(topic.id, list));
      const on = list.filter((w) => w.weight > 0);
      toast(on.length > 1 ? `A/B test on: ${on.map((w) => `v${w.version} ${w.weight}`).join(' / ')}.` : `Only v${on[0]?.version} is active.`);
      await reload();
    } catch (err) {
      toastError(err);
    }
  });
  const ab = h(
    'details',
    { class: 'disclosure' },
    h('summary', null, 'A/B test weights'),
    h(
      'div',
      { class: 'disclosure-body stack' },
      h('p', { class: 'small muted' }, 'Versions with a weight above 0 are active. Each letter picks one of them at random in proportion to its weight; the metrics page compares done-rates by version.'),
      h('div', { class: 'ab-grid' }, abRows),
      saveWeights,
    ),
  );

  return h(
    'div',
    { class: 'stack' },
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'versions-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'versions-title' }, `${topic.name}: versions`), h('span', { class: 'small muted' }, active.length > 1 ? `A/B test across ${plural(active.length, 'version')}` : `Active: v${active[0]?.version ?? '—'}`)),
      versionList,
      ab,
    ),
    newVersionPanel(ctx, topic, base, latest, reload),
    versions.length < 2
      ? null
      : h(
      'section',
      { class: 'panel', 'aria-labelledby': 'diff-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'diff-title' }, 'Compare versions'), h('div', { class: 'cluster' }, field('From', fromSel), field('To', toSel))),
      diffOut,
    ),
  );
}

function versionSelect(versions: PromptVersion[], selected: number, name: string): HTMLSelectElement {
  return h('select', { name }, versions.map((v) => h('option', { value: String(v.version), selected: v.version === selected }, `v${v.version}${v.active ? ' (active)' : ''}`)));
}

function templateBlock(title: string, text: string): HTMLElement {
  return h('div', null, h('h3', { class: 'small' }, title), h('pre', { class: 'template-text' }, text));
}

/** Folded unified view of a line diff, with +/− counts. */
export function diffBlock(title: string, lines: DiffLine[]): HTMLElement {
  const stats = diffStats(lines);
  const rows: Child[] = [];
  if (!stats.added && !stats.removed) {
    return h('div', null, h('h3', { class: 'small' }, title, ' ', h('span', { class: 'muted' }, '— no changes')));
  }
  for (const chunk of foldUnchanged(lines, 2)) {
    if (chunk.kind === 'skipped') rows.push(h('div', { class: 'diff-skip' }, `⋯ ${plural(chunk.count, 'unchanged line')}`));
    else
      for (const l of chunk.lines)
        rows.push(
          h(
            'div',
            { class: ['diff-line', l.op === '+' && 'diff-add', l.op === '-' && 'diff-del'] },
            h('span', { class: 'no' }, l.oldLine ?? ''),
            h('span', { class: 'no' }, l.newLine ?? ''),
            h('span', { class: 'sign' }, l.op === '-' ? '−' : l.op),
            h('span', null, l.text || ' '),
          ),
        );
  }
  return h(
    'div',
    { class: 'diff-wrap' },
    h('h3', { class: 'small' }, title, ' ', h('span', { class: 'diff-stats' }, h('span', { class: 'add' }, `+${stats.added}`), ' ', h('span', { class: 'del' }, `−${stats.removed}`))),
    h('div', { class: 'diff', role: 'group', 'aria-label': `${title} changes` }, rows),
  );
}

/** Write the next version, seeing its diff against the base as you type. */
function newVersionPanel(ctx: PageContext, topic: AdminTopic, base: PromptVersion, latest: PromptVersion, reload: () => Promise<void>): HTMLElement {
  const system = h('textarea', { class: 'code', name: 'systemTemplate', spellcheck: 'false', 'data-testid': 'new-system' });
  const user = h('textarea', { class: 'code', name: 'userTemplate', spellcheck: 'false', 'data-testid': 'new-user' });
  system.value = base.systemTemplate;
  user.value = base.userTemplate;
  const note = h('input', { type: 'text', name: 'changeNote', maxlength: '1000', placeholder: 'What changed and why', 'data-testid': 'new-note' });
  const activate = h('input', { type: 'checkbox', name: 'activate', id: 'new-activate' });
  const create = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'create-version' }, `Create v${latest.version + 1}`);
  const preview = h('div', { class: 'stack', 'aria-live': 'off' });
  const error = h('p', { class: 'form-error', role: 'alert' });

  let t: number | undefined;
  const updateDiff = () => {
    window.clearTimeout(t);
    t = window.setTimeout(() => {
      replace(preview, diffBlock(`System template vs v${base.version}`, lineDiff(base.systemTemplate, system.value)), diffBlock(`User template vs v${base.version}`, lineDiff(base.userTemplate, user.value)));
    }, 250);
  };
  ctx.onCleanup(() => window.clearTimeout(t));
  system.addEventListener('input', updateDiff);
  user.addEventListener('input', updateDiff);
  updateDiff();

  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h('p', { class: 'small muted' }, `Starts from v${base.version}${base.active ? ' (active)' : ''}. Placeholders such as {{persona_name}} and {{streak}} are filled in by the composer.`),
    field('System template', system),
    field('User template', user),
    field('Change note', note),
    h('label', { class: 'check', for: 'new-activate' }, activate, ' Make it the only active version right away'),
    error,
    h('div', { class: 'cluster' }, create),
    h('div', null, h('h3', { class: 'small' }, 'Your changes'), preview),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    if (!system.value.trim() || !user.value.trim()) {
      error.textContent = 'Both templates are needed.';
      return;
    }
    if (system.value === base.systemTemplate && user.value === base.userTemplate) {
      error.textContent = `This is identical to v${base.version}. Change something first.`;
      return;
    }
    try {
      const created = await withBusy(create, 'Creating…', () =>
        adminApi.createPrompt(topic.id, { systemTemplate: system.value, userTemplate: user.value, changeNote: note.value.trim() || undefined, activate: activate.checked }),
      );
      toast(`Created v${created.version} of ${topic.name}${created.active ? ' — now active' : ''}.`);
      await reload();
    } catch (err) {
      error.textContent = err instanceof Error ? err.message : 'Could not create the version.';
    }
  });

  return h('details', { class: 'disclosure new-version', 'data-testid': 'new-version' }, h('summary', null, `New version (v${latest.version + 1})`), h('div', { class: 'disclosure-body' }, form));
}
