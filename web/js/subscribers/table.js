// The subscribers table: its header row (the select-all box, each column's heading, the sort
// buttons with `aria-sort` on the sorted column) and its rows (a selection box with its own
// label, the subscriber's values, an Edit button). It reads the rows, the selection and the
// sort from the list's state (./state.js) and changes the selection and the sort there;
// fetching after a sort and editing a row are the page's (`onSort`, `onEdit`).
//
// The table is wider than most screens: the selection box and the name stay pinned at the left
// while it scrolls sideways (app.css), and the Edit button comes right after the name, so a row's
// action is never scrolled away from the row it acts on. Which other columns are shown is the
// user's choice (./columns.js).
//
// Exports: subscribersTable.

import { h } from '../dom.js';
import { countryName, date, languageName } from '../present.js';
import { columnChooser } from './columns.js';

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

/**
 * The table of `list` (a createListState). `editable`: the rows have their selection box and
 * Edit button (the user may change subscribers). `levelName(code)` names a level; `onSort()` runs
 * after the sort changed, `onEdit(item)` on a row's Edit button, `onSelection()` after every
 * rendering of the rows (the selection may have changed).
 * Returns { table, columns (the chooser's element), showSort(), renderRows() }.
 */
export function subscribersTable({ list, editable = true, levelName, onSort, onEdit, onSelection }) {
  const selectAll = h('input', { type: 'checkbox', class: 'select-box', tAttrs: { 'aria-label': 'subscribers.selectAll' }, 'data-testid': 'select-all' });
  selectAll.addEventListener('change', () => {
    list.selectShown(selectAll.checked);
    renderRows();
  });
  const chooser = columnChooser({
    columns: COLUMNS.filter(([field]) => field !== 'name').map(([field, key]) => [field, key]),
    onChange: () => showColumns(table),
  });
  const headerCells = COLUMNS.map(([field, key, sortable]) => {
    const th = h('th', { scope: 'col', 'data-column': field, class: field === 'name' ? 'pinned-name' : null });
    if (!sortable) {
      th.append(h('span', { t: key }));
      return th;
    }
    const button = h('button', { type: 'button', class: 'sort-button', 'data-testid': `sort-${field}` },
      h('span', { t: key }),
      h('span', { class: 'sort-button__arrow', 'aria-hidden': 'true' }));
    button.addEventListener('click', () => {
      list.sortBy(field);
      showSort();
      onSort();
    });
    th.append(button);
    return th;
  });
  const tbody = h('tbody', {});
  const table = h('table', { class: editable ? 'table table--subscribers' : 'table table--subscribers table--read-only', 'aria-labelledby': 'subscribers-title', 'data-testid': 'subscribers-table' },
    h('thead', {}, h('tr', {},
      editable && h('th', { scope: 'col', class: 'select-cell' }, selectAll),
      headerCells[0],
      editable && h('th', { scope: 'col', class: 'actions-cell', t: 'subscribers.colActions' }),
      headerCells.slice(1))),
    tbody);

  /** Hides the chosen columns' cells in `root` (the whole table, or one new row). */
  function showColumns(root) {
    for (const cell of root.querySelectorAll('[data-column]')) cell.hidden = chooser.hidden.has(cell.dataset.column);
  }
  showColumns(table);

  /** Marks the sorted column's heading and button. */
  function showSort() {
    for (const th of headerCells) {
      const button = th.querySelector('.sort-button');
      if (!button) continue;
      const current = th.dataset.column === list.sort;
      if (current) th.setAttribute('aria-sort', list.order === 'asc' ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
      button.classList.toggle('is-sorted', current);
    }
  }

  /** The rows as the list holds them now, and the select-all box's state. */
  function renderRows() {
    const { items, selected } = list;
    tbody.replaceChildren(...items.map(row));
    const chosen = items.filter((item) => selected.has(item.id)).length;
    selectAll.checked = items.length > 0 && chosen === items.length;
    selectAll.indeterminate = chosen > 0 && chosen < items.length;
    onSelection();
  }

  function row(item) {
    const { selected } = list;
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
      onclick: () => onEdit(item),
    }, h('span', { t: 'subscribers.edit' }), ' ', h('span', { class: 'visually-hidden', t: 'subscribers.editWhich', params: { name: item.name ?? '' } }));
    const tr = h('tr', { 'data-testid': 'subscriber-row', 'data-id': item.id, class: selected.has(item.id) ? 'is-selected' : null },
      editable && h('td', { class: 'select-cell' }, box,
        h('label', { for: boxId, class: 'visually-hidden', t: 'subscribers.selectOne', params: { name: item.name ?? '' } })),
      h('th', { scope: 'row', class: 'pinned-name', 'data-testid': 'cell-name' }, item.name ?? ''),
      editable && h('td', { class: 'actions-cell' }, edit),
      h('td', { 'data-column': 'sign_in_email', 'data-testid': 'cell-sign_in_email' }, item.sign_in_email ?? ''),
      h('td', { 'data-column': 'level', 'data-testid': 'cell-level', format: () => levelName(item.level) }),
      h('td', { 'data-column': 'assigned', class: 'nowrap', 'data-testid': 'cell-assigned', ...date(item.assigned) }),
      h('td', { 'data-column': 'expires', class: 'nowrap', 'data-testid': 'cell-expires', ...date(item.expires) }),
      h('td', { 'data-column': 'reference', 'data-testid': 'cell-reference' }, item.reference ?? ''),
      h('td', { 'data-column': 'downloads', 'data-testid': 'cell-downloads', t: item.downloads ? 'subscribers.yes' : 'subscribers.no' }),
      h('td', { 'data-column': 'country', 'data-testid': 'cell-country', format: (lang) => countryName(lang, item.country) }),
      h('td', { 'data-column': 'language', 'data-testid': 'cell-language', format: (lang) => languageName(lang, item.language) }),
      h('td', { 'data-column': 'notification_email', 'data-testid': 'cell-notification_email' }, item.notification_email ?? ''),
      h('td', { 'data-column': 'id', 'data-testid': 'cell-id' }, h('code', { class: 'code code--small' }, item.id ?? '')));
    showColumns(tr);
    return tr;
  }

  return { table, columns: chooser.element, showSort, renderRows };
}
