import { type Child, h, uniqueId } from '../lib/dom';

/**
 * A modal confirmation on the native <dialog> (focus trap, Escape and inert background for free).
 * With `typeToConfirm`, the confirm button stays disabled until that word is typed — for
 * irreversible actions such as erasing an account.
 */
export function confirmDialog(opts: { title: string; body: Child; confirmLabel: string; danger?: boolean; typeToConfirm?: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = uniqueId('dlg');
    const confirm = h('button', { type: 'submit', class: ['btn', opts.danger ? 'btn-danger' : 'btn-primary'], value: 'confirm' }, opts.confirmLabel);
    const cancel = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Cancel');
    let typed: HTMLInputElement | null = null;
    if (opts.typeToConfirm) {
      const word = opts.typeToConfirm;
      typed = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `${titleId}-type` });
      confirm.disabled = true;
      typed.addEventListener('input', () => {
        confirm.disabled = typed!.value.trim().toLowerCase() !== word.toLowerCase();
      });
    }
    const form = h(
      'form',
      { method: 'dialog', class: 'dialog-body' },
      h('h2', { id: titleId }, opts.title),
      h('div', { class: 'dialog-text' }, opts.body),
      typed ? h('div', { class: 'field' }, h('label', { id: `${titleId}-type` }, 'Type ', h('strong', null, opts.typeToConfirm!), ' to confirm'), typed) : null,
      h('div', { class: 'dialog-actions' }, cancel, confirm),
    );
    if (typed) typed.setAttribute('aria-labelledby', `${titleId}-type`);
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, form);
    let result = false;
    form.addEventListener('submit', () => {
      result = true;
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    (typed ?? cancel).focus();
  });
}
