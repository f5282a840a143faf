// /agreements/{license}: one agreement of the administration portal — what it is, the user's
// role on it, its seats and its subscribers (pages/subscribers.js); super admins also reach its
// Partners page from here. An agreement the user has no role on (or no longer: a partner whose
// access was removed) looks exactly like one that does not exist.

import { agreementHref, rememberAgreement } from '../agreements.js';
import { ApiError } from '../api.js';
import { h } from '../dom.js';
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
          return [sections(agreement, 'overview'), summary(agreement), ...subscriptionAdmin(agreement)];
        },
        onProblem: (err) => showNotFound(err, view, param),
      }));
    return view;
  },
};

/**
 * The tabs of an agreement's pages, for its super admins (the only ones with more than one page).
 * `current`: 'overview' or 'partners'.
 */
export function sections(agreement, current) {
  if (agreement.role !== 'super_admin') return null;
  const tab = (part, key) => h('a', {
    class: 'tabs__link',
    href: agreementHref(agreement.license_number, part === 'overview' ? '' : part),
    'aria-current': part === current ? 'page' : null,
    t: key,
    'data-testid': `tab-${part}`,
  });
  return h('nav', { class: 'tabs', tAttrs: { 'aria-label': 'agreement.sections' } },
    h('ul', { class: 'tabs__list' },
      h('li', {}, tab('overview', 'agreement.overview')),
      h('li', {}, tab('partners', 'agreement.partners'))));
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
