// /partner-organization: for the people of a partner organization, what their organization has
// in openseat — its people (admins invite someone by e-mail with a role, and remove people: that
// person loses every access at once), its relationships with customers' agreements (what each
// allows, until which day, its status, who of the organization acts: all its people or the named
// ones, which the organization's admins choose) with "Ask for more" (a request to the customer
// for more capabilities or a later last day), and the requests still waiting on customers.
// Someone in several partner organizations chooses which one (?org={id}). Its admins also manage
// the organization's webhook endpoints: the events of the agreements it acts on that its
// relationships let it receive.
//
// What a plain member may not do (invite, remove, choose who acts) is not offered to them; the
// server refuses it all the same (403 partner_admin_required).

import { agreementHref } from '../agreements.js';
import { ApiError, api } from '../api.js';
import { confirmAction } from '../confirm.js';
import { FIELD, PROBLEM } from '../constants.js';
import { openDialog } from '../dialog.js';
import { h, uid } from '../dom.js';
import { createForm, fieldErrors, showProblem, whilePending } from '../form.js';
import { longDate } from '../i18n.js';
import { notify } from '../notice.js';
import { accessDialog, capabilityList, lastDay, peopleText } from '../partner-access.js';
import { dataTable, fetchJson, loadingSection } from '../present.js';
import { fieldErrorKey, problemNotice } from '../problems.js';
import { navigate } from '../router.js';
import { webhooksCard } from '../webhooks.js';
import { pageView } from './layout.js';

const STATUS = {
  pending: 'partners.statusPending',
  active: 'partners.active',
  ended: 'partners.statusEnded',
  removed: 'partners.removed',
  denied: 'partners.statusDenied',
  lapsed: 'partners.statusLapsed',
};
const KIND = { access: 'partners.kindAccess', amendment: 'partners.kindAmendment' };
const MEMBER_ROLE = { admin: 'partnerOrg.roleAdmin', member: 'partnerOrg.roleMember' };

export default {
  title: 'partnerOrg.pageTitle',
  access: 'user',
  view({ query }) {
    const view = pageView({ title: 'partnerOrg.title', intro: 'partnerOrg.intro', full: true });
    const section = loadingSection({
      testid: 'partner-organization',
      async load() {
        const { organizations = [] } = await fetchJson('/partner-organizations');
        if (!organizations.length) return { organizations };
        const wanted = organizations.find((o) => String(o.id) === query.get('org')) || organizations[0];
        return { organizations, organization: await fetchJson(`/partner-organizations/${encodeURIComponent(wanted.id)}`) };
      },
      show: ({ organizations, organization }) => {
        if (!organization) return h('p', { class: 'muted', 'data-testid': 'no-organization', t: 'partnerOrg.none' });
        const context = { organization, base: `/partner-organizations/${encodeURIComponent(organization.id)}`, admin: organization.role === 'admin', reload: () => section.reload() };
        return [
          organizations.length > 1 && chooser(organizations, organization),
          h('p', { class: 'page__intro', 'data-testid': 'organization-name' },
            h('span', { t: 'partnerOrg.yourRole', params: { organization: organization.name ?? '' } }), ' ',
            h('strong', { t: MEMBER_ROLE[organization.role] || 'partnerOrg.roleMember' })),
          relationshipsCard(organization, context),
          requestsCard(organization),
          peopleCard(organization, context),
          context.admin && webhooksCard({ base: context.base, intro: 'webhooks.organizationIntro', introParams: { organization: organization.name ?? '' } }),
        ];
      },
    });
    view.append(section);
    return view;
  },
};

function card(id, titleKey, ...content) {
  return h('section', { class: 'card', 'aria-labelledby': `${id}-title`, 'data-testid': id },
    h('h2', { id: `${id}-title`, class: 'card__title', tabindex: '-1', t: titleKey }),
    content);
}

const focusLater = (id) => document.getElementById(id)?.focus();

function chooser(organizations, current) {
  const id = uid('org-choice');
  const select = h('select', { id, 'data-testid': 'organization-choice' },
    organizations.map((o) => h('option', { value: o.id, selected: o.id === current.id }, o.name ?? '')));
  select.addEventListener('change', () => navigate(`/partner-organization?org=${encodeURIComponent(select.value)}`));
  return h('div', { class: 'field filters__field' }, h('label', { for: id, class: 'field__label', t: 'partnerOrg.choose' }), select);
}

// ---- relationships ----------------------------------------------------------------------------

function relationshipsCard(organization, context) {
  const relationships = Array.isArray(organization.relationships) ? organization.relationships : [];
  return card('org-relationships', 'partnerOrg.relationshipsTitle',
    relationships.length
      ? dataTable({
        labelledBy: 'org-relationships-title',
        testid: 'org-relationships-table',
        rowTestid: (r) => `relationship-${r.id}`,
        rows: relationships,
        columns: [
          { key: 'partnerOrg.colAgreement', cell: (r) => agreementCell(r) },
          { key: 'partners.colMay', cell: (r) => capabilityList(r.capabilities) },
          { key: 'partners.colLastDay', cell: (r) => (r.status === 'active' ? lastDay(r.ends_on) : h('span', { class: 'muted', t: 'partners.notYet' })) },
          { key: 'partners.colStatus', cell: (r) => statusCell(r) },
          { key: 'partnerOrg.colWhoActs', cell: (r) => whoActs(r, organization, context) },
          { key: 'partners.colActions', cell: (r) => askButton(r, context) },
        ],
      })
      : h('p', { class: 'muted', 'data-testid': 'org-relationships-none', t: 'partnerOrg.noRelationships' }));
}

function agreementCell(relationship) {
  const license = relationship.agreement?.license_number ?? '';
  return h('span', { class: 'person' },
    relationship.status === 'active'
      ? h('a', { href: agreementHref(license), class: 'code' }, license)
      : h('span', { class: 'code' }, license),
    h('span', { class: 'person__email' }, relationship.agreement?.customer_name ?? ''));
}

function statusCell(relationship) {
  const badge = relationship.status === 'active' ? 'badge--active' : relationship.status === 'pending' ? 'badge--pending' : 'badge--other';
  return h('span', { class: 'status-cell' },
    h('span', { class: `badge ${badge}`, t: STATUS[relationship.status] || 'partners.statusEnded', 'data-testid': 'relationship-status' }),
    relationship.pending_request && h('span', { class: 'status-cell__detail', t: 'partnerOrg.requestOpen' }));
}

function whoActs(relationship, organization, context) {
  const live = relationship.status === 'active' || relationship.status === 'pending';
  return h('div', { class: 'status-cell' },
    peopleText(relationship),
    context.admin && live && h('button', {
      type: 'button',
      class: 'button button--small',
      'data-testid': 'edit-people',
      onclick: () => openPeopleDialog(relationship, organization, context),
    }, h('span', { t: 'partnerOrg.choosePeople' }), ' ',
    h('span', { class: 'visually-hidden', t: 'partnerOrg.forAgreement', params: { number: relationship.agreement?.license_number ?? '' } })));
}

function askButton(relationship, context) {
  if (relationship.status !== 'active' || relationship.pending_request) return h('span', {});
  return h('button', {
    type: 'button',
    class: 'button button--small',
    'data-testid': 'ask-more',
    onclick: () => openAskDialog(relationship, context),
  }, h('span', { t: 'partnerOrg.askMore' }), ' ',
  h('span', { class: 'visually-hidden', t: 'partnerOrg.forAgreement', params: { number: relationship.agreement?.license_number ?? '' } }));
}

function openAskDialog(relationship, { base, reload }) {
  const number = relationship.agreement?.license_number ?? '';
  accessDialog({
    title: 'partnerOrg.askTitle',
    titleParams: { number },
    intro: 'partnerOrg.askIntro',
    introParams: { customer: relationship.agreement?.customer_name ?? '' },
    testid: 'ask-dialog',
    submit: 'partnerOrg.askSubmit',
    values: { capabilities: relationship.capabilities || [], ends_on: relationship.ends_on },
    returnFocus: () => document.getElementById('org-relationships-title'),
    send: (body) => api('POST', `${base}/relationships/${encodeURIComponent(relationship.id)}/amendments`, body),
    done: async () => {
      notify({ kind: 'success', key: 'partnerOrg.askSent', params: { customer: relationship.agreement?.customer_name ?? '' } });
      await reload();
      focusLater('org-requests-title');
    },
  });
}

/** Who of the organization acts on one agreement: all its people, or those ticked. */
function openPeopleDialog(relationship, organization, { base, reload }) {
  const number = relationship.agreement?.license_number ?? '';
  const people = Array.isArray(organization.people) ? organization.people : [];
  const named = new Set((relationship.named_people || []).map((p) => p.id));
  openDialog({
    title: 'partnerOrg.peopleTitle',
    titleParams: { number },
    testid: 'people-dialog',
    returnFocus: () => document.getElementById('org-relationships-title'),
    content: ({ close }) => {
      const id = uid('people');
      const radio = (value, key) => {
        const input = h('input', { type: 'radio', name: `${id}-mode`, value, id: `${id}-${value}`, checked: (relationship.people === 'named') === (value === 'named'), 'data-testid': `people-${value}` });
        return { input, element: h('div', { class: 'choice' }, input, h('label', { for: input.id, t: key, params: { organization: organization.name ?? '' } })) };
      };
      const all = radio('all', 'partnerOrg.peopleAll');
      const some = radio('named', 'partnerOrg.peopleNamed');
      const boxes = people.map((p) => {
        const input = h('input', { type: 'checkbox', id: `${id}-m${p.id}`, value: p.id, checked: named.has(p.id), 'data-testid': `person-${p.id}` });
        return { input, element: h('div', { class: 'choice' }, input, h('label', { for: input.id }, p.name ? `${p.name} (${p.email ?? ''})` : (p.email ?? ''))) };
      });
      const list = h('fieldset', { class: 'choice-group choice-group--nested', 'data-testid': 'people-list' },
        h('legend', { class: 'visually-hidden', t: 'partnerOrg.peopleWho' }),
        boxes.map((b) => b.element));
      const showList = () => {
        list.disabled = !some.input.checked;
      };
      all.input.addEventListener('change', showList);
      some.input.addEventListener('change', showList);
      showList();
      const errors = fieldErrors();
      const error = h('p', { class: 'field__error', hidden: true, 'data-testid': 'error-member_ids' });
      errors.add('member_ids', {
        input: boxes[0]?.input || some.input,
        setError(code) {
          error.hidden = !code;
          error.replaceChildren(...(code ? [h('span', { t: code === FIELD.REQUIRED ? 'partnerOrg.peopleRequired' : fieldErrorKey(code) })] : []));
        },
      });
      const messages = h('div', { class: 'form__messages', role: 'alert', 'data-testid': 'people-dialog-message' });
      const submit = h('button', { type: 'submit', class: 'button button--primary', t: 'partnerOrg.peopleSave', 'data-testid': 'people-dialog-submit' });
      const form = h('form', { class: 'form', novalidate: true },
        h('fieldset', { class: 'choice-group' }, h('legend', { class: 'field__label', t: 'partnerOrg.peopleWho' }), all.element, some.element),
        list, error, messages,
        h('div', { class: 'form__actions' }, submit, h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: close })));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        errors.clear();
        messages.replaceChildren();
        const body = some.input.checked
          ? { people: 'named', member_ids: boxes.filter((b) => b.input.checked).map((b) => Number(b.input.value)) }
          : { people: 'all', member_ids: [] };
        try {
          await whilePending(submit, () => api('PUT', `${base}/relationships/${encodeURIComponent(relationship.id)}/people`, body));
          close();
          notify({ kind: 'success', key: 'partnerOrg.peopleSaved', params: { number } });
          await reload();
          focusLater('org-relationships-title');
        } catch (err) {
          showProblem(err, { errors, data: body, onProblem: (problem) => inDialog(problem, messages) });
        }
      });
      return form;
    },
  });
}

/** A refusal said inside a dialog (the page's status line is behind it). */
function inDialog(err, messages) {
  if (!(err instanceof ApiError) || err.code === PROBLEM.UNAUTHENTICATED) return false;
  const notice = problemNotice(err);
  messages.replaceChildren(h('div', { class: 'notice notice--error' }, h('p', { class: 'notice__text', t: notice.key, params: notice.params })));
  return true;
}

// ---- requests waiting on customers -------------------------------------------------------------

function requestsCard(organization) {
  const requests = Array.isArray(organization.requests) ? organization.requests : [];
  return card('org-requests', 'partnerOrg.requestsTitle',
    requests.length
      ? dataTable({
        labelledBy: 'org-requests-title',
        testid: 'org-requests-table',
        rowTestid: (q) => `org-request-${q.id}`,
        rows: requests,
        columns: [
          { key: 'partnerOrg.colAgreement', cell: (q) => h('span', { class: 'code' }, q.license_number ?? '') },
          { key: 'partners.colAsks', cell: (q) => h('div', {}, h('p', { class: 'muted', t: KIND[q.kind] || 'partners.kindAccess' }), capabilityList(q.capabilities)) },
          { key: 'partners.colUntil', cell: (q) => lastDay(q.ends_on) },
          { key: 'partners.colAskedBy', cell: (q) => h('span', {}, q.requested_by?.name || q.requested_by?.email || '') },
          { key: 'partners.colLapses', cell: (q) => h('time', { class: 'nowrap', format: longDate(q.lapses_at) }) },
        ],
      })
      : h('p', { class: 'muted', t: 'partnerOrg.noRequests' }));
}

// ---- people ---------------------------------------------------------------------------------

function peopleCard(organization, context) {
  const people = Array.isArray(organization.people) ? organization.people : [];
  const invite = context.admin && h('button', {
    type: 'button',
    class: 'button button--primary',
    t: 'partnerOrg.invite',
    'data-testid': 'invite-person',
    onclick: () => openInviteDialog(organization, context),
  });
  return h('section', { class: 'card', 'aria-labelledby': 'org-people-title', 'data-testid': 'org-people' },
    h('div', { class: 'card__head' },
      h('h2', { id: 'org-people-title', class: 'card__title', tabindex: '-1', t: 'partnerOrg.peopleTitleList' }),
      invite),
    h('p', { class: 'card__text', t: 'partnerOrg.peopleIntro', params: { organization: organization.name ?? '' } }),
    dataTable({
      labelledBy: 'org-people-title',
      testid: 'org-people-table',
      rowTestid: (p) => `member-${p.id}`,
      rows: people,
      columns: [
        { key: 'admins.colName', cell: (p) => h('span', {}, p.name ?? '') },
        { key: 'admins.colEmail', cell: (p) => h('span', {}, p.email ?? '') },
        { key: 'admins.colRole', cell: (p) => h('span', { t: MEMBER_ROLE[p.role] || 'partnerOrg.roleMember' }) },
        { key: 'partnerOrg.colAccount', cell: (p) => h('span', { t: p.has_account ? 'partnerOrg.accountYes' : 'partnerOrg.accountNo' }) },
        ...(context.admin ? [{ key: 'partners.colActions', cell: (p) => removeMemberButton(p, context) }] : []),
      ],
    }));
}

function openInviteDialog(organization, { base, reload }) {
  openDialog({
    title: 'partnerOrg.inviteTitle',
    titleParams: { organization: organization.name ?? '' },
    testid: 'invite-dialog',
    returnFocus: () => document.getElementById('org-people-title'),
    content: ({ close }) => createForm({
      testid: 'invite-form',
      submit: 'partnerOrg.inviteSubmit',
      ownMessages: true,
      values: { role: 'member' },
      fields: [
        { name: 'email', type: 'email', label: 'admins.colEmail', hint: 'partnerOrg.inviteEmailHint', autocomplete: 'off' },
        {
          name: 'role',
          type: 'select',
          label: 'admins.colRole',
          hint: 'partnerOrg.inviteRoleHint',
          options: [{ value: 'member', t: 'partnerOrg.roleMember' }, { value: 'admin', t: 'partnerOrg.roleAdmin' }],
        },
      ],
      actions: h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: close }),
      onSubmit: async (values) => {
        await api('POST', `${base}/people`, values);
        close();
        notify({ kind: 'success', key: 'partnerOrg.invited', params: { email: values.email } });
        await reload();
        focusLater('org-people-title');
      },
    }).element,
  });
}

function removeMemberButton(person, { organization, base, reload }) {
  const who = person.name || person.email || '';
  return h('button', {
    type: 'button',
    class: 'button button--small button--danger',
    'data-testid': 'remove-member',
    onclick: () => openDialog({
      title: 'partnerOrg.removeTitle',
      titleParams: { name: who },
      testid: 'remove-member-dialog',
      describedBy: 'remove-member-text',
      returnFocus: () => document.getElementById('org-people-title'),
      content: ({ close }) => {
        const { messages, confirm } = confirmAction({
          close,
          label: 'partnerOrg.remove',
          testid: 'confirm-remove-member',
          messagesTestid: 'remove-member-message',
          run: () => api('DELETE', `${base}/people/${encodeURIComponent(person.id)}`),
          onDone: () => notify({ kind: 'success', key: 'partnerOrg.removed', params: { name: who } }),
          isGone: (err) => err.status === 404,
          onGone: () => notify({ kind: 'info', key: 'partnerOrg.removedAlready', params: { name: who } }),
          after: async () => {
            await reload();
            focusLater('org-people-title');
          },
        });
        return [
          h('p', { class: 'dialog__text', id: 'remove-member-text', t: 'partnerOrg.removeText', params: { name: who, organization: organization.name ?? '' } }),
          messages,
          h('div', { class: 'form__actions' },
            confirm,
            h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-autofocus': true, 'data-testid': 'dialog-cancel', onclick: close })),
        ];
      },
    }),
  }, h('span', { t: 'partnerOrg.remove' }), ' ', h('span', { class: 'visually-hidden', t: 'admins.which', params: { name: person.name ?? '', email: person.email ?? '' } }));
}
