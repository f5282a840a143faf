// What a partner may do on an agreement, in words and as a form: the capabilities of a partner
// relationship (read, assign, bulk, usage, activity — read always included), its last day of
// access and whether it renews itself. Shared by the customer's Partners page (change an access,
// approve a request as asked or narrowed), the preferences (the defaults for new partners) and
// the partner organization's page (ask for more).
//
// Exports: CAPABILITIES, capabilityList, peopleText, lastDay, capabilityField, accessDialog.

import { ApiError } from './api.js';
import { FIELD, PROBLEM } from './constants.js';
import { openDialog } from './dialog.js';
import { h, uid } from './dom.js';
import { fieldErrors, fieldRow, showProblem, whilePending } from './form.js';
import { bind, longDate } from './i18n.js';
import { fieldErrorKey, problemNotice } from './problems.js';

// Each capability: [API name, label key (what it allows, in words), hint key (what that covers)].
export const CAPABILITIES = [
  ['read', 'capability.read', 'capability.readHint'],
  ['assign', 'capability.assign', 'capability.assignHint'],
  ['bulk', 'capability.bulk', 'capability.bulkHint'],
  ['usage', 'capability.usage', 'capability.usageHint'],
  ['activity', 'capability.activity', 'capability.activityHint'],
];

const LABEL = Object.fromEntries(CAPABILITIES.map(([name, label]) => [name, label]));

/** What `capabilities` (API names) allow, as a list of phrases in a fixed order. */
export function capabilityList(capabilities, testid = 'capabilities') {
  const held = new Set(Array.isArray(capabilities) ? capabilities : []);
  return h('ul', { class: 'capability-list', 'data-testid': testid },
    CAPABILITIES.filter(([name]) => held.has(name)).map(([name, label]) => h('li', { t: label, 'data-capability': name })));
}

/** Who of the partner organization acts: all its people, or the named ones. */
export function peopleText(relationship) {
  if (relationship.people !== 'named') return h('span', { t: 'partners.peopleAll' });
  const people = Array.isArray(relationship.named_people) ? relationship.named_people : [];
  if (!people.length) return h('span', { class: 'muted', t: 'partners.peopleNone' });
  return h('ul', { class: 'plain-list' }, people.map((p) => h('li', { class: 'person' },
    h('span', { class: 'person__name' }, p.name || p.email || ''),
    p.name && h('span', { class: 'person__email' }, p.email ?? ''))));
}

/** The last day of access ("YYYY-MM-DD") as a long date, in a <time>. */
export function lastDay(endsOn) {
  return h('time', { class: 'nowrap', datetime: endsOn || null, format: longDate(endsOn) });
}

/** "YYYY-MM-DD" of today (UTC) plus `days`. */
function isoDay(days = 0) {
  return new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);
}

/**
 * The capabilities as a group of checkboxes named `name` (the API field, so a server error lands
 * on it). `offered`: the names that may be chosen (others are not shown); `chosen`: those ticked.
 * Read is always ticked and cannot be unticked: every access includes it.
 * Returns a field row ({ element, input, setError, value() }) for fieldErrors().
 */
export function capabilityField({ name = 'capabilities', legend, hint, offered = CAPABILITIES.map(([c]) => c), chosen = [] }) {
  const id = uid(`f-${name}`);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const boxes = CAPABILITIES.filter(([cap]) => offered.includes(cap) || cap === 'read').map(([cap, label, more]) => {
    const boxId = `${id}-${cap}`;
    const read = cap === 'read';
    const box = h('input', {
      type: 'checkbox',
      id: boxId,
      name,
      value: cap,
      checked: read || chosen.includes(cap),
      // Not `disabled`: a disabled box drops out of the tab order and out of what screen
      // readers list; aria-disabled keeps it there, saying it cannot change.
      'aria-disabled': read ? 'true' : null,
      'aria-describedby': `${boxId}-more`,
      'data-testid': `capability-${cap}`,
    });
    if (read) box.addEventListener('click', (event) => event.preventDefault());
    return {
      cap,
      box,
      element: h('div', { class: 'check' },
        box,
        h('label', { for: boxId, class: 'check__label' },
          h('span', { class: 'check__text', t: label }),
          ' ',
          h('span', { class: 'check__more', id: `${boxId}-more`, t: read ? 'capability.readAlways' : more }))),
    };
  });
  const error = h('p', { class: 'field__error', id: errorId, hidden: true, 'data-testid': `error-${name}` });
  const fieldset = h('fieldset', { class: 'choice-group', 'aria-describedby': hintId, 'data-testid': `field-${name}` },
    h('legend', { class: 'field__label', t: legend }),
    hint && h('p', { class: 'field__hint', id: hintId, t: hint }),
    boxes.map((b) => b.element),
    error);

  function setError(code) {
    fieldset.classList.toggle('field--invalid', Boolean(code));
    error.hidden = !code;
    if (code) {
      bind(error, fieldErrorKey(code));
      fieldset.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
      for (const b of boxes) b.box.setAttribute('aria-invalid', 'true');
    } else {
      delete error.dataset.i18n;
      error.textContent = '';
      if (hintId) fieldset.setAttribute('aria-describedby', hintId);
      else fieldset.removeAttribute('aria-describedby');
      for (const b of boxes) b.box.removeAttribute('aria-invalid');
    }
  }
  for (const b of boxes) b.box.addEventListener('change', () => setError(null));

  return {
    element: fieldset,
    input: boxes.find((b) => b.cap !== 'read')?.box || boxes[0].box,
    setError,
    value: () => boxes.filter((b) => b.box.checked).map((b) => b.cap),
  };
}

/**
 * A dialog with the capabilities, the last day and (`renewal`) automatic renewal, which sends
 * what was chosen with `send(body)` (`{ capabilities, ends_on, auto_renew? }`). `offered`
 * limits the capabilities to choose from (a request is approved as asked or narrower) and
 * `latest` the last day; `values` are what it starts with. `extra(close)` adds buttons after
 * Cancel. On success the dialog closes and `done(result, body)` runs. A refusal `isGone(err)`
 * recognizes (the thing was decided or removed meanwhile) closes it too, and `onGone(err)` runs.
 */
export function accessDialog({ title, titleParams, intro, introParams, testid, submit, offered, latest, values, renewal = false, send, done, extra, returnFocus, isGone, onGone }) {
  return openDialog({
    title,
    titleParams,
    testid,
    describedBy: intro ? `${testid}-intro` : undefined,
    returnFocus,
    content: ({ close }) => {
      const errors = fieldErrors();
      const capabilities = capabilityField({ legend: 'capability.legend', offered, chosen: values.capabilities || [] });
      errors.add('capabilities', capabilities);
      const endsOn = fieldRow({ name: 'ends_on', type: 'date', label: 'partners.lastDay', hint: latest ? 'partners.lastDayHintLatest' : 'partners.lastDayHint', hintParams: { date: longDate(latest) }, messages: { [FIELD.OUT_OF_RANGE]: 'partners.lastDayRange' } }, values.ends_on);
      endsOn.input.setAttribute('min', isoDay(0));
      endsOn.input.setAttribute('max', latest || isoDay(729));
      errors.add('ends_on', endsOn);
      const autoRenew = renewal && fieldRow({ name: 'auto_renew', type: 'checkbox', label: 'partners.autoRenew', more: ['partners.autoRenewMore'], optional: true }, values.auto_renew === true);
      if (autoRenew) errors.add('auto_renew', autoRenew);
      const messages = h('div', { class: 'form__messages', role: 'alert', 'data-testid': `${testid}-message` });
      const button = h('button', { type: 'submit', class: 'button button--primary', t: submit, 'data-testid': `${testid}-submit` });
      const form = h('form', { class: 'form', novalidate: true, 'data-testid': `${testid}-form` },
        capabilities.element, endsOn.element, autoRenew && autoRenew.element, messages,
        h('div', { class: 'form__actions' },
          button,
          h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: close }),
          extra?.(close)));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        messages.replaceChildren();
        errors.clear();
        if (!endsOn.input.value) {
          errors.show([['ends_on', FIELD.REQUIRED]]);
          return;
        }
        // The last day goes only when it changed: an end the server keeps to the second (not at
        // a day's end) would otherwise move, and a request approved "until the day asked" could
        // read as more than asked.
        const body = { capabilities: capabilities.value() };
        if (endsOn.input.value !== values.ends_on) body.ends_on = endsOn.input.value;
        if (autoRenew) body.auto_renew = autoRenew.input.checked;
        try {
          const result = await whilePending(button, () => send(body));
          close();
          await done(result, body);
        } catch (err) {
          if (!form.isConnected) return;
          if (err instanceof ApiError && isGone?.(err)) {
            close();
            await onGone(err);
            return;
          }
          // Field errors next to their fields; anything else in the dialog (the page is behind it).
          showProblem(err, {
            errors,
            data: body,
            onProblem: (problem) => {
              if (!(problem instanceof ApiError) || problem.code === PROBLEM.UNAUTHENTICATED) return false;
              const notice = problemNotice(problem);
              messages.replaceChildren(h('div', { class: 'notice notice--error' }, h('p', { class: 'notice__text', t: notice.key, params: notice.params })));
              return true;
            },
          });
        }
      });
      return [intro && h('p', { class: 'dialog__intro', id: `${testid}-intro`, t: intro, params: introParams }), form];
    },
  });
}
