// /agreements/{license}/activity: what was done on the agreement, newest first — by whom (and,
// for super admins only, from which address: the API sends addresses to nobody else, so the
// column is not shown to them) — filtered by person, kind of action and dates, fetched in
// pages ("Load more"), and exported as CSV with the same filters.

import { ApiError, api } from '../api.js';
import { LIMITS } from '../constants.js';
import { h } from '../dom.js';
import { createForm, whilePending } from '../form.js';
import { t } from '../i18n.js';
import { clearNotice } from '../notice.js';
import { moment } from '../present.js';
import { reportProblem } from '../problems.js';
import { agreementTab } from './agreement.js';

const FILTERS = ['actor', 'action', 'from', 'to'];

export default {
  title: 'activity.pageTitle',
  access: 'user',
  agreementContext: true,
  view({ param }) {
    return agreementTab({ param, part: 'activity', title: 'activity.title', show: activityCard });
  },
};

function activityCard(agreement, base) {
  let filters = {};
  let nextBefore = null;
  let events = [];

  const query = (extra = {}) => {
    const params = new URLSearchParams();
    for (const key of FILTERS) if (filters[key]) params.set(key, filters[key]);
    for (const [key, value] of Object.entries(extra)) params.set(key, value);
    const text = params.toString();
    return text ? `?${text}` : '';
  };

  const exportLink = h('a', { class: 'button', download: true, 'data-testid': 'activity-export', t: 'activity.export' });
  const showExport = () => exportLink.setAttribute('href', `/api/v1${base}/activity.csv${query()}`);
  showExport();

  const withAddress = agreement.role === 'super_admin';
  const columns = ['activity.colTime', 'activity.colActor', 'activity.colAction', 'activity.colTarget'];
  if (withAddress) columns.push('activity.colAddress');
  const tbody = h('tbody', {});
  const table = h('div', { class: 'table-wrap', role: 'group', tabindex: '0', 'aria-labelledby': 'activity-title', hidden: true },
    h('table', { class: 'table', 'aria-labelledby': 'activity-title', 'data-testid': 'activity-table' },
      h('thead', {}, h('tr', {},
        columns.map((key) => h('th', { scope: 'col', t: key })))),
      tbody));
  const empty = h('p', { class: 'muted', 'data-testid': 'activity-empty', hidden: true });
  const loading = h('p', { class: 'loading', t: 'lsc.loading' });
  const more = h('button', { type: 'button', class: 'button', t: 'activity.loadMore', 'data-testid': 'activity-load-more', hidden: true });
  more.addEventListener('click', () => whilePending(more, () => load({ more: true }).catch(reportProblem)));

  const form = createForm({
    testid: 'activity-filters',
    submit: 'activity.apply',
    fields: [
      { name: 'actor', type: 'text', label: 'activity.actor', hint: 'activity.actorHint', optional: true, autocomplete: 'off' },
      { name: 'action', type: 'text', label: 'activity.action', hint: 'activity.actionHint', optional: true, autocomplete: 'off' },
      { name: 'from', type: 'date', label: 'activity.from', optional: true },
      { name: 'to', type: 'date', label: 'activity.to', optional: true },
    ],
    onSubmit: async (values) => {
      const previous = filters;
      filters = values;
      try {
        await load();
      } catch (err) {
        filters = previous;
        throw err; // field errors (e.g. a date the server refuses) land next to the fields
      }
      showExport();
    },
  });
  form.element.classList.add('filters', 'filters--activity');

  async function load({ more: adding = false } = {}) {
    const extra = { limit: String(LIMITS.LIMIT_PAGE_SIZE_DEFAULT) };
    if (adding && nextBefore !== null && nextBefore !== undefined) extra.before = String(nextBefore);
    const data = await api('GET', `${base}/activity${query(extra)}`);
    const page = Array.isArray(data?.events) ? data.events : [];
    events = adding ? [...events, ...page] : page;
    nextBefore = data?.next_before ?? null;
    render();
  }

  function render() {
    loading.hidden = true;
    tbody.replaceChildren(...events.map(row));
    table.hidden = events.length === 0;
    empty.hidden = events.length > 0;
    const filtered = FILTERS.some((key) => filters[key]);
    empty.textContent = t(filtered ? 'activity.noMatch' : 'activity.none');
    empty.dataset.i18n = filtered ? 'activity.noMatch' : 'activity.none';
    more.hidden = nextBefore === null;
  }

  const element = h('section', { class: 'card', 'aria-labelledby': 'activity-title', 'data-testid': 'activity-card' },
    h('div', { class: 'card__head' },
      h('h2', { id: 'activity-title', class: 'card__title', tabindex: '-1', t: 'activity.listTitle' }),
      exportLink),
    h('div', { role: 'search', tAttrs: { 'aria-label': 'activity.filtersLabel' } }, form.element),
    loading,
    empty,
    table,
    h('div', { class: 'subscribers__more' }, more));

  load().catch((err) => {
    loading.hidden = true;
    if (err instanceof ApiError) clearNotice();
    reportProblem(err);
  });
  return element;
}

function row(event) {
  const details = event.details && typeof event.details === 'object' ? event.details : {};
  const about = details.email || details.name || details.customer || '';
  return h('tr', { 'data-testid': 'activity-row', 'data-action': event.action ?? '' },
    h('td', { class: 'nowrap', 'data-testid': 'cell-time' }, moment(event.at)),
    h('td', { 'data-testid': 'cell-actor' }, event.actor ?? ''),
    h('th', { scope: 'row', 'data-testid': 'cell-action' }, h('code', { class: 'code code--small' }, event.action ?? '')),
    h('td', { 'data-testid': 'cell-target' },
      h('span', { class: 'person' },
        h('span', { class: 'person__name' }, about || `${event.target_type ?? ''} ${event.target ?? ''}`.trim()),
        about && h('span', { class: 'person__email' }, `${event.target_type ?? ''} ${event.target ?? ''}`.trim()))),
    'address' in event && h('td', { 'data-testid': 'cell-address' }, event.address ?? ''));
}
