import { badge, emptyState, switchField, withBusy } from '../../components/fields';
import { toast, toastError } from '../../components/toast';
import { h } from '../../lib/dom';
import { adminApi, type ConfigEntry } from '../../lib/admin-api';
import { formatDateTime } from '../../lib/format';
import type { PageContext } from '../page';
import { adminHead } from './admin-layout';

/** Runtime toggles (app_config): booleans as switches, numbers as inputs, objects as JSON. */
export async function configPage(ctx: PageContext): Promise<HTMLElement> {
  const entries = await adminApi.config();
  return h(
    'div',
    null,
    adminHead('Config', 'Runtime settings every service reads from the database. Changes apply within seconds and are recorded in the audit log.'),
    entries.length ? h('ul', { class: 'config-list' }, entries.map((e) => configItem(ctx, e))) : emptyState('No settings'),
  );
}

function configItem(ctx: PageContext, e: ConfigEntry): HTMLElement {
  const meta = h('p', { class: 'small' }, e.description ?? '', e.updatedByEmail ? h('span', { class: 'muted' }, ` · changed ${formatDateTime(e.updatedAt)} by ${e.updatedByEmail}`) : null);
  const save = async (value: unknown, control: HTMLElement, btn?: HTMLButtonElement) => {
    try {
      const run = () => adminApi.setConfig(e.key, value);
      if (btn) await withBusy(btn, 'Saving…', run);
      else await run();
      toast(`${e.key} saved.`);
      ctx.rerender();
    } catch (err) {
      toastError(err);
      control.focus();
    }
  };

  let control: HTMLElement;
  if (!e.editable) {
    control = h('code', null, JSON.stringify(e.value));
  } else if (typeof e.value === 'boolean') {
    const input = h('input', { checked: e.value, 'data-testid': `config-${e.key}`, 'aria-describedby': `cfg-${e.key}-desc` });
    input.addEventListener('change', () => void save(input.checked, input));
    control = switchField(h('span', { class: 'sr-only' }, e.key), input);
    // The visible key is the heading; the switch's own label text stays for screen readers.
  } else if (typeof e.value === 'number') {
    const input = h('input', { type: 'number', step: 'any', value: String(e.value), class: 'weight-input', 'aria-label': e.key });
    const btn = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, 'Save');
    btn.addEventListener('click', () => void save(Number(input.value), input, btn));
    control = h('div', { class: 'config-control' }, input, btn);
  } else {
    const input = h('textarea', { class: 'code', rows: '3', 'aria-label': e.key, spellcheck: 'false' });
    input.value = JSON.stringify(e.value, null, 2);
    const btn = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, 'Save');
    btn.addEventListener('click', () => {
      let value: unknown;
      try {
        value = JSON.parse(input.value);
      } catch {
        toast(`${e.key}: not valid JSON.`, 'error');
        input.focus();
        return;
      }
      void save(value, input, btn);
    });
    control = h('div', { class: 'config-control config-json' }, input, btn);
  }
  return h(
    'li',
    { class: 'config-item' },
    h('div', { id: `cfg-${e.key}-desc` }, h('h3', null, e.key, ' ', e.editable ? null : badge('read-only')), meta),
    h('div', { class: 'config-control' }, control),
  );
}
