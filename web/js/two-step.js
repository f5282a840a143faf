// The account page's "Two-step sign-in" card. Off: "Turn on" starts the set-up (POST
// /account/mfa), which shows the key, grouped by four for typing into an app, and its otpauth://
// address, and asks for the app's first code to confirm it; the confirmation answers with the
// recovery codes, shown here once under a warning, with a copy button. On: how many recovery
// codes are left, renewing them (against a code) and turning it off (password and a code). What
// is on comes from GET /api/v1/session, asked again after every change.

import { api, refreshSession } from './api.js';
import { LIMITS } from './constants.js';
import { h, uid } from './dom.js';
import { bind } from './i18n.js';
import { createForm, field, whilePending } from './form.js';
import { notify } from './notice.js';
import { loadingSection } from './present.js';
import { reportProblem } from './problems.js';

/** The card's content, for a section of the account page. `email`: the account's, for password managers. */
export function twoStepContent(email) {
  const section = loadingSection({
    testid: 'mfa-state',
    load: () => refreshSession(),
    show: (session) => (session.mfa_enabled ? onView(session.recovery_codes_left ?? 0) : offView()),
  });

  // Shows `parts` in place of the card's content, focusing `focus` (for keyboard and screen
  // reader users, whose place would otherwise be lost with the button they pressed).
  function replace(parts, focus) {
    section.replaceChildren(...[parts].flat().filter(Boolean));
    focus?.focus();
  }

  function offView() {
    const start = h('button', { type: 'button', class: 'button button--primary', t: 'mfa.turnOn', 'data-testid': 'mfa-turn-on' });
    start.addEventListener('click', () => whilePending(start, async () => {
      try {
        setUp(await api('POST', '/account/mfa'));
      } catch (err) {
        reportProblem(err);
      }
    }));
    return [
      h('p', { class: 'card__text', 'data-testid': 'mfa-off', t: 'mfa.offText' }),
      h('p', {}, start),
    ];
  }

  function setUp({ secret_groups: groups, uri }) {
    const keyId = uid('mfa-key');
    const uriId = uid('mfa-uri');
    const confirm = createForm({
      testid: 'mfa-confirm-form',
      fields: [codeField('code', 'mfa.firstCode')],
      submit: 'mfa.confirm',
      actions: h('button', { type: 'button', class: 'button', t: 'mfa.cancel', 'data-testid': 'mfa-cancel', onclick: () => section.reload() }),
      async onSubmit({ code }) {
        const { recovery_codes: codes } = await api('POST', '/account/mfa/confirm', { code });
        notify({ kind: 'success', key: 'mfa.turnedOn' });
        showCodes(codes, 'mfa.codesTitle');
      },
    });
    const heading = h('h3', { class: 'form__subtitle', tabindex: '-1', t: 'mfa.setUpTitle' });
    replace([
      heading,
      h('ol', { class: 'card__text' },
        h('li', { t: 'mfa.stepApp' }),
        h('li', {},
          h('span', { id: keyId, t: 'mfa.stepKey' }), ' ',
          h('code', { class: 'code', 'aria-labelledby': keyId, 'data-testid': 'mfa-key' }, groups)),
        h('li', {},
          h('label', { for: uriId, t: 'mfa.stepUri' }),
          h('input', {
            id: uriId, type: 'text', class: 'code', readonly: true, value: uri, spellcheck: 'false', autocomplete: 'off',
            'data-testid': 'mfa-uri', onfocus: (event) => event.target.select(),
          })),
        h('li', { t: 'mfa.stepCode' })),
      confirm.element,
    ], heading);
  }

  // The recovery codes, shown once: the person keeps them before going on.
  function showCodes(codes, title) {
    const heading = h('h3', { class: 'form__subtitle', tabindex: '-1', t: title });
    const status = h('p', { class: 'secret__status', role: 'status', 'data-testid': 'mfa-codes-copied' });
    const text = codes.join('\n');
    const copy = h('button', {
      type: 'button', class: 'button', 'data-testid': 'mfa-codes-copy', t: 'mfa.copyCodes',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(text);
          bind(status, 'secret.copied');
        } catch {
          // No clipboard here (not HTTPS, or refused): the list is selected for Ctrl+C instead.
          window.getSelection()?.selectAllChildren(list);
          bind(status, 'secret.copyByHand');
        }
      },
    });
    const list = h('ul', { class: 'mfa-codes code', 'data-testid': 'mfa-codes' }, codes.map((code) => h('li', {}, code)));
    const done = h('button', { type: 'button', class: 'button button--primary', t: 'mfa.codesDone', 'data-testid': 'mfa-codes-done', onclick: () => section.reload() });
    replace([
      heading,
      h('div', { class: 'dialog__warning', 'data-testid': 'mfa-codes-warning' }, h('p', { t: 'mfa.codesWarning' })),
      list,
      status,
      h('div', { class: 'form__actions' }, copy, done),
    ], heading);
  }

  function onView(left) {
    const renew = createForm({
      testid: 'mfa-renew-form',
      fields: [codeField('code', 'mfa.appCode')],
      submit: 'mfa.renew',
      async onSubmit({ code }) {
        const { recovery_codes: codes } = await api('POST', '/account/mfa/recovery-codes', { code });
        notify({ kind: 'success', key: 'mfa.renewed' });
        showCodes(codes, 'mfa.newCodesTitle');
      },
    });
    const off = createForm({
      testid: 'mfa-off-form',
      username: email,
      fields: [field.currentPassword(), codeField('code', 'mfa.appOrRecoveryCode', 'mfa.offCodeHint')],
      submit: 'mfa.turnOff',
      async onSubmit(values) {
        await api('DELETE', '/account/mfa', values);
        notify({ kind: 'success', key: 'mfa.turnedOff' });
        await section.reload();
      },
    });
    return [
      h('p', { class: 'card__text', 'data-testid': 'mfa-on', t: 'mfa.onText' }),
      h('p', { class: 'card__text', 'data-testid': 'mfa-codes-left', t: 'mfa.codesLeft', params: { count: left } }),
      h('h3', { class: 'form__subtitle', t: 'mfa.renewTitle' }),
      h('p', { class: 'card__text', t: 'mfa.renewText' }),
      renew.element,
      h('h3', { class: 'form__subtitle', t: 'mfa.offTitle' }),
      off.element,
    ];
  }

  return section;
}

// A code typed from the app (or a recovery code, where `hint` says so).
function codeField(name, label, hint) {
  return {
    name,
    type: 'text',
    label,
    hint,
    autocomplete: 'one-time-code',
    inputmode: hint ? null : 'numeric',
    maxlength: LIMITS.LIMIT_MFA_CODE_CHARS,
    testid: `mfa-${label.split('.').pop()}`,
  };
}
