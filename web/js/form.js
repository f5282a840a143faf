// Form building and submission shared by every page: labelled fields, quick local checks (the
// server stays the judge; these only spare a round trip), field errors wired to their inputs with
// aria-describedby/aria-invalid, a disabled submit button while the request is pending, and
// problem messages in the status line.

import { ApiError } from './api.js';
import { FIELD, LIMITS, PROBLEM } from './constants.js';
import { h, uid } from './dom.js';
import { bind, hasMessage } from './i18n.js';
import { clearNotice } from './notice.js';
import { fieldErrorMessage, problemNotice, reportProblem } from './problems.js';

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
 * hidden account field that password managers expect next to a new password. `actions` adds
 * buttons after the submit button (e.g. Cancel). `ownMessages` shows problems in the form itself,
 * above its buttons, instead of the status line: for forms in dialogs, which hide the page.
 * A field that is not one input (a group of boxes or of radio buttons) comes as `spec.row`, built
 * by its module: `{ element, input (the one to focus), setError(code), value() }`; `spec.heading`
 * (a key) puts a subheading before a field, to start a part of a longer form.
 */
export function createForm({ fields, submit, onSubmit, onProblem, testid, values = {}, username, actions, ownMessages = false }) {
  const errors = fieldErrors();
  const rows = fields.map((spec) => {
    const row = spec.row || fieldRow(spec, values[spec.name]);
    errors.add(spec.name, row);
    return [spec.heading && h('h3', { class: 'form__subtitle', t: spec.heading }), row.element];
  });
  const button = h('button', { type: 'submit', class: 'button button--primary', t: submit, 'data-testid': testid && `${testid}-submit` });
  // Password managers file a changed password under the account name found in the same form.
  const account = username && h('input', { type: 'email', name: 'username', autocomplete: 'username', value: username, hidden: true, readonly: true });
  // An alert region that is there from the start, so that what is put in it gets announced.
  const messages = ownMessages && h('div', { class: 'form__messages', role: 'alert', 'data-testid': testid && `${testid}-message` });
  const form = h('form', { class: 'form', novalidate: true, 'data-testid': testid },
    account, rows, messages, h('div', { class: 'form__actions' }, button, actions));

  /** Shows `{ kind, key, params }` in the form's own message area (null clears it). */
  function say(message) {
    if (!messages) return;
    messages.replaceChildren(...(message
      ? [h('div', { class: `notice notice--${message.kind || 'error'}` },
        h('p', { class: 'notice__text', t: message.key, params: message.params }),
        // A problem whose remedy is on another page links to it (e.g. the account page).
        message.action?.href && h('a', { class: 'notice__action', href: message.action.href, t: message.action.key }))]
      : []));
  }

  const handle = (err, data) => {
    if (onProblem && onProblem(err, data)) return true;
    // A session that ended is for app.js to deal with (it goes to the sign-in page).
    if (!messages || err.code === PROBLEM.UNAUTHENTICATED) return false;
    say(problemNotice(err));
    return true;
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearNotice();
    say(null);
    errors.clear();
    const data = {};
    for (const spec of fields) data[spec.name] = spec.row ? spec.row.value() : readValue(spec, errors.get(spec.name).input);
    if (errors.check(fields.filter((spec) => !spec.row).map((spec) => [spec, data[spec.name]]))) return;
    try {
      await whilePending(button, () => onSubmit(data));
    } catch (err) {
      if (form.isConnected) showProblem(err, { errors, onProblem: handle, data }); // else the user has moved on
    }
  });

  return { element: form, reset: () => form.reset(), say };
}

/**
 * The field errors of one form: its rows by API field name. Forms whose fields come and go (order
 * lines) add and remove rows as they change.
 */
export function fieldErrors() {
  const rows = new Map();

  /**
   * The row for an API field name. A name no row has falls back to its parent: `lines[3].level`
   * → `lines[3]` → `lines`, so an error on a part still lands next to the whole.
   */
  function find(name) {
    for (let key = name; key;) {
      if (rows.has(key)) return rows.get(key);
      const parent = key.replace(/(?:\.[^.[\]]+|\[\d+\])$/, '');
      if (parent === key) return null;
      key = parent;
    }
    return null;
  }

  /**
   * Shows `[name, code, detail]` pairs and focuses the first field in page order. `detail` (the
   * API's error object, optional) gives the server's own wording for codes the catalogue lacks.
   */
  function show(pairs) {
    const shown = [];
    for (const [name, code, detail] of pairs) {
      const row = find(name);
      if (!row || shown.includes(row)) continue; // one message per field: the first
      row.setError(code, detail);
      shown.push(row);
    }
    const first = shown
      .map((row) => row.input)
      .sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1))[0];
    first?.focus();
    return shown.length;
  }

  return {
    add: (name, row) => rows.set(name, row),
    remove: (name) => rows.delete(name),
    get: (name) => rows.get(name),
    has: (name) => Boolean(find(name)),
    clear() {
      for (const row of rows.values()) row.setError(null);
    },
    show,
    /** Runs the local checks of `[spec, value]` pairs; true if some failed (they are shown). */
    check(pairs) {
      const failed = pairs.map(([spec, value]) => [spec.name, checkField(spec, value)]).filter(([, code]) => code);
      return failed.length > 0 && show(failed) > 0;
    },
  };
}

/**
 * Shows a failed submission: a validation problem's field errors next to their fields, anything
 * else (or field errors no row can show) in the status line, unless `onProblem(err, data)` deals
 * with it and returns true.
 */
export function showProblem(err, { errors, onProblem, data }) {
  if (err instanceof ApiError && err.code === PROBLEM.VALIDATION && err.errors.length) {
    const placed = err.errors.filter((e) => errors.has(e.field));
    if (placed.length) errors.show(placed.map((e) => [e.field, e.code, e]));
    if (placed.length === err.errors.length) return;
  }
  if (err instanceof ApiError && onProblem && onProblem(err, data)) return;
  reportProblem(err);
}

/**
 * One labelled field. `spec`: name (the API's), type ('text', 'email', 'password', 'date', 'select',
 * 'textarea' or 'checkbox'), label (key; for a checkbox `more` adds lines to it), optional hint (key),
 * hintParams, autocomplete, autocapitalize, inputmode, maxlength, optional: true (may stay empty; the label
 * says so), options for selects ([{ value, t | text | format }]), min/max for whole numbers typed
 * in a text field, and messages ({ code: key }) to word an error code for this field in particular;
 * a message may also be a function of the API's error object returning `{ key, params }`, or null
 * to use the server's own message.
 */
export function fieldRow(spec, value) {
  const id = uid(`f-${spec.name.replace(/[^A-Za-z0-9_-]/g, '-')}`);
  const hintId = spec.hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const testName = spec.testid || spec.name;
  const common = {
    id,
    name: spec.name,
    required: !spec.optional,
    'aria-describedby': hintId,
    'data-testid': `field-${testName}`,
  };
  let input;
  if (spec.type === 'select') {
    input = h('select', { ...common, autocomplete: spec.autocomplete || 'off' }, (spec.options || []).map(option));
  } else if (spec.type === 'textarea') {
    input = h('textarea', { ...common, rows: spec.rows || 6, maxlength: spec.maxlength, autocomplete: spec.autocomplete || 'off' });
  } else {
    input = h('input', {
      ...common,
      type: spec.type,
      autocomplete: spec.autocomplete,
      inputmode: spec.inputmode,
      maxlength: spec.maxlength,
      autocapitalize: spec.autocapitalize || (spec.type === 'email' ? 'off' : null),
      spellcheck: spec.type === 'text' && !spec.inputmode ? null : 'false',
    });
  }
  if (spec.type === 'checkbox') {
    // role "switch" for a setting that is on or off (announced as such).
    input = h('input', { ...common, type: 'checkbox', value: 'true', checked: value === true, role: spec.role });
  } else if (value !== undefined && value !== null && value !== '') {
    input.value = value;
  }
  const error = h('p', { class: 'field__error', id: errorId, hidden: true, 'data-testid': `error-${testName}` });
  const element = spec.type === 'checkbox'
    // A box to tick: the label follows it and may run to several lines (`more`: further keys).
    ? h('div', { class: 'field field--check' },
      hintId && h('p', { class: 'field__hint', id: hintId, t: spec.hint, params: spec.hintParams }),
      h('div', { class: 'check' },
        input,
        h('label', { for: id, class: 'check__label' },
          h('span', { class: 'check__text', t: spec.label, params: spec.labelParams }),
          // Spaces between the lines, for the accessible name and copied text.
          (spec.more || []).map((key) => [' ', h('span', { class: 'check__more', t: key })]))),
      error)
    : h('div', { class: 'field' },
      h('label', { for: id, class: 'field__label' },
        h('span', { t: spec.label, params: spec.labelParams }),
        spec.optional && [' ', h('span', { class: 'field__optional', t: 'field.optional' })]),
      hintId && h('p', { class: 'field__hint', id: hintId, t: spec.hint, params: spec.hintParams }),
      input,
      error);

  function setError(code, detail) {
    const described = [hintId, code ? errorId : null].filter(Boolean).join(' ');
    if (described) input.setAttribute('aria-describedby', described);
    else input.removeAttribute('aria-describedby');
    if (code) {
      input.setAttribute('aria-invalid', 'true');
      const own = spec.messages?.[code];
      const worded = typeof own === 'function' ? own(detail || {}) : own ? { key: own } : null;
      if (worded) {
        bind(error, worded.key, worded.params);
      } else if (!hasMessage(`field.${code}`) && detail?.message) {
        // A code the catalogue does not know: the server's words are better than a vague message.
        delete error.dataset.i18n;
        error.textContent = detail.message;
      } else {
        // An invalid_value off a list is worded for that list (the server says which).
        const { key, params } = fieldErrorMessage({ ...detail, code });
        bind(error, key, params);
      }
    } else {
      input.removeAttribute('aria-invalid');
      delete error.dataset.i18n;
      error.textContent = '';
    }
    error.hidden = !code;
    element.classList.toggle('field--invalid', Boolean(code));
  }

  // A changed value may well be the fix: the message about the old one goes.
  const forget = () => {
    if (input.getAttribute('aria-invalid')) setError(null);
  };
  input.addEventListener('input', forget);
  input.addEventListener('change', forget);

  return { element, input, setError, spec };
}

/** An <option>: its text from the catalogue (`t`), worded per language (`format`), or as is. */
export function option({ value, t, format, text }) {
  return h('option', { value, t, format }, t || format ? null : text);
}

/**
 * A field's value as the API takes it: trimmed, except passwords, whose spaces are meant; a
 * checkbox's is whether it is ticked.
 */
export function readValue(spec, input) {
  if (spec.type === 'checkbox') return input.checked;
  const raw = input.value;
  return spec.type === 'password' ? raw : raw.trim();
}

/** A field error code like the server's, or null. */
export function checkField(spec, value) {
  if (spec.type === 'checkbox') return value || spec.optional ? null : FIELD.REQUIRED;
  if (value === '') return spec.optional ? null : FIELD.REQUIRED;
  if (spec.type === 'email' && !/^[^\s@]+@[^\s@]+$/.test(value)) return FIELD.INVALID_EMAIL;
  if (spec.maxlength && [...value].length > spec.maxlength) return FIELD.TOO_LONG;
  if (spec.min !== undefined || spec.max !== undefined) {
    if (!/^\d+$/.test(value)) return FIELD.INVALID_VALUE;
    const number = Number(value);
    if ((spec.min !== undefined && number < spec.min) || (spec.max !== undefined && number > spec.max)) return FIELD.INVALID_VALUE;
  }
  if (spec.newPassword) {
    // The server counts characters (Unicode code points), as people do; so does this.
    const length = [...value].length;
    if (length < LIMITS.LIMIT_PASSWORD_MIN) return FIELD.PASSWORD_TOO_SHORT;
    if (length > LIMITS.LIMIT_PASSWORD_MAX) return FIELD.PASSWORD_TOO_LONG;
  }
  return null;
}

/** Runs `action` with `button` disabled (and marked busy), so a request is never sent twice. */
export async function whilePending(button, action) {
  const hadFocus = document.activeElement === button;
  button.disabled = true;
  button.classList.add('is-pending');
  button.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.classList.remove('is-pending');
    button.removeAttribute('aria-busy');
    // Disabling the button dropped the focus to the page: give it back, so keyboard users keep
    // their place (unless the action moved the focus somewhere on purpose).
    const active = document.activeElement;
    if (hadFocus && button.isConnected && (!active || active === document.body)) button.focus();
  }
}
