// /agreements/{license}/partners: for the customer's super admins, the partners that have access
// to the agreement — who, from which organization, how they came and since when — with "Remove
// access"; under "History", the access that was removed (who removed it, and when); and the
// organizations blocked from registering again, with "Lift block".
//
// Removing one person's access removes their whole organization's, and blocks it: the confirm
// dialog says so before anything happens.

import { agreementHref, rememberAgreement } from '../agreements.js';
import { ApiError, api } from '../api.js';
import { confirmAction } from '../confirm.js';
import { openDialog } from '../dialog.js';
import { h } from '../dom.js';
import { whilePending } from '../form.js';
import { longDate } from '../i18n.js';
import { notify } from '../notice.js';
import { dataTable, fetchJson, loadingSection, moment } from '../present.js';
import { reportProblem } from '../problems.js';
import { sections, showNotFound } from './agreement.js';
import { pageView } from './layout.js';

// How a partner got access, in words.
const ROUTE = {
  order: 'partners.routeOrder',
  new_license: 'partners.routeNewLicense',
  handoff: 'partners.routeHandoff',
  registration: 'partners.routeRegistration',
};

export default {
  title: 'partners.pageTitle',
  access: 'user',
  agreementContext: true,
  view({ param }) {
    const base = `/agreements/${encodeURIComponent(param)}`;
    const view = pageView({ title: 'partners.title', params: { number: param }, full: true });
    const section = loadingSection({
      testid: 'partners',
      load: () => Promise.all([fetchJson(base), fetchJson(`${base}/partners`)]),
      show: ([agreement, lists]) => {
        rememberAgreement(agreement.license_number);
        const context = { agreement, base, reload: () => section.reload() };
        return [
          sections(agreement, 'partners'),
          h('p', { class: 'page__intro', t: 'partners.intro', params: { customer: agreement.customer?.name ?? '' } }),
          partnersCard((lists.partners || []).filter((p) => p.active), (lists.partners || []).length > 0, context),
          historyCard((lists.partners || []).filter((p) => !p.active), context),
          blocksCard(lists.blocks || [], context),
        ];
      },
      onProblem(err) {
        if (showNotFound(err, view, param)) return true;
        if (err instanceof ApiError && err.status === 403) return onlySuperAdmins(param);
        return false;
      },
    });
    view.append(section);
    return view;
  },
};

function onlySuperAdmins(number) {
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

// The partners with access now (removed ones are in the history below).
function partnersCard(partners, hadAny, context) {
  const number = context.agreement.license_number;
  return card('partners-list', 'partners.listTitle',
    partners.length
      ? withCaption(dataTable({
        labelledBy: 'partners-list-title',
        testid: 'partners-table',
        rowTestid: (p) => `partner-${p.id}`,
        rows: partners,
        columns: [
          ...grantColumns(),
          { key: 'partners.colActions', cell: (p) => removeButton(p, partners, context) },
        ],
      }), 'partners.listCaption', { number })
      : h('p', { class: 'muted', 'data-testid': 'partners-none', t: hadAny ? 'partners.noneLive' : 'partners.none' }));
}

// The columns every grant shows, live or removed.
function grantColumns() {
  return [
    { key: 'partners.colOrganization', cell: (p) => h('span', {}, p.organization ?? '') },
    { key: 'partners.colPerson', cell: (p) => person(p) },
    { key: 'partners.colRoute', cell: (p) => route(p) },
    { key: 'partners.colSince', cell: (p) => h('span', { class: 'nowrap' }, moment(p.granted_at)) },
    { key: 'partners.colStatus', cell: (p) => partnerStatus(p) },
  ];
}

// Access that was removed, most recent removal first.
function historyCard(removed, { agreement }) {
  if (!removed.length) return null;
  const rows = [...removed].sort((a, b) => (b.removed_at ?? 0) - (a.removed_at ?? 0));
  return card('partners-history', 'partners.historyTitle',
    h('p', { class: 'card__text', t: 'partners.historyIntro' }),
    withCaption(dataTable({
      labelledBy: 'partners-history-title',
      testid: 'history-table',
      rowTestid: (p) => `removed-${p.id}`,
      rows,
      columns: [
        ...grantColumns(),
      ],
    }), 'partners.historyCaption', { number: agreement.license_number }));
}

function person(p) {
  return h('span', { class: 'person' },
    h('span', { class: 'person__name' }, p.name ?? ''),
    h('span', { class: 'person__email' }, p.email ?? ''));
}

function route(p) {
  return ROUTE[p.route] ? { t: ROUTE[p.route] } : h('span', {}, p.route ?? '');
}

function partnerStatus(partner) {
  if (partner.active) return h('span', { class: 'badge badge--active', t: 'partners.active', 'data-testid': 'partner-status' });
  return h('span', { class: 'status-cell' },
    h('span', { class: 'badge badge--other', t: 'partners.removed', 'data-testid': 'partner-status' }),
    h('span', {
      class: 'status-cell__detail',
      t: partner.removed_by ? 'partners.removedOnBy' : 'partners.removedOn',
      // Running text, so the day in words: "on December 5, 2029", « le 5 décembre 2029 ».
      params: { when: longDate(partner.removed_at), name: partner.removed_by ?? '' },
    }));
}

function removeButton(partner, partners, context) {
  return h('button', {
    type: 'button',
    class: 'button button--small button--danger',
    'data-testid': 'remove-access',
    onclick: () => confirmRemoval(partner, partners, context),
  },
  h('span', { t: 'partners.remove' }),
  ' ',
  h('span', { class: 'visually-hidden', t: 'partners.removeWhich', params: { organization: partner.organization ?? '', name: partner.name ?? '' } }));
}

function confirmRemoval(partner, partners, { agreement, base, reload }) {
  const organization = partner.organization ?? '';
  // Everyone of that organization with access now loses it.
  const people = partners.filter((p) => p.active && p.organization === partner.organization);
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
        run: () => api('DELETE', `${base}/partners/${encodeURIComponent(partner.id)}`),
        onDone: () => notify({ kind: 'success', key: 'partners.removedDone', params: { organization } }),
        // Someone else was quicker: show the list as it is now.
        isGone: (err) => err.status === 409 || err.status === 404,
        onGone: () => notify({ kind: 'info', key: 'partners.alreadyRemoved', params: { organization } }),
        after: async () => {
          await reload();
          document.getElementById('partners-list-title')?.focus();
        },
      });
      return [
        h('div', { class: 'dialog__text', id: 'remove-dialog-text' },
          h('p', { t: 'partners.removeText', params: { organization, number: agreement.license_number, customer: agreement.customer?.name ?? '' } }),
          people.length > 0 && h('ul', { class: 'dialog__list', 'data-testid': 'remove-dialog-people' },
            people.map((p) => h('li', {}, `${p.name ?? ''} (${p.email ?? ''})`))),
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
      document.getElementById('partner-blocks-title')?.focus();
    }),
  },
  h('span', { t: 'partners.lift' }),
  ' ',
  h('span', { class: 'visually-hidden', t: 'partners.liftWhich', params: { organization } }));
  return button;
}
