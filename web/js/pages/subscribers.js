// The subscription administration of one agreement, on its page: the seat overview (numbers and
// a chart), then the subscribers — searched, filtered and sorted by the server, fetched in keyset
// pages ("Load more"), selected to be removed or sent their e-mail again, added and edited in
// dialogs. An edit carries the version it started from (If-Match), so two people editing the same
// subscriber cannot overwrite each other unknowingly.
//
// This module lays the cards out and wires the parts, each in ../subscribers/: the list's state
// (state.js), the table (table.js), the dialogs and actions (dialogs.js), the shared fields
// (fields.js) and the overview (overview.js). Here: the filters, the count, the selection's and
// the files' buttons, and what a fetch shows. Only the actions the user's access includes are
// offered: adding, editing, removing and resending need `assign`, the file dialogs `bulk`; the
// list and its exports need only `read`.
//
// Exports: subscriptionAdmin.

import { ApiError } from '../api.js';
import { openBulkEdit, openBulkRemove, openBulkUpload, resumeBulkJob } from '../bulk-upload.js';
import { PROBLEM } from '../constants.js';
import { h, uid } from '../dom.js';
import { whilePending } from '../form.js';
import { t } from '../i18n.js';
import { notify } from '../notice.js';
import { countryName, fetchJson, formatNumber, languageName, loadingSection } from '../present.js';
import { problemNotice, reportProblem } from '../problems.js';
import { subscriberActions } from '../subscribers/dialogs.js';
import { sortedCountries } from '../subscribers/fields.js';
import { overviewContent } from '../subscribers/overview.js';
import { createListState } from '../subscribers/state.js';
import { subscribersTable } from '../subscribers/table.js';
import { can } from './agreement.js';

/** The overview and subscribers cards of `agreement`. */
export function subscriptionAdmin(agreement) {
  const base = `/agreements/${encodeURIComponent(agreement.license_number)}`;
  let levels = [];
  const levelName = (code) => levels.find((l) => l.level === code)?.name || code || '';

  const list = subscribersCard({ agreement, base, levelName, levelsNow: () => levels, onChange: () => overview.reload() });
  const overview = loadingSection({
    testid: 'overview',
    load: () => fetchJson(`${base}/overview`),
    show: (data) => {
      levels = Array.isArray(data?.levels) ? data.levels : [];
      list.levelsChanged(levels);
      return overviewContent(levels);
    },
  });
  return [
    h('section', { class: 'card', 'aria-labelledby': 'overview-title', 'data-testid': 'agreement-overview' },
      h('h2', { id: 'overview-title', class: 'card__title', t: 'overview.title' }),
      overview),
    list.element,
  ];
}

function subscribersCard({ agreement, base, levelName, levelsNow, onChange }) {
  const list = createListState({
    base,
    requesting: () => {
      showExportLinks();
      table.setAttribute('aria-busy', 'true');
    },
    loaded: () => render(),
    failed: (err, retry) => {
      if (err instanceof ApiError && err.code !== PROBLEM.UNAUTHENTICATED) {
        const notice = problemNotice(err);
        notify({ ...notice, action: notice.action ?? { key: 'lsc.retry', onClick: retry } });
      } else {
        reportProblem(err);
      }
    },
    settled: () => table.removeAttribute('aria-busy'),
    live: () => element.isConnected,
  });
  const canAssign = can(agreement, 'assign');
  const canBulk = can(agreement, 'bulk');
  const { table, columns, showSort, renderRows } = subscribersTable({
    list,
    editable: canAssign,
    levelName,
    onSort: () => list.load(),
    onEdit: (item) => actions.openEditDialog(item),
    onSelection: () => showSelection(),
  });
  /** After a change: the list and the overview as they are now. */
  const refresh = async () => {
    await Promise.all([list.load(), onChange()]);
  };
  const actions = subscriberActions({ agreement, base, list, levelName, levelsNow, refresh });

  // -- filters --
  const searchId = uid('sub-search');
  const search = h('input', {
    id: searchId,
    type: 'search',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': `${searchId}-hint`,
    'data-testid': 'subscriber-search',
  });
  search.addEventListener('input', () => list.searchSoon(search.value));
  const levelFilter = filterSelect('subscriber-level-filter', 'level', [{ value: '', t: 'subscribers.allLevels' }]);
  const countryFilter = filterSelect('subscriber-country-filter', 'country', [
    { value: '', t: 'subscribers.allCountries' },
    ...sortedCountries().map((code) => ({ value: code, format: (lang) => countryName(lang, code) })),
  ]);
  const downloadsFilter = filterSelect('subscriber-downloads-filter', 'downloads', [
    { value: '', t: 'subscribers.anyDownloads' },
    { value: 'true', t: 'subscribers.downloadsYes' },
    { value: 'false', t: 'subscribers.downloadsNo' },
  ]);

  function filterSelect(testid, key, options) {
    const select = h('select', { id: uid(testid), 'data-testid': testid },
      options.map((o) => h('option', { value: o.value, t: o.t, format: o.format })));
    select.addEventListener('change', () => list.filter(key, select.value));
    return select;
  }

  const filterField = (labelKey, control, hint) => h('div', { class: 'field filters__field' },
    h('label', { class: 'field__label', for: control.id, t: labelKey }),
    hint && h('p', { class: 'field__hint', id: `${control.id}-hint`, t: hint }),
    control);

  // -- count, selection and actions --
  const count = h('p', { class: 'subscribers__count', 'aria-live': 'polite', 'aria-atomic': 'true', 'data-testid': 'subscriber-count' });
  const selectedText = h('span', { class: 'bulk__count', 'data-testid': 'selected-count' });
  const resendButton = h('button', {
    type: 'button', class: 'button button--small', t: 'subscribers.resend', 'data-testid': 'resend-selected', disabled: true,
  });
  const removeButton = h('button', {
    type: 'button', class: 'button button--small button--danger', t: 'subscribers.remove', 'data-testid': 'remove-selected', disabled: true,
  });
  resendButton.addEventListener('click', () => actions.resend(resendButton));
  removeButton.addEventListener('click', () => actions.confirmRemove());
  const addButton = h('button', {
    type: 'button', class: 'button button--primary', t: 'subscribers.add', 'data-testid': 'add-subscriber',
    onclick: () => actions.openAddDialog(),
  });
  // The file dialogs' callbacks, also for reopening one on an upload still under way (below).
  const bulkOptions = {
    license: agreement.license_number,
    languageName,
    levelName,
    onAdded: () => refresh(),
    onChanged: () => refresh(),
    onRemoved: async () => {
      list.selected.clear();
      await refresh();
      document.getElementById('subscribers-title')?.focus();
    },
  };
  const bulkButton = h('button', {
    type: 'button', class: 'button', t: 'bulk.open', 'data-testid': 'bulk-open',
    onclick: () => openBulkUpload(bulkOptions),
  });
  const bulkEditButton = h('button', {
    type: 'button', class: 'button', t: 'bulkEdit.open', 'data-testid': 'bulk-edit-open',
    onclick: () => openBulkEdit(bulkOptions),
  });
  const bulkRemoveButton = h('button', {
    type: 'button', class: 'button', t: 'bulkRemove.open', 'data-testid': 'bulk-remove-open',
    onclick: () => openBulkRemove(bulkOptions),
  });

  // -- files: the list as it is filtered and sorted, and the templates for bulk additions --
  const fileLink = (testid, key) => h('a', { class: 'button button--small', download: true, 'data-testid': testid, t: key });
  const exportCsv = fileLink('export-csv', 'subscribers.exportCsv');
  const exportXlsx = fileLink('export-xlsx', 'subscribers.exportExcel');
  const templateXlsx = fileLink('template-xlsx', 'subscribers.templateExcel');
  const templateCsv = fileLink('template-csv', 'subscribers.templateCsv');
  templateXlsx.setAttribute('href', `/api/v1${base}/subscriptions/template?format=xlsx`);
  templateCsv.setAttribute('href', `/api/v1${base}/subscriptions/template?format=csv`);

  // -- the table and what surrounds it --
  const empty = h('p', { class: 'muted', 'data-testid': 'subscribers-empty', hidden: true });
  const tableWrap = h('div', { class: 'table-wrap', role: 'group', tabindex: '0', 'aria-labelledby': 'subscribers-title', hidden: true }, table);
  const loadMore = h('button', { type: 'button', class: 'button', t: 'subscribers.loadMore', 'data-testid': 'load-more', hidden: true });
  loadMore.addEventListener('click', () => whilePending(loadMore, () => list.load({ more: true })));
  const loading = h('p', { class: 'loading', t: 'lsc.loading' });

  const element = h('section', { class: 'card', 'aria-labelledby': 'subscribers-title', 'data-testid': 'agreement-subscribers' },
    h('div', { class: 'card__head' },
      h('h2', { id: 'subscribers-title', class: 'card__title', tabindex: '-1', t: 'agreement.subscribersTitle' }),
      h('div', { class: 'card__actions' }, canBulk && [bulkButton, bulkEditButton, bulkRemoveButton], canAssign && addButton)),
    count,
    h('div', { class: 'filters', role: 'search', tAttrs: { 'aria-label': 'subscribers.filtersLabel' } },
      filterField('subscribers.search', search, 'subscribers.searchHint'),
      filterField('subscribers.colLevel', levelFilter),
      filterField('subscribers.colCountry', countryFilter),
      filterField('subscribers.colDownloads', downloadsFilter)),
    canAssign && h('div', { class: 'bulk', role: 'group', tAttrs: { 'aria-label': 'subscribers.bulkLabel' } }, selectedText, resendButton, removeButton),
    h('div', { class: 'bulk', role: 'group', tAttrs: { 'aria-label': 'subscribers.filesLabel' }, 'data-testid': 'subscriber-files' },
      exportCsv, exportXlsx, templateXlsx, templateCsv),
    columns,
    loading,
    empty,
    tableWrap,
    h('div', { class: 'subscribers__more' }, loadMore));

  /** Points the export links at what the list shows now. */
  function showExportLinks() {
    for (const [link, format] of [[exportCsv, 'csv'], [exportXlsx, 'xlsx']]) {
      const params = list.filterParams();
      params.set('format', format);
      link.setAttribute('href', `/api/v1${base}/subscriptions/export?${params}`);
    }
  }

  /** A fetched page: the count, the rows or why there are none, "Load more" while there is more. */
  function render() {
    loading.hidden = true;
    const { items, total, totalExact } = list;
    count.replaceChildren(h('span', {
      format: (lang) => (totalExact ? t('subscribers.count', { count: total })
        : t('subscribers.countMore', { count: formatNumber(lang, total) })),
    }));
    empty.hidden = items.length > 0;
    if (!items.length) empty.replaceChildren(h('span', { t: list.filtered ? 'subscribers.noMatch' : 'subscribers.none' }));
    tableWrap.hidden = items.length === 0;
    loadMore.hidden = !list.hasMore;
    renderRows();
  }

  /** The selection's count and the buttons that act on it. */
  function showSelection() {
    const { selected } = list;
    selectedText.replaceChildren(h('span', { t: 'subscribers.selected', params: { count: (lang) => formatNumber(lang, selected.size) } }));
    resendButton.disabled = selected.size === 0;
    removeButton.disabled = selected.size === 0;
  }

  showSort();
  list.load();
  // An upload sent on an earlier visit (or before a reload): its progress, or its result until
  // the user has seen it.
  if (canBulk) resumeBulkJob({ ...bulkOptions, stillHere: () => element.isConnected });
  return {
    element,
    /** The overview has (new) levels: the level filter offers them. */
    levelsChanged(levels) {
      const chosen = levelFilter.value;
      levelFilter.replaceChildren(levelFilter.options[0],
        ...levels.map((l) => h('option', { value: l.level }, l.name ?? l.level)));
      levelFilter.value = levels.some((l) => l.level === chosen) ? chosen : '';
      if (list.hasLoaded) renderRows(); // level names in the rows
    },
  };
}
