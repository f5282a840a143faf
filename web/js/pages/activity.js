// /agreements/{license}/activity: what was done on the agreement, newest first, in words —
// "Camille Martin added Ada Lovelace (Professional)": each action's sentence is a catalogue
// entry (activity.action.<action>) filled with the names the API resolved (actor_name,
// target_label); an action the catalogue does not know gets a generic sentence. For super
// admins only, from which address (the API sends addresses to nobody else, so the column is
// not shown to them). Filtered by person, kind of action (offered by label) and dates,
// fetched in pages ("Load more"), and exported as CSV with the same filters.

import { ApiError, api } from '../api.js';
import { LIMITS } from '../constants.js';
import { h } from '../dom.js';
import { createForm, whilePending } from '../form.js';
import { hasMessage, t } from '../i18n.js';
import { clearNotice } from '../notice.js';
import { moment } from '../present.js';
import { reportProblem } from '../problems.js';
import { agreementTab } from './agreement.js';

const FILTERS = ['actor', 'action', 'from', 'to'];

// The actions an agreement's log holds (docs/api-contract.md, "Audit actions"), in the order
// the filter offers them; each is offered by its label (activity.label.<action>).
const ACTIONS = `
  subscription.added subscription.updated subscription.removed subscription.resent
  subscriptions.exported job.cancelled job.access_removed subscriber.question
  admin.added admin.invited admin.invitation_accepted admin.invite_withdrawn admin.removed
  admin.super_admin_granted partner.access_granted partner.access_removed partner.block_lifted
  partner.registration_blocked partner.registration_failed partner.registration_throttled
  partner.handoff_refused partner.request_created partner.request_approved partner.request_narrowed
  partner.request_denied partner.request_lapsed partner.relationship_amended partner.relationship_ended
  partner.relationship_renewed partner.people_changed partner.person_added
  preferences.updated agreement.created agreement.imported
  agreement.expiry_reminder order.placed order.reorder handoff.issued
  token.created token.revoked webhook.created webhook.updated webhook.deleted webhook.secret_rotated
  webhook.disabled provisioning.user_created provisioning.user_updated provisioning.user_deleted
  provisioning.group_created provisioning.group_updated provisioning.group_deleted
  provisioning.mapping_set provisioning.mapping_removed provisioning.seat_adopted
  provisioning.refusals_summarized`.trim().split(/\s+/);

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
  const columns = ['activity.colTime', 'activity.colAction', 'activity.colEvent'];
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
      {
        name: 'action',
        type: 'select',
        label: 'activity.action',
        optional: true,
        options: [{ value: '', t: 'activity.allActions' }, ...ACTIONS.map((action) => ({ value: action, t: `activity.label.${action}` }))],
      },
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

// The action's label, or its code when the catalogue has none (a newer server than this UI).
function actionLabel(action) {
  const key = `activity.label.${action}`;
  return hasMessage(key) ? { t: key } : { text: action ?? '' };
}

// Who acted: their name, else their address; an event nobody signed in caused is the system's.
function actorWords(event) {
  if (event.actor_name) return event.actor_name;
  if (event.actor) return event.actor;
  return () => t('activity.actorSystem');
}

// What was acted on: the name the server resolved, else what the event's details say, else a
// generic word for its kind ("a subscriber") — never the internal identifier.
function targetWords(event) {
  if (event.target_label) return event.target_label;
  const details = event.details && typeof event.details === 'object' ? event.details : {};
  const named = details.name || details.email || details.partner_org || details.file_name;
  if (named) return named;
  const key = `activity.target.${event.target_type}`;
  return () => t(hasMessage(key) ? key : 'activity.target.unknown');
}

function sentence(event) {
  const key = `activity.action.${event.action}`;
  const known = hasMessage(key);
  const params = { actor: actorWords(event), target: targetWords(event) };
  if (!known) params.action = event.action ?? '';
  return h('span', { class: 'activity__sentence', 'data-testid': 'cell-sentence', t: known ? key : 'activity.action.unknown', params });
}

function row(event) {
  const label = actionLabel(event.action);
  return h('tr', { 'data-testid': 'activity-row', 'data-action': event.action ?? '' },
    h('td', { class: 'nowrap', 'data-testid': 'cell-time' }, moment(event.at)),
    h('th', { scope: 'row', 'data-testid': 'cell-action' }, h('span', { t: label.t }, label.text ?? null)),
    h('td', { 'data-testid': 'cell-event' },
      h('span', { class: 'person' },
        sentence(event),
        event.actor && event.actor_name && h('span', { class: 'person__email', 'data-testid': 'cell-actor' }, event.actor))),
    'address' in event && h('td', { 'data-testid': 'cell-address' }, event.address ?? ''));
}
