// "My subscriptions" on the start page: the subscriptions the signed-in person holds (GET
// /api/v1/me/subscriptions), each with "Ask a question", which writes to the agreement's contact
// (POST /api/v1/me/questions). Nothing is shown to people who hold none.

import { api } from './api.js';
import { LIMITS } from './constants.js';
import { openDialog } from './dialog.js';
import { h } from './dom.js';
import { createForm } from './form.js';
import { notify } from './notice.js';
import { dataTable, date } from './present.js';
import { reportProblem } from './problems.js';

const STATUS = { active: 'mySubscriptions.statusActive', expired: 'mySubscriptions.statusExpired', disabled: 'lsc.statusDisabled' };

/** The section, hidden until the person turns out to hold a subscription. */
export function mySubscriptions() {
  const body = h('div', {});
  const section = h('section', { class: 'card', 'aria-labelledby': 'my-subscriptions-title', 'data-testid': 'my-subscriptions', hidden: true },
    h('h2', { id: 'my-subscriptions-title', class: 'card__title', t: 'mySubscriptions.title' }),
    h('p', { class: 'card__text', t: 'mySubscriptions.intro' }),
    body);
  api('GET', '/me/subscriptions').then((data) => {
    const items = Array.isArray(data?.subscriptions) ? data.subscriptions : [];
    if (!items.length) return;
    body.replaceChildren(table(items));
    section.hidden = false;
  }).catch((err) => {
    if (section.isConnected) reportProblem(err);
  });
  return section;
}

function table(items) {
  return dataTable({
    labelledBy: 'my-subscriptions-title',
    testid: 'my-subscriptions-table',
    rowTestid: () => 'my-subscription',
    rows: items,
    columns: [
      { key: 'subscribers.colLevel', cell: (s) => h('span', {}, s.level_name || s.level || '') },
      {
        key: 'mySubscriptions.colAgreement',
        cell: (s) => h('span', { class: 'person' },
          h('span', { class: 'person__name', 'data-testid': 'my-customer' }, customerOf(s)),
          h('span', { class: 'person__email code', 'data-testid': 'my-license' }, s.license_number ?? '')),
      },
      {
        key: 'subscribers.colExpires',
        cell: (s) => h('span', { class: 'status-cell' },
          h('span', { class: 'nowrap', ...date(s.expires) }),
          STATUS[s.status]
            ? h('span', { class: `badge badge--${s.status === 'active' ? 'active' : 'other'}`, t: STATUS[s.status], 'data-testid': 'my-status' })
            : h('span', { 'data-testid': 'my-status' }, s.status ?? '')),
      },
      { key: 'subscribers.colDownloads', cell: (s) => ({ t: s.downloads ? 'subscribers.yes' : 'subscribers.no' }) },
      { key: 'subscribers.colActions', cell: (s) => askButton(s) },
    ],
  });
}

/** The customer's name (given as a string, or as an object with a name). */
function customerOf(subscription) {
  const { customer } = subscription;
  return (customer && typeof customer === 'object' ? customer.name : customer) ?? '';
}

function askButton(subscription) {
  const customer = customerOf(subscription);
  return h('button', {
    type: 'button',
    class: 'button button--small nowrap',
    'data-testid': 'ask-question',
    onclick: () => openAsk(subscription, customer),
  },
  h('span', { t: 'mySubscriptions.ask' }),
  ' ',
  h('span', { class: 'visually-hidden', t: 'mySubscriptions.askWhich', params: { level: subscription.level_name || subscription.level || '', customer } }));
}

function openAsk(subscription, customer) {
  openDialog({
    title: 'mySubscriptions.askTitle',
    titleParams: { customer },
    testid: 'ask-question-dialog',
    returnFocus: () => document.getElementById('my-subscriptions-title'),
    content: ({ close }) => [
      h('p', { class: 'dialog__intro', t: 'mySubscriptions.askIntro', params: { customer, license: subscription.license_number ?? '' } }),
      createForm({
        testid: 'ask-question-form',
        submit: 'mySubscriptions.send',
        ownMessages: true,
        values: { copy_to_me: true },
        fields: [
          { name: 'subject', type: 'text', label: 'mySubscriptions.subject', maxlength: LIMITS.LIMIT_QUESTION_SUBJECT_CHARS, autocomplete: 'off' },
          { name: 'message', type: 'textarea', label: 'mySubscriptions.message', maxlength: LIMITS.LIMIT_QUESTION_MESSAGE_CHARS },
          { name: 'copy_to_me', type: 'checkbox', label: 'mySubscriptions.copyToMe', optional: true },
        ],
        actions: h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: close }),
        onSubmit: async (values) => {
          await api('POST', '/me/questions', { license_number: subscription.license_number, ...values });
          close();
          notify({ kind: 'success', key: values.copy_to_me ? 'mySubscriptions.sentCopy' : 'mySubscriptions.sent', params: { customer } });
        },
      }).element,
    ],
  });
}
