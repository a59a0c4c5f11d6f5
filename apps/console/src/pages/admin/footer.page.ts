import { field, withBusy } from '../../components/fields';
import { htmlFrame } from '../../components/html-frame';
import { toast } from '../../components/toast';
import { h, replace } from '../../lib/dom';
import { adminApi } from '../../lib/admin-api';
import { ApiError } from '../../lib/http.client';
import { formatDateTime } from '../../lib/format';
import type { PageContext } from '../page';
import { adminHead } from './admin-layout';

/** The footer of every letter, in text and HTML, with a live preview rendered by the server. */
export async function footerPage(ctx: PageContext): Promise<HTMLElement> {
  const footer = await adminApi.footer();
  const text = h('textarea', { class: 'code', rows: '7', maxlength: '5000', spellcheck: 'false', 'data-testid': 'footer-text' });
  const html = h('textarea', { class: 'code', rows: '9', maxlength: '20000', spellcheck: 'false', 'data-testid': 'footer-html' });
  text.value = footer?.textTemplate ?? '';
  html.value = footer?.htmlTemplate ?? '';
  const topicName = h('input', { type: 'text', value: 'Resilience', maxlength: '120' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save footer');
  const error = h('p', { class: 'form-error', role: 'alert' });
  const warnings = h('ul', { class: 'warnings', 'aria-live': 'polite' });
  const htmlPreview = h('div', { class: 'preview-pane', 'data-testid': 'footer-preview' });
  const textPreview = h('div', { class: 'preview-pane' });

  let timer: number | undefined;
  let seq = 0;
  const refresh = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(async () => {
      const mine = ++seq;
      if (!text.value.trim() || !html.value.trim()) {
        replace(warnings, h('li', null, 'Both versions are needed.'));
        return;
      }
      try {
        const p = await adminApi.previewFooter({ textTemplate: text.value, htmlTemplate: html.value, topicName: topicName.value.trim() || 'Resilience' });
        if (mine !== seq || !ctx.isCurrent()) return;
        replace(htmlPreview, htmlFrame(p.html, { title: 'Footer preview (HTML)', minHeight: 60 }));
        replace(textPreview, h('pre', null, p.text));
        replace(warnings, p.warnings.map((w) => h('li', null, w)));
      } catch (err) {
        if (mine === seq) replace(warnings, h('li', null, err instanceof Error ? err.message : 'Preview failed.'));
      }
    }, 300);
  };
  ctx.onCleanup(() => window.clearTimeout(timer));
  for (const el of [text, html, topicName]) el.addEventListener('input', refresh);
  refresh();

  const form = h(
    'form',
    { class: 'panel stack', novalidate: true },
    field('Plain-text footer', text),
    field('HTML footer', html, { hint: 'Simple markup only (p, a, br, em, strong, small, a few inline styles); anything else is removed on save.' }),
    h('p', { class: 'small muted' }, 'Placeholders: ', h('code', null, '{{login_link}}'), ' ', h('code', null, '{{unsubscribe_link}}'), ' ', h('code', null, '{{topic_name}}'), '. Both versions must contain the unsubscribe link.'),
    error,
    h('div', { class: 'cluster' }, save, footer ? h('span', { class: 'small muted' }, `Last saved ${formatDateTime(footer.updatedAt)}${footer.updatedByEmail ? ` by ${footer.updatedByEmail}` : ''}`) : null),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    try {
      await withBusy(save, 'Saving…', () => adminApi.saveFooter({ textTemplate: text.value, htmlTemplate: html.value }));
      toast('Footer saved. New letters use it from now on.');
      ctx.rerender();
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : 'Could not save the footer.';
    }
  });

  return h(
    'div',
    null,
    adminHead('Footer', 'What every letter ends with: how to reply, the settings link and the unsubscribe link.'),
    h(
      'div',
      { class: 'footer-editor' },
      form,
      h(
        'section',
        { class: 'panel stack', 'aria-labelledby': 'footer-preview-title' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'footer-preview-title' }, 'Preview'), field('Topic name', topicName)),
        warnings,
        h('h3', { class: 'small' }, 'HTML'),
        htmlPreview,
        h('h3', { class: 'small' }, 'Plain text'),
        textPreview,
      ),
    ),
  );
}
