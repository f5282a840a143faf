// /agreements/{license}/partners: for the customer's super admins and partner managers, the
// partner organizations that manage the agreement's developer subscriptions — one row per
// organization: what it may do, who of its people act, until which day, whether the access
// renews itself, and when it last did something — with "Change" (what it may do, the last day,
// renewal; amended in place) and "Remove access". Above them, prominent, the requests waiting
// for a decision (a partner asking for access, or for more): Approve as asked, Approve with
// changes (narrower only) or Deny, with an optional reason. The e-mail about a request links here
// with ?request={id}, which opens that request's dialog. Below, collapsed, the history (access
// that ended, was removed, denied or lapsed), and the organizations blocked from coming back,
// with "Lift block".
//
// Removing an organization's access removes it for all its people, and blocks it: the confirm
// dialog says so before anything happens.

import { agreementHref, rememberAgreement } from '../agreements.js';
import { ApiError, api } from '../api.js';
import { LIMITS } from '../constants.js';
import { confirmAction } from '../confirm.js';
import { openDialog } from '../dialog.js';
import { h } from '../dom.js';
import { createForm, whilePending } from '../form.js';
import { longDate } from '../i18n.js';
import { notify } from '../notice.js';
import { accessDialog, capabilityList, lastDay, peopleText } from '../partner-access.js';
import { dataTable, fetchJson, loadingSection, moment } from '../present.js';
import { problemNotice, reportProblem } from '../problems.js';
import { sections, showNotFound } from './agreement.js';
import { pageView } from './layout.js';

// How a partner got access, in words.
const ROUTE = {
  order: 'partners.routeOrder',
  new_license: 'partners.routeNewLicense',
  handoff: 'partners.routeHandoff',
  registration: 'partners.routeRegistration',
  migrated: 'partners.routeMigrated',
};

// A relationship's status, in words.
const STATUS = {
  pending: 'partners.statusPending',
  active: 'partners.active',
  ended: 'partners.statusEnded',
  removed: 'partners.removed',
  denied: 'partners.statusDenied',
  lapsed: 'partners.statusLapsed',
};

// What a request asks for.
const KIND = { access: 'partners.kindAccess', amendment: 'partners.kindAmendment' };

const LIVE = new Set(['pending', 'active']);

export default {
  title: 'partners.pageTitle',
  access: 'user',
  agreementContext: true,
  view({ param, query }) {
    const base = `/agreements/${encodeURIComponent(param)}`;
    const view = pageView({ title: 'partners.title', params: { number: param }, full: true });
    // The request the e-mail's link names: its dialog opens once, on the first showing.
    let asked = query.get('request');
    const section = loadingSection({
      testid: 'partners',
      load: () => Promise.all([fetchJson(base), fetchJson(`${base}/partners`)]),
      show: ([agreement, lists]) => {
        rememberAgreement(agreement.license_number);
        const relationships = Array.isArray(lists.relationships) ? lists.relationships : [];
        const requests = Array.isArray(lists.requests) ? lists.requests : [];
        const context = { agreement, base, relationships, reload: () => section.reload() };
        if (asked) {
          const id = asked;
          asked = null;
          // After the page is drawn, so the dialog's opener and return target exist.
          queueMicrotask(() => openRequested(id, requests, context));
        }
        return [
          sections(agreement, 'partners'),
          h('p', { class: 'page__intro', t: 'partners.intro', params: { customer: agreement.customer?.name ?? '' } }),
          requestsCard(requests, context),
          partnersCard(relationships.filter((r) => LIVE.has(r.status)), relationships.length > 0, context),
          historyCard(relationships.filter((r) => !LIVE.has(r.status)), context),
          blocksCard(Array.isArray(lists.blocks) ? lists.blocks : [], context),
        ];
      },
      onProblem(err) {
        if (showNotFound(err, view, param)) return true;
        if (err instanceof ApiError && err.status === 403) return forbidden(param);
        return false;
      },
    });
    view.append(section);
    return view;
  },
};

function forbidden(number) {
  return h('section', { class: 'card', 'aria-labelledby': 'partners-forbidden-title', 'data-testid': 'partners-forbidden' },
    h('h2', { id: 'partners-forbidden-title', class: 'card__title', t: 'partners.forbiddenTitle' }),
    h('p', { class: 'card__text', t: 'partners.forbiddenText' }),
    h('p', {}, h('a', { href: agreementHref(number), t: 'partners.back' })));
}

function card(id, titleKey, ...content) {
  return h('section', { class: 'card', 'aria-labelledby': `${id}-title`, 'data-testid': id },
    // Focusable, to take the focus back after an action changed the list below it.
    h('h2', { id: `${id}-title`, class: 'card__title', tabindex: '-1', t: titleKey }),
    content);
}

// A table's caption, for screen readers browsing by table (the card's heading names it too).
function withCaption(table, key, params) {
  table.querySelector('table').prepend(h('caption', { class: 'visually-hidden', t: key, params }));
  return table;
}

const focusLater = (id) => document.getElementById(id)?.focus();

// ---- requests waiting for a decision ----------------------------------------------------------

function requestsCard(requests, context) {
  if (!requests.length) return null;
  return h('section', { class: 'card card--attention', 'aria-labelledby': 'partner-requests-title', 'data-testid': 'partner-requests' },
    h('h2', { id: 'partner-requests-title', class: 'card__title', tabindex: '-1', t: 'partners.requestsTitle', params: { count: requests.length } }),
    h('p', { class: 'card__text', t: 'partners.requestsIntro' }),
    withCaption(dataTable({
      labelledBy: 'partner-requests-title',
      testid: 'requests-table',
      rowTestid: (q) => `request-${q.id}`,
      rows: requests,
      columns: [
        { key: 'partners.colOrganization', cell: (q) => h('span', {}, q.organization?.name ?? '') },
        { key: 'partners.colAskedBy', cell: (q) => person(q.requested_by) },
        { key: 'partners.colAsks', cell: (q) => h('div', {}, h('p', { class: 'muted', t: KIND[q.kind] || 'partners.kindAccess' }), capabilityList(q.capabilities, 'request-capabilities')) },
        { key: 'partners.colUntil', cell: (q) => lastDay(q.ends_on) },
        { key: 'partners.colLapses', cell: (q) => h('time', { class: 'nowrap', format: longDate(q.lapses_at) }) },
        { key: 'partners.colActions', cell: (q) => requestActions(q, context) },
      ],
    }), 'partners.requestsCaption', { number: context.agreement.license_number }));
}

function person(who) {
  return h('span', { class: 'person' },
    h('span', { class: 'person__name' }, who?.name ?? ''),
    h('span', { class: 'person__email' }, who?.email ?? ''));
}

function requestActions(request, context) {
  const organization = request.organization?.name ?? '';
  const which = () => [' ', h('span', { class: 'visually-hidden', t: 'partners.requestWhich', params: { organization } })];
  const approve = h('button', {
    type: 'button',
    class: 'button button--small button--primary',
    'data-testid': 'approve-request',
    onclick: () => whilePending(approve, () => decide(request, context, () => api('POST', requestPath(request, context, 'approve'), {}), 'partners.approvedDone')),
  }, h('span', { t: 'partners.approve' }), which());
  return h('div', { class: 'button-row' },
    approve,
    h('button', {
      type: 'button',
      class: 'button button--small',
      'data-testid': 'approve-with-changes',
      onclick: () => openApproveDialog(request, context),
    }, h('span', { t: 'partners.approveWithChanges' }), which()),
    h('button', {
      type: 'button',
      class: 'button button--small button--danger',
      'data-testid': 'deny-request',
      onclick: () => openDenyDialog(request, context),
    }, h('span', { t: 'partners.deny' }), which()));
}

const requestPath = (request, { base }, action) => `${base}/partner-requests/${encodeURIComponent(request.id)}/${action}`;

/** The link from the e-mail: that request's dialog, or why there is nothing to decide. */
function openRequested(id, requests, context) {
  const request = requests.find((q) => String(q.id) === String(id));
  if (request) openApproveDialog(request, context);
  else notify({ kind: 'info', key: 'partners.requestGone' });
}

/**
 * Sends a decision and shows the list as it is afterwards. A request someone else decided in the
 * meantime (409), or that lapsed (410), is said as such: the list then shows where it stands.
 */
async function decide(request, { reload }, send, doneKey) {
  const organization = request.organization?.name ?? '';
  try {
    await send();
    notify({ kind: 'success', key: doneKey, params: { organization } });
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 409 && err.status !== 410)) {
      reportProblem(err);
      return;
    }
    notify(problemNotice(err));
  }
  await reload();
  focusLater('partners-list-title');
}

function openApproveDialog(request, context) {
  const organization = request.organization?.name ?? '';
  accessDialog({
    title: request.kind === 'amendment' ? 'partners.approveAmendmentTitle' : 'partners.approveTitle',
    titleParams: { organization },
    intro: 'partners.approveIntro',
    introParams: {
      name: request.requested_by?.name || request.requested_by?.email || '',
      organization,
      date: longDate(request.lapses_at),
    },
    testid: 'approve-dialog',
    submit: 'partners.approve',
    offered: request.capabilities || [],
    latest: request.ends_on,
    values: { capabilities: request.capabilities || [], ends_on: request.ends_on },
    returnFocus: () => document.getElementById('partners-list-title'),
    // Approved as asked, nothing needs sending but the decision; narrower, the choice.
    send: (body) => {
      const asked = [...(request.capabilities || [])].sort().join();
      const same = [...body.capabilities].sort().join() === asked && body.ends_on === undefined;
      return api('POST', requestPath(request, context, 'approve'), same ? {} : body);
    },
    done: async (result, body) => {
      const asked = [...(request.capabilities || [])].sort().join();
      const narrowed = [...body.capabilities].sort().join() !== asked || body.ends_on !== undefined;
      notify({ kind: 'success', key: narrowed ? 'partners.narrowedDone' : 'partners.approvedDone', params: { organization } });
      await context.reload();
      focusLater('partners-list-title');
    },
    extra: (close) => h('button', {
      type: 'button',
      class: 'button button--danger',
      t: 'partners.denyInstead',
      'data-testid': 'deny-instead',
      onclick: () => {
        close();
        openDenyDialog(request, context);
      },
    }),
    // Decided by someone else in the meantime, or lapsed: said on the page, which shows why.
    isGone: (err) => err.status === 409 || err.status === 410,
    onGone: async (err) => {
      notify(problemNotice(err));
      await context.reload();
    },
  });
}

function openDenyDialog(request, context) {
  const organization = request.organization?.name ?? '';
  openDialog({
    title: 'partners.denyTitle',
    titleParams: { organization },
    testid: 'deny-dialog',
    describedBy: 'deny-dialog-text',
    returnFocus: () => document.getElementById('partners-list-title'),
    content: ({ close }) => {
      const form = createForm({
        testid: 'deny-form',
        submit: 'partners.deny',
        ownMessages: true,
        fields: [{ name: 'reason', type: 'textarea', label: 'partners.denyReason', hint: 'partners.denyReasonHint', optional: true, maxlength: LIMITS.LIMIT_PARTNER_REASON_CHARS, rows: 3 }],
        actions: h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-autofocus': true, 'data-testid': 'dialog-cancel', onclick: close }),
        onSubmit: async (values) => {
          await api('POST', requestPath(request, context, 'deny'), values.reason ? { reason: values.reason } : {});
          close();
          notify({ kind: 'success', key: 'partners.deniedDone', params: { organization } });
          await context.reload();
          focusLater('partners-list-title');
        },
        onProblem: (err) => {
          // Decided by someone else, or lapsed: nothing left to deny; the list shows why.
          if (!(err instanceof ApiError) || (err.status !== 409 && err.status !== 410)) return false;
          close();
          notify(problemNotice(err));
          context.reload();
          return true;
        },
      });
      return [
        h('p', { class: 'dialog__text', id: 'deny-dialog-text', t: 'partners.denyText', params: { organization, name: request.requested_by?.name || request.requested_by?.email || '' } }),
        form.element,
      ];
    },
  });
}

// ---- organizations with access ----------------------------------------------------------------

function partnersCard(live, hadAny, context) {
  const number = context.agreement.license_number;
  return card('partners-list', 'partners.listTitle',
    live.length
      ? withCaption(dataTable({
        labelledBy: 'partners-list-title',
        testid: 'partners-table',
        rowTestid: (r) => `partner-${r.id}`,
        rows: live,
        columns: [
          { key: 'partners.colOrganization', cell: (r) => organizationCell(r) },
          { key: 'partners.colMay', cell: (r) => capabilityList(r.capabilities) },
          { key: 'partners.colPeople', cell: (r) => peopleText(r) },
          { key: 'partners.colLastDay', cell: (r) => (r.status === 'active' ? lastDay(r.ends_on) : h('span', { class: 'muted', t: 'partners.notYet' })) },
          { key: 'partners.colRenewal', cell: (r) => h('span', { t: r.auto_renew ? 'partners.renewsYes' : 'partners.renewsNo', 'data-testid': 'partner-renewal' }) },
          { key: 'partners.colStatus', cell: (r) => statusCell(r) },
          { key: 'partners.colLastAction', cell: (r) => (r.last_action_at ? moment(r.last_action_at) : h('span', { class: 'muted', t: 'partners.noActionYet' })) },
          { key: 'partners.colActions', cell: (r) => (r.status === 'active' ? relationshipActions(r, context) : h('span', {})) },
        ],
      }), 'partners.listCaption', { number })
      : h('p', { class: 'muted', 'data-testid': 'partners-none', t: hadAny ? 'partners.noneLive' : 'partners.none' }));
}

function organizationCell(relationship) {
  const route = ROUTE[relationship.route];
  return h('span', { class: 'person' },
    h('span', { class: 'person__name' }, relationship.organization?.name ?? ''),
    route && h('span', { class: 'person__email', t: route }));
}

function statusCell(relationship) {
  const badge = relationship.status === 'active' ? 'badge--active' : relationship.status === 'pending' ? 'badge--pending' : 'badge--other';
  const detail = statusDetail(relationship);
  return h('span', { class: 'status-cell' },
    h('span', { class: `badge ${badge}`, t: STATUS[relationship.status] || 'partners.statusEnded', 'data-testid': 'partner-status' }),
    detail);
}

function statusDetail(relationship) {
  if (LIVE.has(relationship.status)) {
    return relationship.pending_request?.kind === 'amendment'
      ? h('span', { class: 'status-cell__detail', t: 'partners.moreAsked' })
      : null;
  }
  if (!relationship.ended_at) return null;
  return h('span', {
    class: 'status-cell__detail',
    t: relationship.ended_by ? 'partners.removedOnBy' : 'partners.removedOn',
    // Running text, so the day in words: "on December 5, 2029", « le 5 décembre 2029 ».
    params: { when: longDate(relationship.ended_at), name: relationship.ended_by ?? '' },
  });
}

function relationshipActions(relationship, context) {
  const organization = relationship.organization?.name ?? '';
  const which = (key) => [' ', h('span', { class: 'visually-hidden', t: key, params: { organization } })];
  return h('div', { class: 'button-row' },
    h('button', {
      type: 'button',
      class: 'button button--small',
      'data-testid': 'change-access',
      onclick: () => openChangeDialog(relationship, context),
    }, h('span', { t: 'partners.change' }), which('partners.changeWhich')),
    h('button', {
      type: 'button',
      class: 'button button--small button--danger',
      'data-testid': 'remove-access',
      onclick: () => confirmRemoval(relationship, context),
    }, h('span', { t: 'partners.remove' }), which('partners.removeWhich')));
}

function openChangeDialog(relationship, { base, reload }) {
  const organization = relationship.organization?.name ?? '';
  accessDialog({
    title: 'partners.changeTitle',
    titleParams: { organization },
    intro: 'partners.changeIntro',
    introParams: { organization },
    testid: 'change-dialog',
    submit: 'partners.changeSubmit',
    renewal: true,
    values: { capabilities: relationship.capabilities || [], ends_on: relationship.ends_on, auto_renew: relationship.auto_renew === true },
    returnFocus: () => document.getElementById('partners-list-title'),
    send: (body) => api('PATCH', `${base}/partners/${encodeURIComponent(relationship.id)}`, body),
    done: async () => {
      notify({ kind: 'success', key: 'partners.changedDone', params: { organization } });
      await reload();
      focusLater('partners-list-title');
    },
  });
}

function confirmRemoval(relationship, { agreement, base, reload }) {
  const organization = relationship.organization?.name ?? '';
  const named = relationship.people === 'named' && Array.isArray(relationship.named_people) ? relationship.named_people : [];
  openDialog({
    title: 'partners.removeTitle',
    titleParams: { organization },
    testid: 'remove-dialog',
    describedBy: 'remove-dialog-text',
    returnFocus: () => document.getElementById('partners-list-title'),
    content: ({ close }) => {
      const { messages, confirm } = confirmAction({
        close,
        label: 'partners.removeConfirm',
        testid: 'confirm-remove',
        messagesTestid: 'remove-dialog-message',
        run: () => api('DELETE', `${base}/partners/${encodeURIComponent(relationship.id)}`),
        onDone: () => notify({ kind: 'success', key: 'partners.removedDone', params: { organization } }),
        // Someone else was quicker: show the list as it is now.
        isGone: (err) => err.status === 409 || err.status === 404,
        onGone: () => notify({ kind: 'info', key: 'partners.alreadyRemoved', params: { organization } }),
        after: async () => {
          await reload();
          focusLater('partners-list-title');
        },
      });
      return [
        h('div', { class: 'dialog__text', id: 'remove-dialog-text' },
          h('p', { t: named.length ? 'partners.removeTextNamed' : 'partners.removeText', params: { organization, number: agreement.license_number, customer: agreement.customer?.name ?? '' } }),
          named.length > 0 && h('ul', { class: 'dialog__list', 'data-testid': 'remove-dialog-people' },
            named.map((p) => h('li', {}, p.name ? `${p.name} (${p.email ?? ''})` : (p.email ?? '')))),
          h('p', { class: 'dialog__warning', t: 'partners.removeBlock', params: { organization } }),
          h('p', { t: 'partners.removeMail' })),
        messages,
        h('div', { class: 'form__actions' },
          confirm,
          h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-autofocus': true, 'data-testid': 'dialog-cancel', onclick: close })),
      ];
    },
  });
}

// ---- history and blocks -----------------------------------------------------------------------

// Access that ended, was removed, denied or lapsed, most recent first; folded away by default
// (a disclosure button in the heading, which screen readers announce as expanded or not).
function historyCard(past, { agreement }) {
  if (!past.length) return null;
  const rows = [...past].sort((a, b) => (b.ended_at ?? b.created_at ?? 0) - (a.ended_at ?? a.created_at ?? 0));
  const content = h('div', { id: 'partners-history-content', hidden: true },
    h('p', { class: 'card__text', t: 'partners.historyIntro' }),
    withCaption(dataTable({
      labelledBy: 'partners-history-title',
      testid: 'history-table',
      rowTestid: (r) => `past-${r.id}`,
      rows,
      columns: [
        { key: 'partners.colOrganization', cell: (r) => organizationCell(r) },
        { key: 'partners.colMay', cell: (r) => capabilityList(r.capabilities) },
        { key: 'partners.colPeople', cell: (r) => peopleText(r) },
        { key: 'partners.colStatus', cell: (r) => statusCell(r) },
      ],
    }), 'partners.historyCaption', { number: agreement.license_number }));
  const toggle = h('button', {
    type: 'button',
    class: 'disclosure__button',
    'aria-expanded': 'false',
    'aria-controls': 'partners-history-content',
    'data-testid': 'history-toggle',
    onclick: () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      content.hidden = !open;
    },
  }, h('span', { class: 'disclosure__arrow', 'aria-hidden': 'true' }), h('span', { t: 'partners.historyTitle', params: { count: rows.length } }));
  return h('section', { class: 'card', 'aria-labelledby': 'partners-history-title', 'data-testid': 'partners-history' },
    h('h2', { id: 'partners-history-title', class: 'card__title' }, toggle),
    content);
}

function blocksCard(blocks, context) {
  return card('partner-blocks', 'partners.blocksTitle',
    h('p', { class: 'card__text', t: 'partners.blocksIntro' }),
    blocks.length
      ? dataTable({
        labelledBy: 'partner-blocks-title',
        testid: 'blocks-table',
        rowTestid: (b) => `block-${b.id}`,
        rows: blocks,
        columns: [
          { key: 'partners.colOrganization', cell: (b) => h('span', {}, b.organization ?? '') },
          { key: 'partners.colBlockedSince', cell: (b) => h('span', { class: 'nowrap' }, moment(b.blocked_at)) },
          { key: 'partners.colBlockedBy', cell: (b) => h('span', {}, b.blocked_by ?? '') },
          { key: 'partners.colActions', cell: (b) => liftButton(b, context) },
        ],
      })
      : h('p', { class: 'muted', t: 'partners.noBlocks' }));
}

function liftButton(block, { base, reload }) {
  const organization = block.organization ?? '';
  const button = h('button', {
    type: 'button',
    class: 'button button--small',
    'data-testid': 'lift-block',
    onclick: () => whilePending(button, async () => {
      try {
        await api('DELETE', `${base}/partner-blocks/${encodeURIComponent(block.id)}`);
        notify({ kind: 'success', key: 'partners.blockLifted', params: { organization } });
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) {
          reportProblem(err);
          return;
        }
        notify({ kind: 'info', key: 'partners.blockGone', params: { organization } });
      }
      await reload();
      focusLater('partner-blocks-title');
    }),
  },
  h('span', { t: 'partners.lift' }),
  ' ',
  h('span', { class: 'visually-hidden', t: 'partners.liftWhich', params: { organization } }));
  return button;
}
