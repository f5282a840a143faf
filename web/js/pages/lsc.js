// /lsc: the licensing center's relationship summary — every license the user is related to, as
// the partner that placed it or as its customer — and the way to place a new order.

import { h } from '../dom.js';
import { country, dataTable, date, fetchJson, loadingSection, statusBadge } from '../present.js';
import { pageView } from './layout.js';

const RELATION = { partner: 'lsc.relationPartner', customer: 'lsc.relationCustomer' };

export default {
  title: 'lsc.title',
  access: 'user',
  view() {
    return pageView({ title: 'lsc.title', intro: 'lsc.intro', full: true },
      h('div', { class: 'page__actions' },
        h('a', { href: '/lsc/orders/new', class: 'button button--primary', t: 'lsc.newOrder', 'data-testid': 'new-order' })),
      h('section', { class: 'card', 'aria-labelledby': 'relationships-title', 'data-testid': 'relationships' },
        h('h2', { id: 'relationships-title', class: 'card__title', t: 'lsc.relationshipsTitle' }),
        loadingSection({
          testid: 'relationships-content',
          load: () => fetchJson('/lsc/relationships'),
          show: ({ agreements = [] }) => (agreements.length ? relationshipTable(agreements) : empty()),
        })));
  },
};

function relationshipTable(agreements) {
  return dataTable({
    labelledBy: 'relationships-title',
    testid: 'relationships-table',
    rowTestid: (a) => `relationship-${a.license_number}`,
    rows: agreements,
    columns: [
      { key: 'lsc.colLicense', cell: (a) => h('a', { href: licenseHref(a.license_number), class: 'code' }, a.license_number) },
      { key: 'lsc.colCustomer', cell: (a) => h('span', {}, a.customer?.name ?? '') },
      { key: 'lsc.colCountry', cell: (a) => country(a.customer?.country) },
      { key: 'lsc.colProgram', cell: (a) => h('span', { class: 'nowrap' }, a.program ?? '') },
      { key: 'lsc.colStart', cell: (a) => ({ ...date(a.start_date), class: 'nowrap' }) },
      { key: 'lsc.colEnd', cell: (a) => ({ ...date(a.end_date), class: 'nowrap' }) },
      { key: 'lsc.colStatus', cell: (a) => statusBadge(a.status) },
      { key: 'lsc.colRelation', cell: (a) => (RELATION[a.relation] ? { t: RELATION[a.relation] } : h('span', {}, a.relation ?? '')) },
    ],
  });
}

function empty() {
  return h('div', { class: 'empty-state' },
    h('p', { class: 'empty-state__text', t: 'lsc.empty' }));
}

export function licenseHref(number) {
  return `/lsc/licenses/${encodeURIComponent(number)}`;
}
