// API tokens in the UI: the table of tokens (a person's own on the account's "API tokens" page,
// every token that can act on an agreement on its "API tokens" tab), the dialog that creates
// one, the one time its secret is shown, and revoking one after confirmation.
//
// The server is the judge of what a token may do: the create dialog offers only the
// capabilities the person holds where the token will act (on the chosen agreement, or on any of
// theirs for "All agreements"), to spare a refusal, and the server checks it again. What they
// hold comes from their role on the agreement (the agreements list says it) when the role
// decides it; a partner's is its relationship's, read from the agreement when it is chosen
// (or, for "All agreements", when the roles alone leave something out), once per dialog.
//
// Exports: TOKEN_CAPABILITIES, tokenCapabilities, tokensTable, heldOn, heldByRole,
// openCreateTokenDialog, openRevokeTokenDialog.

import { api } from './api.js';
import { confirmAction } from './confirm.js';
import { FIELD, LIMITS } from './constants.js';
import { openDialog } from './dialog.js';
import { h, uid } from './dom.js';
import { createForm } from './form.js';
import { bind, longDate } from './i18n.js';
import { notify } from './notice.js';
import { openSecretDialog } from './secret.js';
import { fieldErrorKey } from './problems.js';
import { dataTable, moment } from './present.js';

// Each capability a token may carry: [API name, label key]. The first five are those of an
// agreement's people and partners (the same words); manage is the super admins' own, and
// provisioning (an identity provider's SCIM endpoints) their own too, for a token named to one
// agreement.
export const TOKEN_CAPABILITIES = [
  ['read', 'capability.read'],
  ['assign', 'capability.assign'],
  ['bulk', 'capability.bulk'],
  ['usage', 'capability.usage'],
  ['activity', 'capability.activity'],
  ['manage', 'tokens.capManage'],
  ['provisioning', 'tokens.capProvisioning'],
];

const STATUS = { active: 'tokens.statusActive', expired: 'tokens.statusExpired', revoked: 'tokens.statusRevoked' };

const DAY_MS = 86400000;

// The agreement select's value for a token that acts on all the person's agreements (null in the API).
const ALL = 'all';

/** "YYYY-MM-DD" of today (UTC) plus `days`. */
export function isoDay(days = 0) {
  return new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The last day a token works, "YYYY-MM-DD" (UTC, the calendar the expiry was chosen in):
 * `expires_at` is the moment it stops, the start of the next day.
 */
function lastDayOf(expiresAt) {
  const when = Date.parse(expiresAt);
  return Number.isFinite(when) ? new Date(when - 1000).toISOString().slice(0, 10) : null;
}

/** Whole days from today (UTC) to the calendar day `day`. */
function daysUntil(day) {
  return Math.round((Date.parse(`${day}T00:00:00Z`) - Date.parse(`${isoDay(0)}T00:00:00Z`)) / DAY_MS);
}

/** When a token stops working, in words: "Until December 5, 2029 (in 90 days)"; an expired one, since when. */
function expiryCell(token) {
  const day = lastDayOf(token.expires_at);
  if (!day) return h('span', { class: 'muted', t: 'tokens.neverExpires', 'data-testid': 'token-expires' });
  const days = daysUntil(day);
  if (token.status === 'expired' || days < 0) {
    return h('time', { class: 'nowrap', datetime: token.expires_at, 'data-testid': 'token-expires', t: 'tokens.expiredOn', params: { date: longDate(token.expires_at) } });
  }
  return h('time', {
    datetime: day,
    'data-testid': 'token-expires',
    t: 'tokens.expiresOn',
    // "in 90 days", "tomorrow", "today" / "dans 90 jours", "demain", "aujourd’hui", by the browser.
    params: { date: longDate(day), relative: (lang) => new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }).format(days, 'day') },
  });
}

function lastUsedCell(token) {
  if (!token.last_used_at) return h('span', { class: 'muted', t: 'tokens.neverUsed', 'data-testid': 'token-last-used' });
  return h('span', { class: 'stacked stacked--start', 'data-testid': 'token-last-used' },
    moment(token.last_used_at),
    token.last_used_address && h('span', { class: 'stacked__detail', t: 'tokens.fromAddress', params: { address: token.last_used_address } }));
}

function statusCell(token) {
  const badge = token.status === 'active' ? 'badge--active' : token.status === 'expired' ? 'badge--expired' : 'badge--other';
  return h('span', { class: `badge ${badge}`, t: STATUS[token.status] || 'tokens.statusRevoked', 'data-testid': 'token-status' });
}

/** What a token may do, as a list of phrases in a fixed order. */
export function tokenCapabilities(capabilities) {
  const held = new Set(Array.isArray(capabilities) ? capabilities : []);
  return h('ul', { class: 'capability-list', 'data-testid': 'token-capabilities' },
    TOKEN_CAPABILITIES.filter(([name]) => held.has(name)).map(([name, label]) => h('li', { t: label, 'data-capability': name })));
}

/**
 * The table of `tokens`. `owner`: a column naming whose token it is (an agreement's list);
 * `onRevoke(token)`: the action of a live token's Revoke button.
 */
export function tokensTable({ tokens, labelledBy, owner = false, onRevoke }) {
  return dataTable({
    labelledBy,
    testid: 'tokens-table',
    rowTestid: (t) => `token-${t.id}`,
    rows: tokens,
    columns: [
      { key: 'tokens.colName', cell: (t) => h('span', { 'data-testid': 'token-name' }, t.name ?? '') },
      { key: 'tokens.colPrefix', cell: (t) => h('code', { class: 'code code--small', 'data-testid': 'token-prefix' }, t.prefix ?? '') },
      ...(owner ? [{
        key: 'tokens.colOwner',
        cell: (t) => h('span', { class: 'person', 'data-testid': 'token-owner' },
          h('span', { class: 'person__name' }, t.owner?.name || t.owner?.email || ''),
          t.owner?.name && h('span', { class: 'person__email' }, t.owner?.email ?? '')),
      }] : []),
      {
        key: 'tokens.colAgreement',
        cell: (t) => (t.agreement
          ? h('span', { class: 'code', 'data-testid': 'token-agreement' }, String(t.agreement))
          : h('span', { t: 'tokens.allAgreements', 'data-testid': 'token-agreement' })),
      },
      { key: 'tokens.colCapabilities', cell: (t) => tokenCapabilities(t.capabilities) },
      { key: 'tokens.colExpires', cell: (t) => expiryCell(t) },
      { key: 'tokens.colLastUsed', cell: (t) => lastUsedCell(t) },
      { key: 'tokens.colStatus', cell: (t) => statusCell(t) },
      {
        key: 'tokens.colActions',
        cell: (t) => (t.status === 'active'
          ? h('button', {
            type: 'button',
            class: 'button button--small button--danger',
            'data-testid': 'revoke-token',
            onclick: () => onRevoke(t),
          }, h('span', { t: 'tokens.revoke' }), ' ', h('span', { class: 'visually-hidden', t: 'tokens.which', params: { name: t.name ?? '' } }))
          : h('span', {})),
      },
    ],
  });
}

/**
 * Revokes `token` (DELETE `path`) after the person confirmed it; then `reload()` and the focus
 * on `focusId` (the list's heading: the row and its button are gone).
 */
export function openRevokeTokenDialog(token, { path, reload, focusId }) {
  const params = { name: token.name ?? '' };
  openDialog({
    title: 'tokens.revokeTitle',
    titleParams: params,
    testid: 'revoke-token-dialog',
    describedBy: 'revoke-token-text',
    returnFocus: () => document.getElementById(focusId),
    content: ({ close }) => {
      const { messages, confirm } = confirmAction({
        close,
        label: 'tokens.revoke',
        testid: 'confirm-revoke-token',
        messagesTestid: 'revoke-token-message',
        run: () => api('DELETE', path),
        onDone: () => notify({ kind: 'success', key: 'tokens.revoked', params }),
        isGone: (err) => err.status === 404,
        onGone: () => notify({ kind: 'info', key: 'tokens.revokedAlready', params }),
        after: async () => {
          await reload();
          document.getElementById(focusId)?.focus();
        },
      });
      return [
        h('p', { class: 'dialog__text', id: 'revoke-token-text', t: 'tokens.revokeText', params: { ...params, prefix: token.prefix ?? '' } }),
        messages,
        h('div', { class: 'form__actions' },
          confirm,
          h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-autofocus': true, 'data-testid': 'dialog-cancel', onclick: close })),
      ];
    },
  });
}

/**
 * The capabilities the person holds on one agreement (`GET /agreements/{license}`): those the
 * server lists, and manage for its super admins and partner managers (the routes only they
 * reach: admins, preferences, partners, webhooks).
 */
export function heldOn(detail) {
  const held = new Set(Array.isArray(detail?.capabilities) ? detail.capabilities : []);
  if (detail?.role === 'super_admin' || detail?.role === 'partner_manager') held.add('manage');
  if (detail?.role === 'super_admin') held.add('provisioning');
  return held;
}

// The capabilities of an agreement's people (all but manage and provisioning).
const AGREEMENT_CAPABILITIES = TOKEN_CAPABILITIES.map(([name]) => name)
  .filter((name) => name !== 'manage' && name !== 'provisioning');

/**
 * What a role alone says the person holds on an agreement (the server's rule, see `heldOn`):
 * all five for super admins and admins, none for partner managers, and manage for both who
 * reach the super admins' routes. null for a partner: that is the relationship's to say.
 */
export function heldByRole(role) {
  if (role === 'super_admin') return new Set([...AGREEMENT_CAPABILITIES, 'manage', 'provisioning']);
  if (role === 'admin') return new Set(AGREEMENT_CAPABILITIES);
  if (role === 'partner_manager') return new Set(['manage']);
  return null;
}

/**
 * The create dialog. `agreements`: [{ license_number, customer, held: Set or null }] the
 * person may name (null: not known until `lookup(agreement)` resolves to the Set);
 * `reload()` shows the new token in the list, `focusId` gets the focus afterwards.
 */
export function openCreateTokenDialog({ agreements, lookup, reload, focusId }) {
  let shown = null;
  // Each agreement read once per dialog; a read that failed is tried again on the next choice.
  const reading = new Map();
  const held = async (agreement) => {
    if (agreement.held) return agreement.held;
    if (!reading.has(agreement.license_number)) {
      reading.set(agreement.license_number, lookup(agreement).catch(() => {
        reading.delete(agreement.license_number);
        return new Set();
      }));
    }
    return reading.get(agreement.license_number);
  };
  // "All agreements": what the roles say, and the partners' relationships only when the roles
  // leave out something a relationship could add.
  const heldAnywhere = async () => {
    const known = new Set(agreements.flatMap((a) => (a.held ? [...a.held] : [])));
    if (AGREEMENT_CAPABILITIES.every((cap) => known.has(cap))) return known;
    const read = await Promise.all(agreements.filter((a) => !a.held).map(held));
    for (const set of read) for (const cap of set) known.add(cap);
    return known;
  };
  openDialog({
    title: 'tokens.createTitle',
    testid: 'create-token-dialog',
    returnFocus: () => document.getElementById(focusId),
    content: ({ close }) => {
      const capabilities = capabilityBoxes();
      let asked = 0;
      const offer = async (license) => {
        const ask = ++asked;
        const agreement = license !== ALL ? agreements.find((a) => a.license_number === license) : null;
        const known = license === ALL ? null : agreement?.held ?? (agreement ? null : new Set());
        if (known) {
          capabilities.offer(known);
          return;
        }
        capabilities.waiting();
        const set = license === ALL ? await heldAnywhere() : await held(agreement);
        // Only the latest choice is shown: an earlier answer arriving late is dropped.
        if (ask === asked) capabilities.offer(set);
      };
      const form = createForm({
        testid: 'create-token-form',
        submit: 'tokens.createSubmit',
        ownMessages: true,
        values: { expires_on: isoDay(LIMITS.LIMIT_TOKEN_DEFAULT_DAYS), agreement: ALL },
        fields: [
          { name: 'name', type: 'text', label: 'tokens.fieldName', hint: 'tokens.fieldNameHint', maxlength: LIMITS.LIMIT_TOKEN_NAME_CHARS, autocomplete: 'off' },
          {
            name: 'expires_on',
            type: 'date',
            label: 'tokens.fieldExpires',
            hint: 'tokens.fieldExpiresHint',
            hintParams: { days: LIMITS.LIMIT_TOKEN_MAX_DAYS },
            messages: { [FIELD.OUT_OF_RANGE]: 'tokens.fieldExpiresRange' },
          },
          {
            name: 'agreement',
            type: 'select',
            label: 'tokens.fieldAgreement',
            hint: 'tokens.fieldAgreementHint',
            options: [
              { value: ALL, t: 'tokens.allAgreements' },
              ...agreements.map((a) => ({ value: a.license_number, text: a.customer?.name ? `${a.license_number} — ${a.customer.name}` : a.license_number })),
            ],
          },
          { name: 'capabilities', row: capabilities },
        ],
        actions: h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: close }),
        onSubmit: async (values) => {
          if (!values.capabilities.length) {
            // A token that may do nothing is refused by the server too: say so before sending.
            capabilities.setError(FIELD.REQUIRED);
            capabilities.input.focus();
            return;
          }
          const body = {
            name: values.name,
            expires_on: values.expires_on,
            agreement: values.agreement === ALL ? null : values.agreement,
            capabilities: values.capabilities,
          };
          const result = await api('POST', '/tokens', body);
          shown = result;
          close();
        },
      });
      const expires = form.element.querySelector('input[name="expires_on"]');
      expires.setAttribute('min', isoDay(0));
      expires.setAttribute('max', isoDay(LIMITS.LIMIT_TOKEN_MAX_DAYS));
      const select = form.element.querySelector('select[name="agreement"]');
      select.addEventListener('change', () => offer(select.value));
      offer(ALL);
      return form.element;
    },
  }).dialog.addEventListener('close', () => {
    if (!shown) return;
    // The secret comes once, in this answer: show it before anything else happens.
    const token = shown;
    openSecretDialog({
      title: 'tokens.secretTitle',
      titleParams: { name: token.name ?? '' },
      secret: shown.secret,
      label: 'tokens.secretLabel',
      warning: 'tokens.secretWarning',
      use: 'tokens.secretUse',
      testid: 'token-secret',
      done: async () => {
        notify({ kind: 'success', key: 'tokens.created', params: { name: token.name ?? '' } });
        await reload();
        document.getElementById(focusId)?.focus();
      },
    });
  }, { once: true });
}

/**
 * The capabilities as checkboxes; `offer(held)` shows those in `held` only (a box no longer
 * offered is unticked), and says so when there is none to offer. A field row for createForm.
 */
function capabilityBoxes() {
  const id = uid('f-capabilities');
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const boxes = TOKEN_CAPABILITIES.map(([cap, label]) => {
    const boxId = `${id}-${cap}`;
    const box = h('input', { type: 'checkbox', id: boxId, name: 'capabilities', value: cap, checked: cap === 'read', 'data-testid': `token-capability-${cap}` });
    const element = h('div', { class: 'check' }, box, h('label', { for: boxId, class: 'check__label' }, h('span', { class: 'check__text', t: label })));
    return { cap, box, element };
  });
  const none = h('p', { class: 'muted', hidden: true, t: 'tokens.nothingToOffer', 'data-testid': 'token-capabilities-none' });
  const checking = h('p', { class: 'loading', hidden: true, t: 'tokens.checkingCapabilities', 'data-testid': 'token-capabilities-checking' });
  const error = h('p', { class: 'field__error', id: errorId, hidden: true, 'data-testid': 'error-capabilities' });
  const fieldset = h('fieldset', { class: 'choice-group', 'aria-describedby': hintId, 'data-testid': 'field-capabilities' },
    h('legend', { class: 'field__label', t: 'tokens.fieldCapabilities' }),
    h('p', { class: 'field__hint', id: hintId, t: 'tokens.fieldCapabilitiesHint' }),
    boxes.map((b) => b.element),
    none,
    checking,
    error);

  function setError(code) {
    fieldset.classList.toggle('field--invalid', Boolean(code));
    error.hidden = !code;
    if (code) {
      bind(error, code === FIELD.REQUIRED ? 'tokens.capabilitiesRequired' : fieldErrorKey(code));
      fieldset.setAttribute('aria-describedby', `${hintId} ${errorId}`);
    } else {
      delete error.dataset.i18n;
      error.textContent = '';
      fieldset.setAttribute('aria-describedby', hintId);
    }
  }
  for (const b of boxes) b.box.addEventListener('change', () => setError(null));

  return {
    element: fieldset,
    get input() {
      return boxes.find((b) => !b.element.hidden)?.box || boxes[0].box;
    },
    setError,
    value: () => boxes.filter((b) => !b.element.hidden && b.box.checked).map((b) => b.cap),
    offer(held) {
      fieldset.removeAttribute('aria-busy');
      checking.hidden = true;
      for (const b of boxes) {
        b.element.hidden = !held.has(b.cap);
        if (b.element.hidden) b.box.checked = false;
      }
      none.hidden = boxes.some((b) => !b.element.hidden);
    },
    /** While what the person holds is being read: no box (nothing sent is ticked unseen). */
    waiting() {
      fieldset.setAttribute('aria-busy', 'true');
      for (const b of boxes) b.element.hidden = true;
      none.hidden = true;
      checking.hidden = false;
    },
  };
}

