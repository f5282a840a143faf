// /lsc/licenses/{license_number}: one license — its customer and partner, dates and status, the
// authorization number (for those entitled to it), pools, order history, contacts, and for the
// partner the way to the developer subscriptions. A license the user is not related to looks
// exactly like one that does not exist.

import { ApiError } from '../api.js';
import { h } from '../dom.js';
import { longDate } from '../i18n.js';
import {
  authorizationNumber, country, dataTable, date, fetchJson, loadingSection, number, statusBadge,
} from '../present.js';
import { pageView, setPageTitle, swapView } from './layout.js';

const CONTACT_ROLE = { customer: 'license.contactCustomer', partner: 'license.contactPartner' };

export default {
  title: 'license.pageTitle',
  access: 'user',
  view({ param }) {
    const view = pageView({ title: 'license.title', params: { number: param }, wide: true },
      h('p', { class: 'page__back' }, h('a', { href: '/lsc', t: 'license.back' })),
      loadingSection({
        testid: 'license',
        load: () => fetchJson(`/lsc/licenses/${encodeURIComponent(param)}`),
        show: details,
        onProblem(err) {
          if (!(err instanceof ApiError && err.status === 404)) return false;
          setPageTitle('license.notFoundTitle');
          swapView(view, notFound(param));
          return true;
        },
      }));
    return view;
  },
};

function details(license) {
  const levelNames = new Map((license.pools || []).map((p) => [p.level, p.level_name || p.level]));
  return [
    summary(license),
    pools(license.pools || []),
    orders(license.orders || [], levelNames),
    contacts(license.contacts || []),
    subscriptions(license.handoff_url),
  ];
}

function card(id, titleKey, ...content) {
  return h('section', { class: 'card', 'aria-labelledby': `${id}-title`, 'data-testid': id },
    h('h2', { id: `${id}-title`, class: 'card__title', t: titleKey }),
    content);
}

function summary(license) {
  const item = (key, value, testid) => [
    h('dt', { t: key }),
    h('dd', { 'data-testid': testid }, value),
  ];
  return card('license-summary', 'license.summaryTitle',
    h('dl', { class: 'facts' },
      item('license.number', h('span', { class: 'code' }, license.license_number), 'license-number'),
      // Only those entitled to it get it from the server.
      license.authorization_number
        && item('license.authorizationNumber', authorizationNumber(license.authorization_number), 'license-authorization'),
      item('license.customer', [
        h('span', {}, license.customer?.name ?? ''),
        license.customer?.country && [' (', h('span', country(license.customer.country)), ')'],
      ], 'license-customer'),
      item('license.partner', license.partner?.name ?? '', 'license-partner'),
      item('license.program', license.program ?? '', 'license-program'),
      item('license.start', h('span', date(license.start_date)), 'license-start'),
      item('license.end', h('span', date(license.end_date)), 'license-end'),
      item('license.status', statusBadge(license.status), 'license-status')));
}

function pools(list) {
  return card('license-pools', 'license.poolsTitle',
    list.length
      ? dataTable({
        labelledBy: 'license-pools-title',
        testid: 'pools-table',
        rowTestid: (p) => `pool-${p.level}`,
        rows: list,
        columns: [
          { key: 'license.colLevel', cell: (p) => h('span', {}, p.level_name || p.level) },
          { key: 'license.colPurchased', numeric: true, cell: (p) => number(p.purchased) },
        ],
      })
      : h('p', { class: 'muted', t: 'license.noPools' }));
}

function orders(list, levelNames) {
  return card('license-orders', 'license.ordersTitle',
    list.length
      ? h('ol', { class: 'orders' }, list.map((order, i) => orderItem(order, i, levelNames)))
      : h('p', { class: 'muted', t: 'license.noOrders' }));
}

function orderItem(order, index, levelNames) {
  const titleId = `order-${index}-title`;
  return h('li', { class: 'orders__item', 'data-testid': 'order' },
    h('h3', { id: titleId, class: 'orders__title' },
      h('span', { t: 'license.orderOf', params: { date: longDate(order.placed_at) } })),
    h('p', { class: 'orders__meta' },
      order.placed_by && h('span', { t: 'license.placedBy', params: { name: order.placed_by } }),
      order.po_reference && h('span', { t: 'license.poReference', params: { reference: order.po_reference } })),
    dataTable({
      labelledBy: titleId,
      rows: order.lines || [],
      columns: [
        { key: 'license.colLevel', cell: (l) => h('span', {}, levelNames.get(l.level) || l.level) },
        { key: 'license.colQuantity', numeric: true, cell: (l) => number(l.quantity) },
      ],
    }));
}

function contacts(list) {
  return card('license-contacts', 'license.contactsTitle',
    list.length
      ? h('ul', { class: 'contacts' }, list.map((c) => h('li', { class: 'contacts__item', 'data-testid': 'contact' },
        h('span', { class: 'contacts__role', t: CONTACT_ROLE[c.role] || 'license.contactOther' }),
        c.name && h('span', { class: 'contacts__name' }, c.name),
        c.email && h('a', { class: 'contacts__email', href: `mailto:${c.email}` }, c.email))))
      : h('p', { class: 'muted', t: 'license.noContacts' }));
}

function subscriptions(handoffUrl) {
  return card('license-subscriptions', 'license.subscriptionsTitle',
    handoffUrl
      // A full page load, not a route of this app: the server answers with a redirect.
      ? h('p', {}, h('a', { href: handoffUrl, 'data-reload': true, 'data-testid': 'handoff', t: 'license.manageSubscriptions' }))
      : h('p', { class: 'muted', t: 'license.subscriptionsByPartner' }));
}

function notFound(number) {
  return pageView({ title: 'license.notFoundTitle', intro: 'license.notFoundText', introParams: { number } },
    h('p', {}, h('a', { href: '/lsc', t: 'license.back' })));
}
