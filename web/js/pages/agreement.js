// /agreements/{license}: one agreement of the administration portal — what it is, the user's
// role on it, its seats and its subscribers (pages/subscribers.js). Its tabs lead to the other
// pages of the agreement: everyone with a role sees the activity and the maximum usage; super
// admins also manage its admins, preferences and partners, and follow its background jobs. An agreement the user has no role on
// (or no longer: a partner whose access was removed) looks exactly like one that does not exist.

import { agreementHref, rememberAgreement } from '../agreements.js';
import { ApiError } from '../api.js';
import { h } from '../dom.js';
import { longDate } from '../i18n.js';
import { country, date, fetchJson, loadingSection, role, statusBadge } from '../present.js';
import { pageView, setPageTitle, swapView } from './layout.js';
import { subscriptionAdmin } from './subscribers.js';

export default {
  title: 'agreement.pageTitle',
  access: 'user',
  agreementContext: true,
  view({ param }) {
    const view = pageView({ title: 'agreement.title', params: { number: param }, full: true },
      loadingSection({
        testid: 'agreement',
        load: () => fetchJson(`/agreements/${encodeURIComponent(param)}`),
        show: (agreement) => {
          rememberAgreement(agreement.license_number);
          return [sections(agreement, 'overview'), lifecycleNotice(agreement), summary(agreement), ...subscriptionAdmin(agreement)];
        },
        onProblem: (err) => showNotFound(err, view, param),
      }));
    return view;
  },
};

// The tabs: [path part, label key, super admins only].
const TABS = [
  ['overview', 'agreement.overview', false],
  ['admins', 'agreement.admins', true],
  ['preferences', 'agreement.preferences', true],
  ['activity', 'agreement.activity', false],
  ['usage', 'agreement.usage', false],
  ['partners', 'agreement.partners', true],
  ['jobs', 'agreement.jobs', true],
];

/** The tabs of an agreement's pages that the user's role opens; `current`: the part shown. */
export function sections(agreement, current) {
  const superAdmin = agreement.role === 'super_admin';
  const tab = (part, key) => h('a', {
    class: 'tabs__link',
    href: agreementHref(agreement.license_number, part === 'overview' ? '' : part),
    'aria-current': part === current ? 'page' : null,
    t: key,
    'data-testid': `tab-${part}`,
  });
  return h('nav', { class: 'tabs', tAttrs: { 'aria-label': 'agreement.sections' } },
    h('ul', { class: 'tabs__list' },
      TABS.filter(([, , only]) => superAdmin || !only).map(([part, key]) => h('li', {}, tab(part, key)))));
}

/**
 * One tab of an agreement other than the overview: the agreement is fetched (for the tabs and the
 * role), then `show(agreement, base)` draws the tab's content. `superOnly` tabs explain to others
 * that only super admins see them.
 */
export function agreementTab({ param, part, title, superOnly = false, show }) {
  const base = `/agreements/${encodeURIComponent(param)}`;
  const view = pageView({ title, params: { number: param }, full: true });
  view.append(loadingSection({
    testid: `agreement-${part}`,
    load: () => fetchJson(base),
    show: (agreement) => {
      rememberAgreement(agreement.license_number);
      if (superOnly && agreement.role !== 'super_admin') return [sections(agreement, part), onlySuperAdmins(param)];
      return [sections(agreement, part), lifecycleNotice(agreement), show(agreement, base)];
    },
    onProblem: (err) => showNotFound(err, view, param),
  }));
  return view;
}

/** For pages of an agreement that only its super admins may see. */
export function onlySuperAdmins(number) {
  return h('section', { class: 'card', 'aria-labelledby': 'only-super-title', 'data-testid': 'only-super-admins' },
    h('h2', { id: 'only-super-title', class: 'card__title', t: 'agreement.onlySuperTitle' }),
    h('p', { class: 'card__text', t: 'agreement.onlySuperText' }),
    h('p', {}, h('a', { href: agreementHref(number), t: 'partners.back' })));
}

/** An expired or disabled agreement says so: changes may be refused (read-only). */
function lifecycleNotice(agreement) {
  const key = { expired: 'agreement.expiredNotice', disabled: 'agreement.disabledNotice' }[agreement.status];
  if (!key) return null;
  return h('div', { class: 'notice notice--warning banner', 'data-testid': 'lifecycle-notice' },
    h('p', { class: 'notice__text', t: key, params: { date: longDate(agreement.end_date) } }));
}

function summary(agreement) {
  const item = (key, value, testid) => [h('dt', { t: key }), h('dd', { 'data-testid': testid }, value)];
  return h('section', { class: 'card', 'aria-labelledby': 'agreement-summary-title', 'data-testid': 'agreement-summary' },
    h('h2', { id: 'agreement-summary-title', class: 'card__title', t: 'agreement.summaryTitle' }),
    h('dl', { class: 'facts' },
      item('license.number', h('span', { class: 'code' }, agreement.license_number), 'agreement-number'),
      item('license.customer', [
        h('span', {}, agreement.customer?.name ?? ''),
        agreement.customer?.country && [' (', h('span', country(agreement.customer.country)), ')'],
      ], 'agreement-customer'),
      agreement.program && item('license.program', agreement.program, 'agreement-program'),
      item('license.status', statusBadge(agreement.status), 'agreement-status'),
      item('license.start', h('span', date(agreement.start_date)), 'agreement-start'),
      item('license.end', h('span', date(agreement.end_date)), 'agreement-end'),
      item('agreement.role', h('span', role(agreement.role)), 'agreement-role')));
}

/** For a 404: the not-found view in place of the page. Other failures: the usual handling. */
export function showNotFound(err, view, number) {
  if (!(err instanceof ApiError && err.status === 404)) return false;
  setPageTitle('agreement.notFoundTitle');
  swapView(view, pageView({ title: 'agreement.notFoundTitle', intro: 'agreement.notFoundText', introParams: { number } },
    h('p', { class: 'page__aside', t: 'agreement.notFoundHelp' }),
    h('p', {}, h('a', { href: '/home', t: 'agreement.toHome', 'data-testid': 'to-home' }))));
  return true;
}
