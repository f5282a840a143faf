// Form building and submission shared by every page: labelled fields, quick local checks (the
// server stays the judge; these only spare a round trip), field errors wired to their inputs with
// aria-describedby/aria-invalid, a disabled submit button while the request is pending, and
// problem messages in the status line.

import { ApiError } from './api.js';
import { h, uid } from './dom.js';
import { bind } from './i18n.js';
import { clearNotice } from './notice.js';
import { fieldErrorKey, reportProblem } from './problems.js';

// The password limits of the API contract.
const PASSWORD_MIN = 10;
const PASSWORD_MAX = 256;

/** Field presets. `name` is the API's field name, so server errors land on the right input. */
export const field = {
  name: () => ({ name: 'name', type: 'text', label: 'field.name', autocomplete: 'name' }),
  email: () => ({ name: 'email', type: 'email', label: 'field.email', autocomplete: 'email' }),
  currentPassword: (name = 'password', label = 'field.password') => ({
    name, type: 'password', label, autocomplete: 'current-password',
  }),
  newPassword: (name = 'password', label = 'field.password') => ({
    name, type: 'password', label, autocomplete: 'new-password', hint: 'field.passwordHint', newPassword: true,
  }),
};

/**
 * Builds a form. `onSubmit(values)` returns a promise; an ApiError it rejects with is shown:
 * validation errors next to their fields, anything else in the status line unless
 * `onProblem(err, values)` returns true to say it dealt with it. `username` (an address) adds the
 * hidden account field that password managers expect next to a new password.
 */
export function createForm({ fields, submit, onSubmit, onProblem, testid, values = {}, username }) {
  const inputs = new Map();
  const rows = fields.map((spec) => {
    const row = fieldRow(spec, values[spec.name]);
    inputs.set(spec.name, row);
    return row.element;
  });
  const button = h('button', { type: 'submit', class: 'button button--primary', t: submit, 'data-testid': testid && `${testid}-submit` });
  // Password managers file a changed password under the account name found in the same form.
  const account = username && h('input', { type: 'email', name: 'username', autocomplete: 'username', value: username, hidden: true, readonly: true });
  const form = h('form', { class: 'form', novalidate: true, 'data-testid': testid }, account, rows, h('div', { class: 'form__actions' }, button));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearNotice();
    for (const row of inputs.values()) row.setError(null);
    const data = readValues(fields, inputs);
    const local = fields
      .map((spec) => [spec.name, checkField(spec, data[spec.name])])
      .filter(([, code]) => code);
    if (local.length) {
      showFieldErrors(local);
      return;
    }
    try {
      await whilePending(button, () => onSubmit(data));
    } catch (err) {
      if (form.isConnected) handleProblem(err, data); // else the user has moved on
    }
  });

  function handleProblem(err, data) {
    if (err instanceof ApiError && err.code === 'validation' && err.errors.length) {
      const known = err.errors.filter((e) => inputs.has(e.field)).map((e) => [e.field, e.code]);
      if (known.length) showFieldErrors(known);
      if (known.length === err.errors.length) return;
    }
    if (err instanceof ApiError && onProblem && onProblem(err, data)) return;
    reportProblem(err);
  }

  function showFieldErrors(pairs) {
    for (const [name, code] of pairs) inputs.get(name).setError(code);
    inputs.get(pairs[0][0]).input.focus();
  }

  return { element: form, reset: () => form.reset() };
}

function fieldRow(spec, value) {
  const id = uid(`f-${spec.name}`);
  const hintId = spec.hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const input = h('input', {
    id,
    name: spec.name,
    type: spec.type,
    autocomplete: spec.autocomplete,
    required: true,
    'aria-describedby': hintId,
    autocapitalize: spec.type === 'email' ? 'off' : null,
    spellcheck: spec.type === 'text' ? null : 'false',
    'data-testid': `field-${spec.name}`,
  });
  if (value) input.value = value;
  const error = h('p', { class: 'field__error', id: errorId, hidden: true, 'data-testid': `error-${spec.name}` });
  const element = h('div', { class: 'field' },
    h('label', { for: id, class: 'field__label', t: spec.label }),
    hintId && h('p', { class: 'field__hint', id: hintId, t: spec.hint }),
    input,
    error);

  function setError(code) {
    const described = [hintId, code ? errorId : null].filter(Boolean).join(' ');
    if (described) input.setAttribute('aria-describedby', described);
    else input.removeAttribute('aria-describedby');
    if (code) {
      input.setAttribute('aria-invalid', 'true');
      bind(error, fieldErrorKey(code));
    } else {
      input.removeAttribute('aria-invalid');
      delete error.dataset.i18n;
      error.textContent = '';
    }
    error.hidden = !code;
    element.classList.toggle('field--invalid', Boolean(code));
  }

  return { element, input, setError };
}

function readValues(fields, inputs) {
  const data = {};
  for (const spec of fields) {
    const raw = inputs.get(spec.name).input.value;
    // Spaces around an address are typing noise; in a password they are meant.
    data[spec.name] = spec.type === 'password' ? raw : raw.trim();
  }
  return data;
}

/** A field error code like the server's, or null. */
function checkField(spec, value) {
  if (value === '') return 'required';
  if (spec.type === 'email' && !/^[^\s@]+@[^\s@]+$/.test(value)) return 'invalid_email';
  if (spec.newPassword) {
    // The server measures passwords in UTF-8 bytes; measuring the same way keeps both in step.
    const bytes = new TextEncoder().encode(value).length;
    if (bytes < PASSWORD_MIN) return 'password_too_short';
    if (bytes > PASSWORD_MAX) return 'password_too_long';
  }
  return null;
}

/** Runs `action` with `button` disabled (and marked busy), so a request is never sent twice. */
export async function whilePending(button, action) {
  button.disabled = true;
  button.classList.add('is-pending');
  button.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.classList.remove('is-pending');
    button.removeAttribute('aria-busy');
  }
}
