// The subscription administration of one agreement, on its page: the seat overview (numbers and
// a chart), then the subscribers — searched, filtered and sorted by the server, fetched in keyset
// pages ("Load more"), selected to be removed or sent their e-mail again, added and edited in
// dialogs. An edit carries the version it started from (If-Match), so two people editing the same
// subscriber cannot overwrite each other unknowingly.

import { ApiError, api, apiResponse, isAbort } from '../api.js';
import { isFull, seatChart } from '../chart.js';
import { confirmAction } from '../confirm.js';
import { openBulkEdit, openBulkRemove, openBulkUpload, resumeBulkJob } from '../bulk-upload.js';
import { openDialog } from '../dialog.js';
import { h, uid } from '../dom.js';
import { createForm, whilePending } from '../form.js';
import { currentLanguage, t } from '../i18n.js';
import { notify } from '../notice.js';
import { COUNTRIES, countryName, date, fetchJson, formatDate, formatNumber, loadingSection, number } from '../present.js';
import { problemNotice, reportProblem } from '../problems.js';

const PAGE_SIZE = 50;
const SEARCH_DELAY_MS = 250;
// The languages a subscriber's e-mails can be written in (the API's list).
export const LANGUAGES = ['en', 'fr', 'de', 'es', 'it', 'nl', 'pt', 'ja', 'zh'];

const languageNames = new Map();
/** "French", "français"…: a language's name in `lang`, worded by the browser. */
export function languageName(lang, code) {
  if (!code) return '';
  try {
    if (!languageNames.has(lang)) languageNames.set(lang, new Intl.DisplayNames([lang], { type: 'language' }));
    return languageNames.get(lang).of(code) || code;
  } catch {
    return code;
  }
}

/** Picks the catalogue key for `count` things: `one` or `other`, by the language's rules. */
function plural(lang, count, one, other) {
  return new Intl.PluralRules(lang).select(count) === 'one' ? one : other;
}

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

// ---- overview ------------------------------------------------------------------------------

function overviewContent(levels) {
  if (!levels.length) return h('p', { class: 'muted', t: 'overview.none' });
  return [
    h('div', { class: 'chart-wrap' }, seatChart(levels)),
    h('div', { class: 'table-wrap', role: 'group', tabindex: '0', 'aria-labelledby': 'overview-title' },
      h('table', { class: 'table table--overview', 'aria-labelledby': 'overview-title', 'data-testid': 'overview-table' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', t: 'subscribers.colLevel' }),
          h('th', { scope: 'col', class: 'num', t: 'overview.purchased' }),
          h('th', { scope: 'col', class: 'num', t: 'overview.assigned' }),
          h('th', { scope: 'col', class: 'num', t: 'overview.available' }))),
        h('tbody', {}, levels.map((level) => h('tr', { 'data-testid': `overview-${level.level}` },
          h('th', { scope: 'row' }, level.name ?? level.level),
          h('td', { class: 'num', 'data-testid': 'purchased', ...number(level.purchased) }),
          h('td', { class: 'num', 'data-testid': 'assigned', ...number(level.assigned) }),
          h('td', { class: 'num', 'data-testid': 'available' },
            isFull(level) && [h('span', { class: 'badge badge--full', t: 'overview.full' }), ' '],
            h('span', number(level.available)))))))),
  ];
}

// ---- the subscribers list ------------------------------------------------------------------

// Columns: [API field, header key, sortable by the server].
const COLUMNS = [
  ['name', 'subscribers.colName', true],
  ['sign_in_email', 'subscribers.colSignInEmail', true],
  ['level', 'subscribers.colLevel', true],
  ['assigned', 'subscribers.colAssigned', true],
  ['expires', 'subscribers.colExpires', true],
  ['reference', 'subscribers.colReference', true],
  ['downloads', 'subscribers.colDownloads', true],
  ['country', 'subscribers.colCountry', true],
  ['language', 'subscribers.colLanguage', true],
  ['notification_email', 'subscribers.colNotificationEmail', false],
  ['id', 'subscribers.colId', false],
];

function subscribersCard({ agreement, base, levelName, levelsNow, onChange }) {
  const state = { q: '', level: '', country: '', downloads: '', sort: 'name', order: 'asc' };
  let items = [];
  let total = 0;
  let totalExact = true;
  let nextCursor = null;
  let loaded = false;
  let controller = null;
  let searchTimer = 0;
  const selected = new Set();

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
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      const q = search.value.trim();
      if (q === state.q) return;
      state.q = q;
      load();
    }, SEARCH_DELAY_MS);
  });
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
    select.addEventListener('change', () => {
      state[key] = select.value;
      load();
    });
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
  resendButton.addEventListener('click', () => resend());
  removeButton.addEventListener('click', () => confirmRemove());
  const addButton = h('button', {
    type: 'button', class: 'button button--primary', t: 'subscribers.add', 'data-testid': 'add-subscriber',
    onclick: () => openAddDialog(),
  });
  // The file dialogs' callbacks, also for reopening one on an upload still under way (below).
  const bulkOptions = {
    license: agreement.license_number,
    languageName,
    levelName,
    onAdded: () => refresh(),
    onChanged: () => refresh(),
    onRemoved: async () => {
      selected.clear();
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

  // -- the table --
  const selectAll = h('input', { type: 'checkbox', class: 'select-box', tAttrs: { 'aria-label': 'subscribers.selectAll' }, 'data-testid': 'select-all' });
  selectAll.addEventListener('change', () => {
    for (const item of items) {
      if (selectAll.checked) selected.add(item.id);
      else selected.delete(item.id);
    }
    renderRows();
  });
  const headerCells = COLUMNS.map(([field, key, sortable]) => {
    const th = h('th', { scope: 'col', 'data-column': field });
    if (!sortable) return bindText(th, key);
    const button = h('button', { type: 'button', class: 'sort-button', 'data-testid': `sort-${field}` },
      h('span', { t: key }),
      h('span', { class: 'sort-button__arrow', 'aria-hidden': 'true' }));
    button.addEventListener('click', () => {
      if (state.sort === field) state.order = state.order === 'asc' ? 'desc' : 'asc';
      else Object.assign(state, { sort: field, order: 'asc' });
      showSort();
      load();
    });
    th.append(button);
    return th;
  });
  const tbody = h('tbody', {});
  const table = h('table', { class: 'table table--subscribers', 'aria-labelledby': 'subscribers-title', 'data-testid': 'subscribers-table' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', class: 'select-cell' }, selectAll),
      headerCells,
      h('th', { scope: 'col', t: 'subscribers.colActions' }))),
    tbody);
  const empty = h('p', { class: 'muted', 'data-testid': 'subscribers-empty', hidden: true });
  const tableWrap = h('div', { class: 'table-wrap', role: 'group', tabindex: '0', 'aria-labelledby': 'subscribers-title', hidden: true }, table);
  const loadMore = h('button', { type: 'button', class: 'button', t: 'subscribers.loadMore', 'data-testid': 'load-more', hidden: true });
  loadMore.addEventListener('click', () => whilePending(loadMore, () => load({ more: true })));
  const loading = h('p', { class: 'loading', t: 'lsc.loading' });

  const element = h('section', { class: 'card', 'aria-labelledby': 'subscribers-title', 'data-testid': 'agreement-subscribers' },
    h('div', { class: 'card__head' },
      h('h2', { id: 'subscribers-title', class: 'card__title', tabindex: '-1', t: 'agreement.subscribersTitle' }),
      h('div', { class: 'card__actions' }, bulkButton, bulkEditButton, bulkRemoveButton, addButton)),
    count,
    h('div', { class: 'filters', role: 'search', tAttrs: { 'aria-label': 'subscribers.filtersLabel' } },
      filterField('subscribers.search', search, 'subscribers.searchHint'),
      filterField('subscribers.colLevel', levelFilter),
      filterField('subscribers.colCountry', countryFilter),
      filterField('subscribers.colDownloads', downloadsFilter)),
    h('div', { class: 'bulk', role: 'group', tAttrs: { 'aria-label': 'subscribers.bulkLabel' } }, selectedText, resendButton, removeButton),
    h('div', { class: 'bulk', role: 'group', tAttrs: { 'aria-label': 'subscribers.filesLabel' }, 'data-testid': 'subscriber-files' },
      exportCsv, exportXlsx, templateXlsx, templateCsv),
    loading,
    empty,
    tableWrap,
    h('div', { class: 'subscribers__more' }, loadMore));

  function bindText(el, key) {
    el.append(h('span', { t: key }));
    return el;
  }

  function showSort() {
    for (const th of headerCells) {
      const button = th.querySelector('.sort-button');
      if (!button) continue;
      const current = th.dataset.column === state.sort;
      if (current) th.setAttribute('aria-sort', state.order === 'asc' ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
      button.classList.toggle('is-sorted', current);
    }
  }

  /** The current filters and sort as query parameters. */
  function filterParams() {
    const params = new URLSearchParams();
    for (const key of ['q', 'level', 'country', 'downloads']) if (state[key]) params.set(key, state[key]);
    params.set('sort', state.sort);
    params.set('order', state.order);
    return params;
  }

  /** Points the export links at what the list shows now. */
  function showExportLinks() {
    for (const [link, format] of [[exportCsv, 'csv'], [exportXlsx, 'xlsx']]) {
      const params = filterParams();
      params.set('format', format);
      link.setAttribute('href', `/api/v1${base}/subscriptions/export?${params}`);
    }
  }

  function path(cursor) {
    const params = filterParams();
    params.set('limit', String(PAGE_SIZE));
    if (cursor) params.set('cursor', cursor);
    return `${base}/subscriptions?${params}`;
  }

  /** Fetches the first page for the current filters (or, `more`, the next one); a newer call cancels an older one. */
  async function load({ more = false } = {}) {
    if (more && !nextCursor) return;
    showExportLinks();
    controller?.abort();
    const mine = new AbortController();
    controller = mine;
    clearTimeout(searchTimer);
    table.setAttribute('aria-busy', 'true');
    try {
      const data = await api('GET', path(more ? nextCursor : null), undefined, { signal: mine.signal });
      if (controller !== mine || !element.isConnected) return;
      const page = Array.isArray(data?.items) ? data.items : [];
      items = more ? items.concat(page) : page;
      total = Number(data?.total) || 0;
      // Past a thousand matches the server stops counting: "more than 1,000".
      totalExact = data?.total_exact !== false;
      nextCursor = data?.next_cursor || null;
      loaded = true;
      // Only what is shown can stay selected.
      const shown = new Set(items.map((item) => item.id));
      for (const id of [...selected]) if (!shown.has(id)) selected.delete(id);
      render();
    } catch (err) {
      if (isAbort(err) || controller !== mine || !element.isConnected) return;
      if (err instanceof ApiError && err.code !== 'unauthenticated') {
        notify({ ...problemNotice(err), action: { key: 'lsc.retry', onClick: () => load({ more }) } });
      } else {
        reportProblem(err);
      }
    } finally {
      if (controller === mine) {
        controller = null;
        table.removeAttribute('aria-busy');
      }
    }
  }

  function render() {
    loading.hidden = true;
    const filtered = Boolean(state.q || state.level || state.country || state.downloads);
    count.replaceChildren(h('span', {
      format: (lang) => t(totalExact ? plural(lang, total, 'subscribers.countOne', 'subscribers.countOther') : 'subscribers.countMore',
        { count: formatNumber(lang, total) }),
    }));
    empty.hidden = items.length > 0;
    if (!items.length) empty.replaceChildren(h('span', { t: filtered ? 'subscribers.noMatch' : 'subscribers.none' }));
    tableWrap.hidden = items.length === 0;
    loadMore.hidden = !nextCursor;
    renderRows();
  }

  function renderRows() {
    tbody.replaceChildren(...items.map(row));
    const chosen = items.filter((item) => selected.has(item.id)).length;
    selectAll.checked = items.length > 0 && chosen === items.length;
    selectAll.indeterminate = chosen > 0 && chosen < items.length;
    selectedText.replaceChildren(h('span', { t: 'subscribers.selected', params: { count: (lang) => formatNumber(lang, selected.size) } }));
    resendButton.disabled = selected.size === 0;
    removeButton.disabled = selected.size === 0;
  }

  function row(item) {
    // An id that survives re-rendering, to put the focus back on the same box.
    const boxId = `select-${item.id}`;
    const box = h('input', { type: 'checkbox', id: boxId, class: 'select-box', checked: selected.has(item.id), 'data-testid': 'select-row' });
    box.addEventListener('change', () => {
      if (box.checked) selected.add(item.id);
      else selected.delete(item.id);
      renderRows();
      tbody.querySelector(`[id="${boxId}"]`)?.focus();
    });
    const edit = h('button', {
      type: 'button', class: 'button button--small', 'data-testid': 'edit-subscriber',
      onclick: () => openEditDialog(item),
    }, h('span', { t: 'subscribers.edit' }), ' ', h('span', { class: 'visually-hidden', t: 'subscribers.editWhich', params: { name: item.name ?? '' } }));
    return h('tr', { 'data-testid': 'subscriber-row', 'data-id': item.id, class: selected.has(item.id) ? 'is-selected' : null },
      h('td', { class: 'select-cell' }, box,
        h('label', { for: boxId, class: 'visually-hidden', t: 'subscribers.selectOne', params: { name: item.name ?? '' } })),
      h('th', { scope: 'row', 'data-testid': 'cell-name' }, item.name ?? ''),
      h('td', { 'data-testid': 'cell-sign_in_email' }, item.sign_in_email ?? ''),
      h('td', { 'data-testid': 'cell-level', format: () => levelName(item.level) }),
      h('td', { class: 'nowrap', 'data-testid': 'cell-assigned', ...date(item.assigned) }),
      h('td', { class: 'nowrap', 'data-testid': 'cell-expires', ...date(item.expires) }),
      h('td', { 'data-testid': 'cell-reference' }, item.reference ?? ''),
      h('td', { 'data-testid': 'cell-downloads', t: item.downloads ? 'subscribers.yes' : 'subscribers.no' }),
      h('td', { 'data-testid': 'cell-country', format: (lang) => countryName(lang, item.country) }),
      h('td', { 'data-testid': 'cell-language', format: (lang) => languageName(lang, item.language) }),
      h('td', { 'data-testid': 'cell-notification_email' }, item.notification_email ?? ''),
      h('td', { 'data-testid': 'cell-id' }, h('code', { class: 'code code--small' }, item.id ?? '')),
      h('td', {}, edit));
  }

  /** After a change: the list and the overview as they are now. */
  async function refresh() {
    await Promise.all([load(), onChange()]);
  }

  // Re-fetching keeps the current filters, so the change shows in place.
  function selectedItems() {
    return items.filter((item) => selected.has(item.id));
  }

  async function resend() {
    const ids = [...selected];
    if (!ids.length) return;
    await whilePending(resendButton, async () => {
      try {
        const result = await api('POST', `${base}/subscriptions/resend`, { ids });
        const sent = Number(result?.count) || ids.length;
        notify({
          kind: 'success',
          key: sent === 1 ? 'subscribers.resentOne' : 'subscribers.resentOther',
          params: { count: (lang) => formatNumber(lang, sent) },
        });
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          notify({ kind: 'error', key: 'subscribers.gone' });
          await load();
        } else {
          reportProblem(err);
        }
      }
    });
    resendButton.disabled = selected.size === 0;
  }

  function confirmRemove() {
    const chosen = selectedItems();
    if (!chosen.length) return;
    const n = chosen.length;
    const shown = chosen.slice(0, 10);
    openDialog({
      title: n === 1 ? 'subscribers.removeTitleOne' : 'subscribers.removeTitleOther',
      titleParams: { count: (lang) => formatNumber(lang, n), name: chosen[0].name ?? '' },
      testid: 'remove-subscribers-dialog',
      describedBy: 'remove-subscribers-text',
      returnFocus: () => document.getElementById('subscribers-title'),
      content: ({ close }) => {
        const { messages, confirm } = confirmAction({
          close,
          label: 'subscribers.removeConfirm',
          testid: 'confirm-remove-subscribers',
          messagesTestid: 'remove-subscribers-message',
          run: () => api('POST', `${base}/subscriptions/remove`, { ids: chosen.map((item) => item.id) }),
          onDone: () => notify({
            kind: 'success',
            key: n === 1 ? 'subscribers.removedOne' : 'subscribers.removedOther',
            params: { count: (lang) => formatNumber(lang, n), name: chosen[0].name ?? '' },
          }),
          // One of them went meanwhile; nothing was removed. Show the list as it is now.
          isGone: (err) => err.status === 404,
          onGone: () => notify({ kind: 'error', key: 'subscribers.removeGone' }),
          after: async () => {
            for (const item of chosen) selected.delete(item.id);
            await refresh();
            document.getElementById('subscribers-title')?.focus();
          },
        });
        return [
          h('div', { class: 'dialog__text', id: 'remove-subscribers-text' },
            h('p', { t: 'subscribers.removeText' }),
            h('ul', { class: 'dialog__list', 'data-testid': 'remove-subscribers-list' },
              shown.map((item) => h('li', {}, `${item.name ?? ''} (${item.sign_in_email ?? ''}, `, h('span', { format: () => levelName(item.level) }), ')')),
              n > shown.length && h('li', { t: 'subscribers.andMore', params: { count: (lang) => formatNumber(lang, n - shown.length) } }))),
          messages,
          h('div', { class: 'form__actions' },
            confirm,
            h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-autofocus': true, 'data-testid': 'dialog-cancel', onclick: close })),
        ];
      },
    });
  }

  // -- add --

  /**
   * Whether the admin wants `email` added although it is outside the customer's domains, when
   * the preferences allow that only after a confirmation. Only super admins may read the
   * preferences; for admins and partners the server alone decides.
   */
  async function outsideDomainConfirmed(email, preferences) {
    const settings = await preferences;
    if (!settings || settings.allow_outside_domains === false) return true; // the server refuses, with its reason
    const domains = (settings.customer_domains || []).map((d) => String(d).toLowerCase());
    const domain = email.split('@').pop().toLowerCase();
    if (!domains.length || domains.includes(domain)) return true;
    return confirmOutside(email, domains);
  }

  function openAddDialog() {
    // Fetched while the admin types, for the check on submitting.
    const preferences = agreement.role === 'super_admin'
      ? fetchJson(`${base}/preferences`).catch(() => null)
      : Promise.resolve(null);
    const levels = levelsNow();
    let sentLevel = null;
    const levelInfo = () => levels.find((l) => l.level === sentLevel) || { name: sentLevel || '', purchased: 0 };
    const firstFree = levels.find((l) => l.available > 0) || levels[0];
    openDialog({
      title: 'subscribers.addTitle',
      testid: 'add-subscriber-dialog',
      returnFocus: () => document.getElementById('subscribers-title'),
      content: ({ close }) => createForm({
        testid: 'add-subscriber-form',
        submit: 'subscribers.addSubmit',
        ownMessages: true,
        values: {
          country: agreement.customer?.country || '',
          language: currentLanguage(),
          level: firstFree?.level,
          downloads: true,
          send_email: true,
        },
        fields: [
          ...personFields(),
          {
            name: 'level',
            type: 'select',
            label: 'subscribers.colLevel',
            options: levels.map((l) => ({
              value: l.level,
              format: (lang) => t('subscribers.levelOption', { level: l.name, available: formatNumber(lang, l.available) }),
            })),
            messages: {
              // The server's count when it gave one: the overview may be older than the refusal.
              no_seats_left: (detail) => {
                const purchased = Number.isInteger(detail.params?.purchased) ? detail.params.purchased : levelInfo().purchased;
                return { key: 'subscribers.noSeatsLeft', params: { level: levelInfo().name, purchased: (lang) => formatNumber(lang, purchased) } };
              },
              // The date and the program's number of days come as params; without them (an
              // older server) the server's own message is shown as it is.
              reassignment_too_soon: (detail) => {
                const day = detail.params?.available_from;
                const days = detail.params?.days;
                if (typeof day !== 'string' || !Number.isInteger(days)) return null;
                return {
                  key: days === 1 ? 'subscribers.reassignmentTooSoonOne' : 'subscribers.reassignmentTooSoon',
                  params: { level: levelInfo().name, days: (lang) => formatNumber(lang, days), date: (lang) => formatDate(lang, day) },
                };
              },
              invalid_value: 'subscribers.levelInvalid',
            },
          },
          ...detailFields(),
          { name: 'downloads', type: 'checkbox', label: 'subscribers.downloadsAllowed', optional: true },
          { name: 'send_email', type: 'checkbox', label: 'subscribers.sendEmail', hint: 'subscribers.sendEmailHint', optional: true },
        ],
        actions: h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: close }),
        onSubmit: async (values) => {
          if (!(await outsideDomainConfirmed(values.sign_in_email, preferences))) {
            document.querySelector('[data-testid="add-subscriber-dialog"] [name="sign_in_email"]')?.focus();
            return;
          }
          sentLevel = values.level;
          const body = { ...values };
          if (!body.notification_email) delete body.notification_email;
          if (!body.reference) delete body.reference;
          const added = await api('POST', `${base}/subscriptions`, body);
          close();
          notify({
            kind: 'success',
            key: values.send_email ? 'subscribers.addedMailed' : 'subscribers.added',
            params: { name: added?.name ?? values.name, level: levelName(values.level), email: added?.notification_email || added?.sign_in_email || values.sign_in_email },
          });
          await refresh();
        },
      }).element,
    });
  }

  // -- edit --

  function openEditDialog(item) {
    const path = `${base}/subscriptions/${encodeURIComponent(item.id)}`;
    openDialog({
      title: 'subscribers.editTitle',
      titleParams: { name: item.name ?? '' },
      testid: 'edit-subscriber-dialog',
      returnFocus: () => document.getElementById('subscribers-title'),
      content: ({ close }) => {
        const body = h('div', { class: 'dialog__content' }, h('p', { class: 'loading', t: 'lsc.loading' }));
        fetchCurrent(path).then((current) => {
          if (!body.isConnected) return;
          body.replaceChildren(...editForm({ current, path, close }));
          body.querySelector('input')?.focus();
        }).catch((err) => {
          close();
          if (err instanceof ApiError && err.status === 404) {
            notify({ kind: 'error', key: 'subscribers.gone' });
            load();
          } else {
            reportProblem(err);
          }
        });
        return body;
      },
    });
  }

  async function fetchCurrent(path) {
    const { data, headers } = await apiResponse('GET', path);
    return { subscription: data, etag: headers.get('ETag') || `"${data.version}"` };
  }

  function editForm({ current, path, close }) {
    let { subscription: saved, etag } = current;
    const editable = ['name', 'sign_in_email', 'notification_email', 'country', 'language', 'reference', 'downloads'];
    const asValue = (s, key) => (key === 'downloads' ? s.downloads === true : s[key] ?? '');
    const conflict = h('div', { class: 'conflict', 'data-testid': 'edit-conflict', role: 'alert' });
    const form = createForm({
      testid: 'edit-subscriber-form',
      submit: 'subscribers.save',
      ownMessages: true,
      values: Object.fromEntries(editable.map((key) => [key, asValue(saved, key)])),
      fields: [
        ...personFields(),
        ...detailFields(),
        { name: 'downloads', type: 'checkbox', label: 'subscribers.downloadsAllowed', optional: true },
      ],
      actions: h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: close }),
      onSubmit: async (values) => {
        // Only what the user changed: anything else someone else changed meanwhile stays theirs.
        const patch = {};
        for (const key of editable) if (values[key] !== asValue(saved, key)) patch[key] = values[key];
        if (!Object.keys(patch).length) {
          close();
          notify({ kind: 'info', key: 'subscribers.noChanges' });
          return;
        }
        const { data } = await apiResponse('PATCH', path, patch, { headers: { 'If-Match': etag } });
        close();
        notify({ kind: 'success', key: 'subscribers.saved', params: { name: data?.name ?? values.name } });
        await load();
      },
      onProblem: (err) => {
        if (!(err instanceof ApiError)) return false;
        if (err.status === 404) {
          close();
          notify({ kind: 'error', key: 'subscribers.gone' });
          refresh();
          return true;
        }
        if (err.status !== 412) return false;
        // Someone else saved first: show what it is now. Fields the user left alone take the
        // current values; their own changes stay, and saving again applies just those.
        fetchCurrent(path).then((now) => {
          if (!conflict.isConnected) return;
          for (const key of editable) {
            const input = form.element.querySelector(`[name="${key}"]`);
            if (!input) continue;
            if (key === 'downloads') {
              if (input.checked === asValue(saved, key)) input.checked = asValue(now.subscription, key);
            } else if (input.value.trim() === asValue(saved, key)) {
              input.value = asValue(now.subscription, key);
            }
          }
          saved = now.subscription;
          etag = now.etag;
          showConflict(conflict, saved, levelName);
          conflict.scrollIntoView({ block: 'nearest' });
        }).catch((failure) => {
          close();
          reportProblem(failure);
        });
        return true;
      },
    });
    return [
      h('p', { class: 'dialog__intro' },
        h('span', { t: 'subscribers.editLevel' }), ' ',
        h('strong', { format: () => levelName(saved.level) })),
      conflict,
      form.element,
    ];
  }

  showSort();
  load();
  // An upload sent on an earlier visit (or before a reload): its progress, or its result until
  // the user has seen it.
  resumeBulkJob({ ...bulkOptions, stillHere: () => element.isConnected });
  return {
    element,
    /** The overview has (new) levels: the level filter offers them. */
    levelsChanged(levels) {
      const chosen = levelFilter.value;
      levelFilter.replaceChildren(levelFilter.options[0],
        ...levels.map((l) => h('option', { value: l.level }, l.name ?? l.level)));
      levelFilter.value = levels.some((l) => l.level === chosen) ? chosen : '';
      if (loaded) renderRows(); // level names in the rows
    },
  };
}

/** Asks whether to add an address outside the customer's domains; resolves to the answer. */
function confirmOutside(email, domains) {
  return new Promise((resolve) => {
    let answer = false;
    const { dialog } = openDialog({
      title: 'subscribers.outsideTitle',
      testid: 'outside-domain-dialog',
      describedBy: 'outside-domain-text',
      returnFocus: () => document.querySelector('[data-testid="add-subscriber-dialog"] [name="sign_in_email"]'),
      content: ({ close }) => [
        h('div', { class: 'dialog__text', id: 'outside-domain-text' },
          h('p', { t: 'subscribers.outsideText', params: { email, domains: domains.join(', ') } })),
        h('div', { class: 'form__actions' },
          h('button', {
            type: 'button',
            class: 'button button--primary',
            t: 'subscribers.outsideConfirm',
            'data-testid': 'confirm-outside-domain',
            onclick: () => {
              answer = true;
              close();
            },
          }),
          h('button', { type: 'button', class: 'button', t: 'subscribers.outsideChange', 'data-autofocus': true, 'data-testid': 'dialog-cancel', onclick: close })),
      ],
    });
    dialog.addEventListener('close', () => resolve(answer), { once: true });
  });
}

/** The current values after a conflict, for the user to compare with what they typed. */
function showConflict(box, s, levelName) {
  const item = (key, value, testid) => [h('dt', { t: key }), h('dd', { 'data-testid': testid }, value)];
  box.replaceChildren(h('div', { class: 'notice notice--error' },
    h('p', { class: 'notice__text', t: 'subscribers.conflict' }),
    h('dl', { class: 'facts facts--compact' },
      item('subscribers.colName', s.name ?? '', 'current-name'),
      item('subscribers.colSignInEmail', s.sign_in_email ?? '', 'current-sign_in_email'),
      item('subscribers.colNotificationEmail', s.notification_email || '—', 'current-notification_email'),
      item('subscribers.colLevel', h('span', { format: () => levelName(s.level) }), 'current-level'),
      item('subscribers.colCountry', h('span', { format: (lang) => countryName(lang, s.country) }), 'current-country'),
      item('subscribers.colLanguage', h('span', { format: (lang) => languageName(lang, s.language) }), 'current-language'),
      item('subscribers.colReference', s.reference || '—', 'current-reference'),
      item('subscribers.colDownloads', h('span', { t: s.downloads ? 'subscribers.yes' : 'subscribers.no' }), 'current-downloads'))));
}

// ---- form fields shared by the add and edit dialogs ----------------------------------------

function personFields() {
  return [
    { name: 'name', type: 'text', label: 'subscribers.colName', maxlength: 100, autocomplete: 'off' },
    {
      name: 'sign_in_email', type: 'email', label: 'subscribers.colSignInEmail', hint: 'subscribers.signInEmailHint',
      autocomplete: 'off', messages: { duplicate: 'subscribers.duplicate', outside_domain: 'subscribers.outsideDomainRefused' },
    },
    {
      name: 'notification_email', type: 'email', label: 'subscribers.colNotificationEmail', hint: 'subscribers.notificationEmailHint',
      autocomplete: 'off', optional: true,
    },
  ];
}

function detailFields() {
  const lang = currentLanguage();
  return [
    {
      name: 'country',
      type: 'select',
      label: 'subscribers.colCountry',
      options: [{ value: '', t: 'order.countryChoose' }, ...sortedCountries(lang).map((code) => ({ value: code, format: (l) => countryName(l, code) }))],
      messages: { required: 'order.countryRequired' },
    },
    {
      name: 'language',
      type: 'select',
      label: 'subscribers.colLanguage',
      hint: 'subscribers.languageHint',
      options: LANGUAGES.map((code) => ({ value: code, format: (l) => languageName(l, code) })),
    },
    { name: 'reference', type: 'text', label: 'subscribers.colReference', hint: 'subscribers.referenceHint', maxlength: 256, optional: true, autocomplete: 'off' },
  ];
}

/** Country codes in the alphabetical order of their names in `lang`. */
export function sortedCountries(lang = currentLanguage()) {
  const collator = new Intl.Collator(lang);
  return [...COUNTRIES].sort((a, b) => collator.compare(countryName(lang, a), countryName(lang, b)));
}
