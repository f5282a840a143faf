// /agreements/{license}: one agreement of the administration portal — what it is, the user's
// role on it, its seats and its subscribers (pages/subscribers.js). Its tabs lead to the other
// pages of the agreement, each shown only to those who can use it: the server says what the
// user may do (`capabilities`: read, assign, bulk, usage, activity — all of them for the
// customer's admins, what the relationship allows for a partner) and the role; super admins also
// manage admins, preferences, API tokens and webhooks, and super admins and partner managers the partners. A partner
// manager, who has nothing to do with subscribers, is taken to the Partners page. An agreement
// the user has no role on (or no longer: a partner whose access was removed or ended) looks
// exactly like one that does not exist.

import { agreementHref, rememberAgreement } from '../agreements.js';
import { ApiError } from '../api.js';
import { h } from '../dom.js';
import { longDate } from '../i18n.js';
import { country, date, fetchJson, loadingSection, role, statusBadge } from '../present.js';
import { navigate } from '../router.js';
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
          if (!can(agreement, 'read') && canManagePartners(agreement)) {
            // A partner manager's part of the agreement is its partners.
            navigate(agreementHref(agreement.license_number, 'partners'), { replace: true });
            return null;
          }
          return [sections(agreement, 'overview'), lifecycleNotice(agreement), summary(agreement), ...subscriptionAdmin(agreement)];
        },
        onProblem: (err) => showNotFound(err, view, param),
      }));
    return view;
  },
};

/** Whether the user's access to `agreement` includes capability `name` (read, assign, bulk, usage, activity). */
export function can(agreement, name) {
  return Array.isArray(agreement?.capabilities) && agreement.capabilities.includes(name);
}

/** Super admins and partner managers see and decide on the agreement's partners. */
export function canManagePartners(agreement) {
  return agreement?.role === 'super_admin' || agreement?.role === 'partner_manager';
}

const superAdmin = (agreement) => agreement?.role === 'super_admin';

// The tabs: [path part, label key, who may open it]. `need` is what a page asks of the user:
// a capability's name, 'super' (super admins) or 'partners' (super admins, partner managers).
const TABS = [
  ['overview', 'agreement.overview', 'read'],
  ['admins', 'agreement.admins', 'super'],
  ['preferences', 'agreement.preferences', 'super'],
  ['activity', 'agreement.activity', 'activity'],
  ['usage', 'agreement.usage', 'usage'],
  ['partners', 'agreement.partners', 'partners'],
  ['jobs', 'agreement.jobs', 'bulk'],
  ['tokens', 'agreement.tokens', 'super'],
  ['webhooks', 'agreement.webhooks', 'super'],
  ['provisioning', 'agreement.provisioning', 'super'],
];

function allowed(agreement, need) {
  if (need === 'super') return superAdmin(agreement);
  if (need === 'partners') return canManagePartners(agreement);
  return can(agreement, need);
}

/** The tabs of an agreement's pages that the user's role opens; `current`: the part shown. */
export function sections(agreement, current) {
  const tab = (part, key) => h('a', {
    class: 'tabs__link',
    href: agreementHref(agreement.license_number, part === 'overview' ? '' : part),
    'aria-current': part === current ? 'page' : null,
    t: key,
    'data-testid': `tab-${part}`,
  });
  return h('nav', { class: 'tabs', tAttrs: { 'aria-label': 'agreement.sections' } },
    h('ul', { class: 'tabs__list' },
      TABS.filter(([, , need]) => allowed(agreement, need)).map(([part, key]) => h('li', {}, tab(part, key)))));
}

/**
 * One tab of an agreement other than the overview: the agreement is fetched (for the tabs, the
 * role and the capabilities), then `show(agreement, base)` draws the tab's content. A tab the
 * user cannot use says why instead (only super admins; or the partner's access does not include
 * it) — the same as the tab being left out of the navigation.
 */
export function agreementTab({ param, part, title, show }) {
  const base = `/agreements/${encodeURIComponent(param)}`;
  const need = TABS.find(([p]) => p === part)?.[2] ?? 'read';
  const view = pageView({ title, params: { number: param }, full: true });
  view.append(loadingSection({
    testid: `agreement-${part}`,
    load: () => fetchJson(base),
    show: (agreement) => {
      rememberAgreement(agreement.license_number);
      if (!allowed(agreement, need)) {
        const refusal = need === 'super' || need === 'partners' ? onlySuperAdmins(param) : notInAccess(param);
        return [sections(agreement, part), refusal];
      }
      return [sections(agreement, part), lifecycleNotice(agreement), show(agreement, base)];
    },
    onProblem: (err) => showNotFound(err, view, param),
  }));
  return view;
}

/** For a page that the partner's access to the agreement does not include. */
function notInAccess(number) {
  return h('section', { class: 'card', 'aria-labelledby': 'not-in-access-title', 'data-testid': 'not-in-access' },
    h('h2', { id: 'not-in-access-title', class: 'card__title', t: 'agreement.notInAccessTitle' }),
    h('p', { class: 'card__text', t: 'agreement.notInAccessText' }),
    h('p', {}, h('a', { href: agreementHref(number), t: 'partners.back' })));
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
