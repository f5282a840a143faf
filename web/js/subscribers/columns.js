// Which of the subscribers table's columns are shown: a "Columns" button that opens a list of
// checkboxes (a disclosure: the button says whether it is open, Escape closes it and gives the
// focus back), one per column but the name, which identifies each row and is always shown. The
// choice is remembered in this browser per person (localStorage), and lasts the visit when
// storage is unavailable.
//
// Exports: columnChooser.

import { h, uid } from '../dom.js';
import { currentUser } from '../session.js';

const STORAGE_PREFIX = 'openseat.subscriberColumns.';

const storageKey = () => `${STORAGE_PREFIX}${currentUser()?.id ?? 'anonymous'}`;

/** The hidden columns saved for the signed-in person, as a Set of fields (unknown ones dropped). */
function readHidden(fields) {
  try {
    const saved = JSON.parse(localStorage.getItem(storageKey()) || '[]');
    return new Set(Array.isArray(saved) ? saved.filter((f) => fields.includes(f)) : []);
  } catch {
    return new Set();
  }
}

function saveHidden(hidden) {
  try {
    localStorage.setItem(storageKey(), JSON.stringify([...hidden]));
  } catch {
    /* see readHidden */
  }
}

/**
 * The chooser for `columns` ([field, header key] pairs, the name excluded). `onChange(hidden)`
 * runs after every change with the Set of hidden fields. Returns { element, hidden }.
 */
export function columnChooser({ columns, onChange }) {
  const hidden = readHidden(columns.map(([field]) => field));
  const panelId = uid('columns');
  const button = h('button', {
    type: 'button', class: 'button button--small', 'aria-expanded': 'false', 'aria-controls': panelId,
    'data-testid': 'columns-toggle', t: 'subscribers.columns',
  });
  const boxes = columns.map(([field, key]) => {
    const id = uid(`column-${field}`);
    const box = h('input', { type: 'checkbox', id, checked: !hidden.has(field), 'data-testid': `column-${field}` });
    box.addEventListener('change', () => {
      if (box.checked) hidden.delete(field);
      else hidden.add(field);
      saveHidden(hidden);
      onChange(hidden);
    });
    return h('li', { class: 'checkbox' }, box, ' ', h('label', { for: id, t: key }));
  });
  const panel = h('fieldset', { id: panelId, class: 'columns__panel', hidden: true, 'data-testid': 'columns-panel' },
    h('legend', { class: 'columns__legend', t: 'subscribers.columnsLegend' }),
    h('ul', { class: 'columns__list' }, boxes));

  function setOpen(open) {
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
  }
  button.addEventListener('click', () => {
    const open = panel.hidden;
    setOpen(open);
    if (open) panel.querySelector('input')?.focus();
  });
  const element = h('div', { class: 'columns' }, button, panel);
  element.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || panel.hidden) return;
    event.preventDefault();
    event.stopPropagation();
    setOpen(false);
    button.focus();
  });
  return { element, hidden };
}
