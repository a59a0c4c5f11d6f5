import { button, emptyState, field, loadError, spinner, switchField, withBusy } from '../components/fields';
import { confirmDialog } from '../components/confirm-dialog';
import { toast, toastError } from '../components/toast';
import { h, replace, uniqueId } from '../lib/dom';
import { api, ApiError, query } from '../lib/http.client';
import { loadSubscriptions, saveSubscriptions, type PreviewRun, type Subscription } from '../lib/api-types';
import { formatDate, formatDateTime, plural, relativeTime, zoneAbbreviation } from '../lib/format';
import { navigate } from '../lib/router';
import { forgetMe, me } from '../lib/session';
import { browserLanguage, languageLabel, languageOptions } from '../lib/languages';
import { allTimeZones, browserTimeZone, groupTimeZones, zoneLabel } from '../lib/timezones';
import type { PageContext } from './page';

const NOTE_MAX = 2000;

/** Per-topic settings (enabled, time, zone, note, preview, send now) and "your data". */
export function settingsPage(ctx: PageContext): HTMLElement {
  const list = h('div', { class: 'sub-list' }, spinner('Loading your topics…'));
  const summary = h('p', { class: 'settings-summary' });
  const load = () => {
    replace(list, spinner('Loading your topics…'));
    loadSubscriptions().then(
      (subs) => {
        if (!ctx.isCurrent()) return;
        updateSummary(summary, subs);
        if (!subs.length) replace(list, emptyState('No topics yet', 'Topics appear here once an admin publishes them.'));
        else replace(list, subs.map((s) => topicCard(ctx, s, (saved) => updateSummary(summary, saved))));
      },
      (err) => ctx.isCurrent() && replace(list, loadError(err, load)),
    );
  };
  load();

  return h(
    'div',
    { class: 'settings' },
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Your settings'), summary)),
    suppressionNotice(),
    list,
    dataSection(ctx),
  );
}

const SUPPRESSION_WHY: Record<string, string> = {
  hard_bounce: 'your mail server refused one of our letters as undeliverable',
  complaint: 'one of our letters was reported as spam from your mailbox',
  manual: 'an admin stopped mail to it',
};

/** Says plainly when letters cannot reach this address, and why (only an admin can lift it). */
function suppressionNotice(): HTMLElement | null {
  const s = me()?.suppression;
  if (!s) return null;
  return h(
    'div',
    { class: 'callout callout-error', role: 'status', 'data-testid': 'suppression-notice' },
    h('p', null, h('strong', null, 'We are not sending mail to your address. '), `Since ${formatDate(s.since)}, ${SUPPRESSION_WHY[s.reason] ?? 'mail to it is suppressed'}.`),
    h('p', null, 'Your settings are kept, but no letter is sent until this is cleared. If your mailbox works again, reply to any earlier letter or contact us, and an admin can lift it.'),
  );
}

function updateSummary(el: HTMLElement, subs: Subscription[]): void {
  const on = subs.filter((s) => s.subscribed && s.enabled);
  el.textContent = on.length
    ? `You receive ${plural(on.length, 'letter')} a day: ${on.map((s) => s.topic.name).join(', ')}.`
    : 'Turn on a topic below, choose a time, and save. Your first letter arrives at the next slot.';
}

const zoneGroups = (() => {
  let cache: ReturnType<typeof groupTimeZones> | null = null;
  return (extra: string[]) => (extra.every((z) => cache?.some((g) => g.zones.includes(z))) && cache ? cache : (cache = groupTimeZones(allTimeZones(), extra)));
})();

function timezoneSelect(selected: string): HTMLSelectElement {
  const select = h('select', { name: 'timezone' });
  for (const group of zoneGroups([selected])) {
    select.append(h('optgroup', { label: group.region }, group.zones.map((z) => h('option', { value: z, selected: z === selected }, zoneLabel(z)))));
  }
  select.value = selected;
  return select;
}

function languageSelect(selected: string): HTMLSelectElement {
  const select = h('select', { name: 'language' });
  for (const tag of languageOptions(selected)) select.append(h('option', { value: tag, selected: tag === selected, lang: tag }, languageLabel(tag)));
  select.value = selected;
  return select;
}

function topicCard(ctx: PageContext, initial: Subscription, onSaved: (all: Subscription[]) => void): HTMLElement {
  let sub = initial;
  const code = sub.topic.code;
  const browserZone = browserTimeZone();
  const headingId = uniqueId('topic');

  const enabled = h('input', { name: 'enabled', checked: sub.subscribed && sub.enabled, 'data-testid': `enabled-${code}` });
  const time = h('input', { type: 'time', name: 'sendTime', value: sub.sendTime, required: true, step: '60', 'data-testid': `time-${code}` });
  const zone = timezoneSelect(sub.timezone ?? browserZone);
  zone.dataset.testid = `zone-${code}`;
  const useMine = button(`Use my time zone (${zoneLabel(browserZone)})`, { variant: 'quiet', small: true });
  const note = h('textarea', { name: 'contextNote', maxlength: String(NOTE_MAX), rows: '3', placeholder: 'e.g. I am training for my first marathon and keep skipping long runs.' });
  note.value = sub.contextNote ?? '';
  // A new subscription starts in the browser's language; a saved one keeps its own.
  const language = languageSelect(sub.subscribed ? sub.language : browserLanguage());
  language.dataset.testid = `language-${code}`;
  const languageNotice = h('p', { class: 'field-hint', role: 'status', 'data-testid': `language-notice-${code}` });
  const noteCount = h('span', { class: 'char-count', 'aria-live': 'off' });
  const previewList = h('ol', { class: 'preview-list', 'data-testid': `preview-${code}` });
  const previewBox = h('div', { class: 'preview', 'aria-live': 'polite', 'aria-atomic': 'true' }, h('p', { class: 'preview-title' }, 'Next letters'), previewList);
  const status = h('p', { class: 'save-status', role: 'status', 'data-testid': `status-${code}` });
  const save = button('Save', { variant: 'primary', 'data-testid': `save-${code}` });
  const sendNow = button('Send one now', { variant: 'secondary', 'data-testid': `send-now-${code}` });
  const meta = h('p', { class: 'sub-meta' });
  const actions = h('div', { class: 'sub-actions' }, save, sendNow, status);

  const details = h(
    'div',
    { class: 'sub-details' },
    h(
      'div',
      { class: 'form-row' },
      field('Time of day', time, { hint: 'Your local time in the zone on the right.' }),
      h('div', { class: 'field' }, h('label', { for: zone.id || (zone.id = uniqueId('tz')) }, 'Time zone'), zone, useMine),
    ),
    field('Letter language', language, { hint: 'Your letters — subject, text and footer — are written in this language. Reply in any language you like.' }),
    languageNotice,
    h('div', { class: 'field' }, h('label', { for: (note.id = uniqueId('note')) }, 'About you ', h('span', { class: 'muted' }, '(optional)')), h('p', { class: 'field-hint', id: `${note.id}-hint` }, 'A line or two your mentor keeps in mind: what you are working on, what gets in the way.'), note, noteCount),
    previewBox,
  );
  note.setAttribute('aria-describedby', `${note.id}-hint`);

  const card = h(
    'section',
    { class: ['sub-card', 'card'], 'aria-labelledby': headingId, 'data-topic': code },
    h(
      'div',
      { class: 'sub-head' },
      h(
        'div',
        { class: 'sub-title' },
        h('h2', { id: headingId }, sub.topic.name),
        sub.topic.persona ? h('p', { class: 'persona' }, h('span', { class: 'persona-name' }, sub.topic.persona.name), ` · ${sub.topic.persona.era}`) : null,
        h('p', { class: 'sub-desc' }, sub.topic.description),
      ),
      switchField('Daily letter', enabled),
    ),
    meta,
    details,
    actions,
  );

  let dirty = false;
  const markDirty = () => {
    dirty = true;
    save.hidden = false;
    actions.hidden = false;
    status.textContent = 'Unsaved changes';
    status.className = 'save-status save-status-dirty';
  };
  const reflect = () => {
    const on = enabled.checked;
    details.hidden = !on;
    card.classList.toggle('is-off', !on);
    // A topic that is off and untouched shows no buttons: nothing to save or send.
    save.hidden = !on && !dirty;
    sendNow.hidden = !on;
    actions.hidden = save.hidden && sendNow.hidden && !status.textContent;
    sendNow.disabled = !(sub.subscribed && sub.enabled);
    sendNow.title = sendNow.disabled ? 'Save this topic as on first' : '';
    useMine.hidden = zone.value === browserZone;
    // Without an LLM the offline composer writes English only: say so rather than pretend.
    const fallsBack = sub.subscribed && sub.letterLanguage !== sub.language;
    languageNotice.hidden = !fallsBack;
    languageNotice.textContent = fallsBack
      ? `For now your letters come in English: this Mentor Zero has no AI writer set up, and its built-in letters exist only in English. Your choice (${languageLabel(sub.language)}) is kept and used as soon as one is.`
      : '';
    noteCount.textContent = `${note.value.length} / ${NOTE_MAX}`;
    const bits: string[] = [];
    if (sub.subscribed && sub.enabled && sub.nextRunAt) bits.push(`Next letter ${formatDateTime(sub.nextRunAt, sub.timezone ?? undefined)} (${relativeTime(sub.nextRunAt)})`);
    if (sub.pausedUntil && new Date(sub.pausedUntil) > new Date()) bits.push(`Paused until ${formatDate(sub.pausedUntil, sub.timezone ?? undefined)}`);
    if (sub.streak > 0) bits.push(`Streak: ${plural(sub.streak, 'day')}`);
    if (sub.lastLetterAt) bits.push(`Last letter ${relativeTime(sub.lastLetterAt)}`);
    meta.textContent = bits.join(' · ');
    meta.hidden = !bits.length;
  };

  // Preview: the same schedule function as the scheduler, asked again as time or zone change.
  let previewTimer: number | undefined;
  let previewAbort: AbortController | null = null;
  const refreshPreview = () => {
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(async () => {
      if (!enabled.checked) return;
      if (!/^\d{2}:\d{2}$/.test(time.value)) {
        replace(previewList, h('li', { class: 'muted' }, 'Choose a time to see your next letters.'));
        return;
      }
      previewAbort?.abort();
      previewAbort = new AbortController();
      const tz = zone.value;
      try {
        const res = await api.get<{ runs: PreviewRun[] }>(
          `/api/schedule/preview${query({ timezone: tz, sendTime: time.value, count: 3, after: new Date().toISOString(), lastLocalDate: unchangedSchedule() ? sub.lastScheduledLocalDate : undefined })}`,
          { signal: previewAbort.signal },
        );
        if (!ctx.isCurrent()) return;
        replace(previewList, res.runs.map((r) => previewItem(r, tz, browserZone)));
      } catch (err) {
        if ((err as Error).name === 'AbortError' || !ctx.isCurrent()) return;
        replace(previewList, h('li', { class: 'form-error' }, err instanceof Error ? err.message : 'Could not compute the schedule.'));
      }
    }, 200);
  };
  const unchangedSchedule = () => sub.subscribed && time.value === sub.sendTime && zone.value === (sub.timezone ?? '');
  ctx.onCleanup(() => {
    window.clearTimeout(previewTimer);
    previewAbort?.abort();
  });

  enabled.addEventListener('change', () => {
    markDirty();
    reflect();
    refreshPreview();
  });
  time.addEventListener('input', () => {
    markDirty();
    refreshPreview();
  });
  zone.addEventListener('change', () => {
    markDirty();
    reflect();
    refreshPreview();
  });
  useMine.addEventListener('click', () => {
    zone.value = browserZone;
    zone.dispatchEvent(new Event('change'));
    zone.focus();
  });
  language.addEventListener('change', markDirty);
  note.addEventListener('input', () => {
    markDirty();
    noteCount.textContent = `${note.value.length} / ${NOTE_MAX}`;
  });

  save.addEventListener('click', async () => {
    if (!time.checkValidity() || !/^\d{2}:\d{2}$/.test(time.value)) {
      status.textContent = 'Please choose a time of day.';
      status.className = 'save-status save-status-error';
      time.focus();
      return;
    }
    try {
      const all = await withBusy(save, 'Saving…', () =>
        saveSubscriptions([{ topic: code, enabled: enabled.checked, sendTime: time.value, timezone: zone.value, language: language.value, contextNote: note.value.trim() ? note.value.trim() : null }]),
      );
      const mine = all.find((s) => s.topic.code === code);
      if (mine) sub = mine;
      dirty = false;
      status.className = 'save-status save-status-ok';
      status.textContent = sub.enabled
        ? sub.nextRunAt
          ? `Saved. Next letter ${formatDateTime(sub.nextRunAt, sub.timezone ?? undefined)}.`
          : 'Saved.'
        : `Saved. ${sub.topic.name} is off — no more letters for it.`;
      reflect();
      onSaved(all);
    } catch (err) {
      status.className = 'save-status save-status-error';
      status.textContent = err instanceof ApiError ? err.message : 'Could not save. Please try again.';
    }
  });

  sendNow.addEventListener('click', async () => {
    try {
      await withBusy(sendNow, 'Sending…', () => api.post(`/api/subscriptions/${encodeURIComponent(code)}/send-now`));
      status.className = 'save-status save-status-ok';
      status.textContent = `A ${sub.topic.name} letter is being written now. It arrives in a minute or two.`;
      toast(`${sub.topic.name}: a letter is on its way.`);
    } catch (err) {
      status.className = 'save-status save-status-error';
      status.textContent = err instanceof ApiError ? err.message : 'Could not send now.';
    }
  });

  // Leaving the tab with unsaved changes asks first (in-app navigation simply discards them).
  const guard = (e: BeforeUnloadEvent) => {
    if (dirty) e.preventDefault();
  };
  window.addEventListener('beforeunload', guard);
  ctx.onCleanup(() => window.removeEventListener('beforeunload', guard));

  reflect();
  refreshPreview();
  return card;
}

function previewItem(run: PreviewRun, tz: string, browserZone: string): HTMLLIElement {
  const at = new Date(run.utc);
  const local = formatDateTime(at, tz);
  const abbr = zoneAbbreviation(at, tz);
  const yours = tz !== browserZone ? h('span', { class: 'muted' }, ` · ${formatDateTime(at, browserZone)} where you are now`) : null;
  return h('li', null, h('time', { datetime: run.utc }, `${local} `, h('span', { class: 'muted' }, abbr)), yours, h('span', { class: 'preview-rel' }, ` (${relativeTime(at)})`));
}

/** Export everything we hold about me as a JSON file; erase me. */
function dataSection(ctx: PageContext): HTMLElement {
  const exportBtn = button('Download my data (JSON)', { variant: 'secondary', 'data-testid': 'export' });
  const deleteBtn = button('Delete my account…', { variant: 'danger', 'data-testid': 'delete-account' });
  exportBtn.addEventListener('click', async () => {
    try {
      const data = await withBusy(exportBtn, 'Preparing…', () => api.get<unknown>('/api/me/export'));
      const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `mentor-zero-export-${new Date().toISOString().slice(0, 10)}.json`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      toast('Your data was downloaded.');
    } catch (err) {
      toastError(err, 'Could not export your data.');
    }
  });
  deleteBtn.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Delete your account?',
      body: h(
        'div',
        null,
        h('p', null, 'This erases your email address, settings, notes, replies and letters, and stops every letter at once. It cannot be undone.'),
        h('p', { class: 'muted' }, 'You can always sign up again later with the same address — you would start fresh.'),
      ),
      confirmLabel: 'Delete everything',
      danger: true,
      typeToConfirm: 'delete',
    });
    if (!ok) return;
    try {
      await withBusy(deleteBtn, 'Deleting…', () => api.del('/api/me'));
      forgetMe();
      toast('Your account and data have been erased. Take care.', 'info', 8000);
      navigate('/');
    } catch (err) {
      toastError(err, 'Could not delete your account.');
    }
  });
  void ctx;
  return h(
    'section',
    { class: 'data-section card', 'aria-labelledby': 'data-title' },
    h('h2', { id: 'data-title' }, 'Your data'),
    h('p', null, 'Everything Mentor Zero stores about you — settings, letters, replies, progress — in one file. Or erase it all.'),
    h('div', { class: 'cluster' }, exportBtn, deleteBtn),
  );
}
