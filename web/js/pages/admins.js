// /agreements/{license}/admins: for the customer's super admins, who administers the agreement —
// super admins, admins and partner managers, with the invitations not yet taken up — with "Add
// admin" (which asks for the role, each explained in a line), "Remove" and
// "Withdraw invitation". A warning stays up while the agreement has fewer than two super admins:
// losing the only one would leave nobody able to manage the others.

import { api } from '../api.js';
import { confirmAction } from '../confirm.js';
import { FIELD, LIMITS, PROBLEM } from '../constants.js';
import { openDialog } from '../dialog.js';
import { h, uid } from '../dom.js';
import { createForm } from '../form.js';
import { currentLanguage } from '../i18n.js';
import { notify } from '../notice.js';
import { dataTable, fetchJson, loadingSection, moment, role } from '../present.js';
import { agreementTab } from './agreement.js';

export default {
  title: 'admins.pageTitle',
  access: 'user',
  agreementContext: true,
  view({ param }) {
    return agreementTab({ param, part: 'admins', title: 'admins.title', show: adminsCard });
  },
};

function adminsCard(agreement, base) {
  const section = loadingSection({
    testid: 'admins',
    load: () => fetchJson(`${base}/admins`),
    show: (data) => adminsContent(data, { agreement, base, reload: () => section.reload() }),
  });
  const add = h('button', {
    type: 'button',
    class: 'button button--primary',
    t: 'admins.add',
    'data-testid': 'add-admin',
    onclick: () => openAddDialog({ agreement, base, reload: () => section.reload() }),
  });
  return h('section', { class: 'card', 'aria-labelledby': 'admins-title', 'data-testid': 'admins-card' },
    h('div', { class: 'card__head' },
      h('h2', { id: 'admins-title', class: 'card__title', tabindex: '-1', t: 'admins.listTitle' }),
      add),
    h('p', { class: 'card__text', t: 'admins.intro', params: { customer: agreement.customer?.name ?? '' } }),
    section);
}

function adminsContent(data, context) {
  const admins = Array.isArray(data?.admins) ? data.admins : [];
  return [
    data?.few_super_admins && h('div', { class: 'notice notice--warning banner', role: 'note', 'data-testid': 'few-super-admins' },
      h('p', { class: 'notice__text', t: 'admins.fewSuperAdmins' })),
    admins.length
      ? dataTable({
        labelledBy: 'admins-title',
        testid: 'admins-table',
        rowTestid: (a) => (a.pending ? `invite-${a.id}` : `admin-${a.id}`),
        rows: admins,
        columns: [
          { key: 'admins.colName', cell: (a) => h('span', {}, a.name ?? '') },
          { key: 'admins.colEmail', cell: (a) => h('span', { 'data-testid': 'admin-email' }, a.email ?? '') },
          { key: 'admins.colRole', cell: (a) => h('span', role(a.role)) },
          { key: 'admins.colSince', cell: (a) => h('span', { class: 'nowrap' }, moment(a.since)) },
          {
            key: 'admins.colStatus',
            cell: (a) => (a.pending
              ? h('span', { class: 'badge badge--pending', t: 'admins.pending', 'data-testid': 'admin-status' })
              : h('span', { class: 'badge badge--active', t: 'admins.active', 'data-testid': 'admin-status' })),
          },
          { key: 'admins.colActions', cell: (a) => actionButton(a, context) },
        ],
      })
      : h('p', { class: 'muted', t: 'admins.none' }),
  ];
}

function actionButton(admin, context) {
  const pending = admin.pending === true;
  return h('button', {
    type: 'button',
    class: 'button button--small button--danger',
    'data-testid': pending ? 'withdraw-invite' : 'remove-admin',
    onclick: () => openRemoveDialog(admin, context),
  },
  h('span', { t: pending ? 'admins.withdraw' : 'admins.remove' }),
  ' ',
  h('span', { class: 'visually-hidden', t: 'admins.which', params: { name: admin.name ?? '', email: admin.email ?? '' } }));
}

/** Remove an admin, or withdraw an invitation, after the user confirmed it. */
function openRemoveDialog(admin, { base, reload }) {
  const pending = admin.pending === true;
  const params = { name: admin.name ?? '', email: admin.email ?? '' };
  const path = pending
    ? `${base}/admin-invites/${encodeURIComponent(admin.id)}`
    : `${base}/admins/${encodeURIComponent(admin.id)}`;
  openDialog({
    title: pending ? 'admins.withdrawTitle' : 'admins.removeTitle',
    titleParams: params,
    testid: pending ? 'withdraw-invite-dialog' : 'remove-admin-dialog',
    describedBy: 'admin-action-text',
    returnFocus: () => document.getElementById('admins-title'),
    content: ({ close }) => {
      // E.g. the last super admin (409) or a read-only agreement is said in the dialog.
      const { messages, confirm } = confirmAction({
        close,
        label: pending ? 'admins.withdraw' : 'admins.remove',
        testid: 'confirm-admin-action',
        messagesTestid: 'admin-action-message',
        run: () => api('DELETE', path),
        onDone: () => notify({ kind: 'success', key: pending ? 'admins.withdrawn' : 'admins.removed', params }),
        isGone: (err) => err.status === 404,
        onGone: () => notify({ kind: 'info', key: 'admins.gone', params }),
        after: async () => {
          await reload();
          document.getElementById('admins-title')?.focus();
        },
      });
      return [
        h('div', { class: 'dialog__text', id: 'admin-action-text' },
          h('p', { t: pending ? 'admins.withdrawText' : 'admins.removeText', params })),
        messages,
        h('div', { class: 'form__actions' },
          confirm,
          h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-autofocus': true, 'data-testid': 'dialog-cancel', onclick: close })),
      ];
    },
  });
}

function openAddDialog({ base, reload }) {
  openDialog({
    title: 'admins.addTitle',
    testid: 'add-admin-dialog',
    returnFocus: () => document.getElementById('admins-title'),
    content: ({ close }) => createForm({
      testid: 'add-admin-form',
      submit: 'admins.addSubmit',
      ownMessages: true,
      values: { language: currentLanguage() === 'fr' ? 'fr' : 'en' },
      fields: [
        { name: 'name', type: 'text', label: 'admins.colName', maxlength: LIMITS.LIMIT_NAME_BYTES, autocomplete: 'off' },
        { name: 'email', type: 'email', label: 'admins.colEmail', hint: 'admins.emailHint', autocomplete: 'off', messages: { [PROBLEM.CONFLICT]: 'admins.already', [FIELD.DUPLICATE]: 'admins.already' } },
        {
          name: 'language',
          type: 'select',
          label: 'admins.language',
          hint: 'admins.languageHint',
          options: [{ value: 'en', t: 'order.languageEn' }, { value: 'fr', t: 'order.languageFr' }],
        },
        { name: 'role', row: roleChoice() },
      ],
      actions: h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: close }),
      onSubmit: async (values) => {
        const result = await api('POST', `${base}/admins`, values);
        const added = (result?.admins || []).find((a) => (a.email || '').toLowerCase() === values.email.toLowerCase());
        close();
        notify({
          kind: 'success',
          key: added && !added.pending ? 'admins.added' : 'admins.invited',
          params: { name: values.name, email: values.email },
        });
        await reload();
      },
    }).element,
  });
}

// The roles one may give, each with what it allows: [API value, label key, explanation key].
const ROLES = [
  ['admin', 'role.admin', 'admins.roleAdminMore'],
  ['super_admin', 'role.superAdmin', 'admins.roleSuperAdminMore'],
  ['partner_manager', 'role.partnerManager', 'admins.rolePartnerManagerMore'],
];

/** The role as radio buttons, each explained; a field row for createForm (`spec.row`). */
function roleChoice() {
  const id = uid('f-role');
  const errorId = `${id}-error`;
  const radios = ROLES.map(([value, label, more]) => {
    const radioId = `${id}-${value}`;
    const radio = h('input', {
      type: 'radio', name: 'role', value, id: radioId, checked: value === 'admin',
      'aria-describedby': `${radioId}-more`, 'data-testid': `role-${value}`,
    });
    return {
      radio,
      element: h('div', { class: 'check' }, radio,
        h('label', { for: radioId, class: 'check__label' },
          h('span', { class: 'check__text', t: label }),
          ' ',
          h('span', { class: 'check__more', id: `${radioId}-more`, t: more }))),
    };
  });
  const error = h('p', { class: 'field__error', id: errorId, hidden: true, 'data-testid': 'error-role' });
  const element = h('fieldset', { class: 'choice-group', 'data-testid': 'field-role' },
    h('legend', { class: 'field__label', t: 'admins.role' }),
    radios.map((r) => r.element),
    error);
  return {
    element,
    input: radios[0].radio,
    value: () => radios.find((r) => r.radio.checked)?.radio.value ?? 'admin',
    setError(code) {
      element.classList.toggle('field--invalid', Boolean(code));
      error.hidden = !code;
      error.replaceChildren(...(code ? [h('span', { t: 'admins.roleInvalid' })] : []));
    },
  };
}
