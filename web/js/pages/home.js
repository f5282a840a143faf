// /home: the signed-in start page — the agreements the user may manage, and the way to the
// licensing center.

import { h } from '../dom.js';
import { dataTable, date, fetchJson, loadingSection, statusBadge } from '../present.js';
import { currentUser } from '../session.js';
import { pageView } from './layout.js';

const ROLE = { super_admin: 'home.roleSuperAdmin', admin: 'home.roleAdmin', partner: 'home.rolePartner' };

export default {
  title: 'home.pageTitle',
  access: 'user',
  view() {
    return pageView({ title: 'home.title', params: { name: currentUser().name }, wide: true },
      h('section', { class: 'card', 'aria-labelledby': 'agreements-title', 'data-testid': 'agreements' },
        h('h2', { id: 'agreements-title', class: 'card__title', t: 'home.agreementsTitle' }),
        loadingSection({
          testid: 'agreements-content',
          load: () => fetchJson('/agreements'),
          show: ({ agreements = [] }) => (agreements.length
            ? agreementTable(agreements)
            : h('div', { class: 'empty-state' }, h('p', { class: 'empty-state__text', t: 'home.noAgreements' }))),
        })),
      h('section', { class: 'card card--link', 'aria-labelledby': 'lsc-title', 'data-testid': 'lsc-teaser' },
        h('h2', { id: 'lsc-title', class: 'card__title', t: 'home.lscTitle' }),
        h('p', { class: 'card__text', t: 'home.lscText' }),
        h('p', {}, h('a', { href: '/lsc', class: 'button', t: 'home.lscLink', 'data-testid': 'home-lsc' }))));
  },
};

function agreementTable(agreements) {
  return dataTable({
    labelledBy: 'agreements-title',
    testid: 'agreements-table',
    rowTestid: (a) => `agreement-${a.license_number}`,
    rows: agreements,
    columns: [
      { key: 'home.colLicense', cell: (a) => h('span', { class: 'code' }, a.license_number) },
      { key: 'home.colCustomer', cell: (a) => h('span', {}, a.customer?.name ?? '') },
      { key: 'home.colRole', cell: (a) => (ROLE[a.role] ? { t: ROLE[a.role] } : h('span', {}, a.role ?? '')) },
      { key: 'home.colStatus', cell: (a) => statusBadge(a.status) },
      { key: 'home.colStart', cell: (a) => ({ ...date(a.start_date), class: 'nowrap' }) },
      { key: 'home.colEnd', cell: (a) => ({ ...date(a.end_date), class: 'nowrap' }) },
    ],
  });
}
