// Adding subscribers from a file: the dialog that sends a CSV or Excel file to the bulk route,
// first to check it (nothing is kept) or straight away, and lists every problem the server
// found by row and column. Nothing is half-added: the server applies all rows or none.

import { ApiError, api } from './api.js';
import { openDialog } from './dialog.js';
import { h, uid } from './dom.js';
import { currentLanguage, t } from './i18n.js';
import { formatNumber } from './present.js';
import { fieldErrorKey, problemNotice } from './problems.js';

/**
 * Opens the dialog for the agreement `license`; `onAdded(count)` runs after rows were added.
 */
export function openBulkUpload({ license, onAdded }) {
  const base = `/api/v1/agreements/${encodeURIComponent(license)}/subscriptions`;
  const fileId = uid('bulk-file');
  const notifyId = uid('bulk-notify');
  const input = h('input', { type: 'file', id: fileId, accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'data-testid': 'bulk-file', 'data-autofocus': true });
  const notifyBox = h('input', { type: 'checkbox', id: notifyId, checked: true, 'data-testid': 'bulk-notify' });
  const result = h('div', { class: 'bulk-result', 'aria-live': 'polite', 'data-testid': 'bulk-result' });
  const checkButton = h('button', { type: 'button', class: 'button', t: 'bulk.check', 'data-testid': 'bulk-check' });
  const applyButton = h('button', { type: 'button', class: 'button button--primary', t: 'bulk.apply', 'data-testid': 'bulk-apply' });

  const { close } = openDialog({
    title: 'bulk.title',
    testid: 'bulk-dialog',
    content: ({ close: done }) => h('div', {},
      h('p', { t: 'bulk.intro' }),
      h('p', { class: 'bulk-templates' },
        h('a', { href: `${base}/template?format=xlsx`, download: '', t: 'bulk.templateXlsx', 'data-testid': 'bulk-template-xlsx' }),
        ' · ',
        h('a', { href: `${base}/template?format=csv`, download: '', t: 'bulk.templateCsv', 'data-testid': 'bulk-template-csv' })),
      h('label', { for: fileId, class: 'field__label', t: 'bulk.file' }),
      input,
      h('p', { class: 'checkbox' }, notifyBox, ' ', h('label', { for: notifyId, t: 'bulk.notify' })),
      result,
      h('div', { class: 'dialog__actions' },
        checkButton, applyButton,
        h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: done }))),
  });

  async function send(checkOnly) {
    const file = input.files && input.files[0];
    if (!file) {
      result.replaceChildren(h('p', { class: 'error', t: 'bulk.noFile' }));
      input.focus();
      return;
    }
    const query = `check_only=${checkOnly}&send_email=${notifyBox.checked}`;
    checkButton.disabled = applyButton.disabled = true;
    result.replaceChildren(h('p', { t: 'bulk.working' }));
    try {
      const report = await api('POST', `/agreements/${encodeURIComponent(license)}/subscriptions/bulk?${query}`, file);
      showReport(report, checkOnly);
      if (report.applied) {
        onAdded?.(report.added);
        input.value = '';
      }
    } catch (err) {
      if (err instanceof ApiError && err.problem && err.problem.report) showReport(err.problem.report, checkOnly);
      else if (err instanceof ApiError) showProblem(err);
      else throw err;
    } finally {
      checkButton.disabled = applyButton.disabled = false;
    }
  }

  function showProblem(err) {
    const notice = problemNotice(err);
    const detail = currentLanguage() === 'en' && err.problem && err.problem.detail ? err.problem.detail : null;
    result.replaceChildren(h('p', { class: 'error', role: 'alert', 'data-testid': 'bulk-problem', t: notice.key, params: notice.params }),
      detail ? h('p', {}, detail) : '');
  }

  function showReport(report, checkOnly) {
    const lang = currentLanguage();
    const summary = report.error_count > 0
      ? h('p', { class: 'error', role: 'alert', 'data-testid': 'bulk-summary', t: 'bulk.problems',
        params: { count: formatNumber(lang, report.error_count), rows: formatNumber(lang, report.rows) } })
      : h('p', { 'data-testid': 'bulk-summary', t: report.applied ? 'bulk.added' : 'bulk.checked',
        params: { count: formatNumber(lang, report.applied ? report.added : report.rows) } });
    const nodes = [summary];
    if (report.levels && report.levels.length) {
      nodes.push(h('ul', { class: 'bulk-levels' }, ...report.levels.map((l) => h('li', {
        t: l.rows > l.available ? 'bulk.levelShort' : 'bulk.level',
        params: { level: l.level, rows: formatNumber(lang, l.rows), available: formatNumber(lang, l.available) },
      }))));
    }
    if (report.errors && report.errors.length) {
      nodes.push(h('table', { class: 'table bulk-errors', 'data-testid': 'bulk-errors' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', t: 'bulk.row' }), h('th', { scope: 'col', t: 'bulk.column' }),
          h('th', { scope: 'col', t: 'bulk.value' }), h('th', { scope: 'col', t: 'bulk.problem' }))),
        h('tbody', {}, ...report.errors.map((e) => h('tr', { 'data-row': e.row },
          h('td', {}, String(e.row)), h('td', {}, e.column || ''), h('td', {}, e.value || ''),
          // The server's English text is the most precise; other languages get the catalogue's.
          h('td', lang === 'en' ? {} : { t: fieldErrorKey(e.code) }, lang === 'en' ? e.message : ''))))));
      if (report.error_count > report.errors.length) {
        nodes.push(h('p', { t: 'bulk.more', params: { count: formatNumber(lang, report.error_count - report.errors.length) } }));
      }
    }
    if (checkOnly && !report.error_count) nodes.push(h('p', { t: 'bulk.checkedHint' }));
    result.replaceChildren(...nodes);
  }

  checkButton.addEventListener('click', () => send(true));
  applyButton.addEventListener('click', () => send(false));
  return { close };
}
