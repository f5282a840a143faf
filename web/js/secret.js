// A secret the server hands out once (a new API token, a webhook endpoint's signing secret): it
// is shown in a dialog of its own, in a read-only field that is selected when focused (so the
// keyboard copies it) with a Copy button, under a warning that it cannot be shown again. The
// page behind is left alone until the dialog is closed.

import { openDialog } from './dialog.js';
import { h, uid } from './dom.js';
import { bind } from './i18n.js';

function secretBox({ secret, label, warning, testid }) {
  const id = uid('secret');
  const input = h('input', {
    id,
    type: 'text',
    class: 'secret__value code',
    readonly: true,
    value: secret,
    spellcheck: 'false',
    autocomplete: 'off',
    'aria-describedby': `${id}-warning`,
    'data-testid': testid,
    'data-autofocus': true,
  });
  input.addEventListener('focus', () => input.select());
  const status = h('p', { class: 'secret__status', role: 'status', 'data-testid': `${testid}-copied` });
  const copy = h('button', {
    type: 'button',
    class: 'button',
    'data-testid': `${testid}-copy`,
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(secret);
        bind(status, 'secret.copied');
      } catch {
        // No clipboard here (not HTTPS, or refused): the field is selected for Ctrl+C instead.
        input.focus();
        input.select();
        bind(status, 'secret.copyByHand');
      }
    },
  }, h('span', { t: 'lsc.copy' }), ' ', h('span', { class: 'visually-hidden', t: 'secret.copyWhat' }));
  return h('div', { class: 'secret' },
    h('div', { class: 'dialog__warning', id: `${id}-warning`, 'data-testid': `${testid}-warning` }, h('p', { t: warning })),
    h('div', { class: 'field' },
      h('label', { for: id, class: 'field__label', t: label }),
      h('div', { class: 'secret__row' }, input, copy)),
    status);
}

/**
 * Shows `secret` once. `title`/`titleParams` head the dialog, `label` names the field, `warning`
 * says it will not be shown again, `use` (optional, with `useParams`) how to use it; `done()` runs
 * once the dialog is closed (its button or Escape).
 */
export function openSecretDialog({ title, titleParams, secret, label, warning, use, useParams, testid, done }) {
  const { dialog } = openDialog({
    title,
    titleParams,
    testid: `${testid}-dialog`,
    content: ({ close }) => [
      secretBox({ secret: secret ?? '', label, warning, testid }),
      use && h('p', { class: 'dialog__text', t: use, params: useParams, 'data-testid': `${testid}-use` }),
      h('div', { class: 'form__actions' },
        h('button', { type: 'button', class: 'button button--primary', t: 'secret.done', 'data-testid': `${testid}-done`, onclick: close })),
    ],
  });
  dialog.addEventListener('close', () => done?.(), { once: true });
}
