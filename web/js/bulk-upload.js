// Subscribers from files: the dialogs that send a CSV or Excel file to the bulk routes — adding
// subscribers, changing them (typically an edited export) and removing them (a file or a plain
// list of addresses and ids). Each file is checked or previewed first (nothing is kept), and every
// problem the server found is listed by row and column. Nothing is half-done: the server applies
// all rows or none.
//
// Files go as background jobs (bulk-job.js): the dialog shows the server's progress, and the
// result survives a reload — the subscribers page reopens the dialog of the user's latest job
// (resumeBulkJob) until it has been seen and the dialog closed. An added file's result, once
// shown, is not reopened by itself: the page forgets it instead. Once a result is on screen the
// dialog's last button says Close: nothing is left to cancel.

import { ApiError, api, isAbort } from './api.js';
import { annotatedHref, dismissJob, isFinished, jobTracker, latestJob, markSeen, wasSeen } from './bulk-job.js';
import { confirmAction } from './confirm.js';
import { openDialog } from './dialog.js';
import { h, uid } from './dom.js';
import { bind, currentLanguage, t } from './i18n.js';
import { notify } from './notice.js';
import { countryName, formatNumber } from './present.js';
import { fieldErrorMessage, problemNotice } from './problems.js';

const SPREADSHEETS = '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/**
 * Reopens the dialog of the user's latest upload on the agreement `license`, if there is one:
 * still under way, or finished and not yet dismissed. `options` are the three dialogs' (their
 * callbacks and namers); `stillHere()` says whether the page that asked is still shown.
 */
export async function resumeBulkJob({ license, stillHere = () => true, ...options }) {
  const job = await latestJob(license);
  // Seen before the page was reloaded or left: nothing to show again, and nothing to keep.
  if (job && job.kind === 'add' && wasSeen(job)) {
    dismissJob(license, job);
    return;
  }
  // Not over another dialog the user opened meanwhile, nor on a page they have left.
  if (!job || !stillHere() || document.querySelector('dialog[open]')) return;
  const open = { add: openBulkUpload, edit: openBulkEdit, remove: openBulkRemove }[job.kind];
  open?.({ license, ...options, job });
}

/**
 * The seats free per level now (a Map of level code to count), or null when the overview cannot
 * be had: a report's own counts are those of when the file was checked, stale by the time a
 * result found after a reload (or after the rows were added) is shown.
 */
async function freeSeatsNow(license) {
  try {
    const data = await api('GET', `/agreements/${encodeURIComponent(license)}/overview`);
    const levels = Array.isArray(data?.levels) ? data.levels : [];
    return new Map(levels.map((l) => [l.level, Number(l.available) || 0]));
  } catch (err) {
    if (isAbort(err) || err instanceof ApiError) return null;
    throw err;
  }
}

/**
 * Opens the dialog for the agreement `license`; `onAdded(count)` runs after rows were added,
 * `levelName(code)` names a level. With `job`, it shows that job (from an earlier visit) instead
 * of waiting for a file.
 */
export function openBulkUpload({ license, onAdded, levelName = (code) => code, job }) {
  const base = `/api/v1/agreements/${encodeURIComponent(license)}/subscriptions`;
  const fileId = uid('bulk-file');
  const notifyId = uid('bulk-notify');
  const input = h('input', { type: 'file', id: fileId, accept: SPREADSHEETS, 'data-testid': 'bulk-file', 'data-autofocus': true });
  const notifyBox = h('input', { type: 'checkbox', id: notifyId, checked: true, 'data-testid': 'bulk-notify' });
  const result = h('div', { class: 'bulk-result', 'aria-live': 'polite', 'data-testid': 'bulk-result' });
  const checkButton = h('button', { type: 'button', class: 'button', t: 'bulk.check', 'data-testid': 'bulk-check' });
  const applyButton = h('button', { type: 'button', class: 'button button--primary', t: 'bulk.apply', 'data-testid': 'bulk-apply' });
  const cancelButton = h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel' });
  const tracker = jobTracker({ license, onLeftRunning });

  const { dialog, close } = openDialog({
    title: 'bulk.title',
    testid: 'bulk-dialog',
    content: ({ close: done }) => {
      cancelButton.addEventListener('click', done);
      return h('div', {},
        h('p', { t: 'bulk.intro' }),
        h('p', { class: 'bulk-templates' },
          h('a', { href: `${base}/template?format=xlsx`, download: '', t: 'bulk.templateXlsx', 'data-testid': 'bulk-template-xlsx' }),
          ' · ',
          h('a', { href: `${base}/template?format=csv`, download: '', t: 'bulk.templateCsv', 'data-testid': 'bulk-template-csv' })),
        h('label', { for: fileId, class: 'field__label', t: 'bulk.file' }),
        input,
        h('p', { class: 'checkbox' }, notifyBox, ' ', h('label', { for: notifyId, t: 'bulk.notify' })),
        tracker.element,
        result,
        h('div', { class: 'form__actions' },
          checkButton, applyButton, cancelButton));
    },
  });

  // The file's text encoding, once the user chose to read a non-UTF-8 file as Windows-1252
  // (the server offered it); a new file starts again from UTF-8.
  let encoding = null;
  input.addEventListener('change', () => { encoding = null; });

  async function send(checkOnly) {
    const file = input.files && input.files[0];
    if (!file) {
      result.replaceChildren(h('p', { class: 'error', t: 'bulk.noFile' }));
      input.focus();
      return;
    }
    const query = `check_only=${checkOnly}&send_email=${notifyBox.checked}${encoding ? `&encoding=${encoding}` : ''}`;
    await whileJob(checkOnly, true, () => tracker.start(`/agreements/${encodeURIComponent(license)}/subscriptions/bulk`, query, file));
  }

  /**
   * The file read as Windows-1252: its lines with characters outside ASCII (the ones the
   * encoding changes, typically names), decoded here so the user sees them before trusting
   * it, then the server's check with that encoding. Nothing is written until Add.
   */
  async function readAsWindows1252() {
    const file = chosen(input);
    if (!file) return send(true);
    const text = new TextDecoder('windows-1252').decode(await file.arrayBuffer());
    const lines = text.split(/\r\n|\n|\r/).filter((l) => /[^\x00-\x7f]/.test(l)).slice(0, 5);
    encoding = 'windows-1252';
    await send(true);
    result.prepend(h('div', { 'data-testid': 'bulk-decoded' },
      h('p', { t: 'bulk.decodedAs' }),
      h('ul', {}, ...lines.map((l) => h('li', {}, l.length > 200 ? `${l.slice(0, 200)}…` : l)))));
  }

  /**
   * Waits for `work` (a job's report) and shows it. `fresh`: the rows were added while the
   * user watched, so the list behind is out of date (a job found finished at load is not).
   */
  async function whileJob(checkOnly, fresh, work) {
    checkButton.disabled = applyButton.disabled = true;
    result.replaceChildren();
    bind(cancelButton, 'dialog.cancel');
    try {
      const report = await work();
      if (report.applied) {
        if (fresh) onAdded?.(report.added);
        input.value = '';
      }
      await showReport(report, checkOnly);
    } catch (err) {
      if (isAbort(err)) return; // the dialog was closed
      if (err instanceof ApiError && err.problem && err.problem.report) await showReport(err.problem.report, checkOnly);
      else if (err instanceof ApiError) {
        result.replaceChildren(...problemNodes(err));
        if (err.problem && err.problem.encoding === 'windows-1252' && !encoding) {
          result.append(h('button', { type: 'button', class: 'button', t: 'bulk.readAsWindows1252',
            'data-testid': 'bulk-read-1252', onclick: () => readAsWindows1252() }));
        }
      } else throw err;
    } finally {
      checkButton.disabled = applyButton.disabled = false;
    }
  }

  async function showReport(report, checkOnly) {
    // The seat counts as they are now, read before anything is shown so the lines do not change
    // under the reader.
    const free = report.levels && report.levels.length ? await freeSeatsNow(license) : null;
    const finished = tracker.current();
    if (finished && isFinished(finished)) markSeen(finished);
    bind(cancelButton, 'dialog.close');
    const lang = currentLanguage();
    const summary = report.error_count > 0
      ? h('p', { class: 'error', role: 'alert', 'data-testid': 'bulk-summary', t: 'bulk.problems',
        params: { count: Number(report.error_count), rows: Number(report.rows) } })
      : h('p', { 'data-testid': 'bulk-summary', t: report.applied ? 'bulk.added' : 'bulk.checked',
        params: { count: Number(report.applied ? report.added : report.rows) } });
    const nodes = [summary];
    if (report.levels && report.levels.length) {
      nodes.push(h('ul', { class: 'bulk-levels', 'data-testid': 'bulk-levels' }, ...report.levels.map((l) => {
        const available = free?.has(l.level) ? free.get(l.level) : l.available;
        // A file already added holds its seats: only one still to add can be short of them.
        const short = !report.applied && l.rows > available;
        return h('li', {
          'data-level': l.level,
          t: short ? 'bulk.levelShort' : 'bulk.level',
          params: { level: () => levelName(l.level), rows: Number(l.rows), available: Number(available) },
        });
      })));
    }
    if (report.warnings && report.warnings.length) {
      nodes.push(h('ul', { class: 'bulk-warnings', 'data-testid': 'bulk-warnings' },
        ...report.warnings.map((w) => h('li', {}, `${w.column}${lang === 'fr' ? '\u202f:' : ':'} `, h('span', { t: `field.${w.code}` })))));
    }
    nodes.push(...errorNodes(report, license, tracker));
    if (checkOnly && !report.error_count) nodes.push(h('p', { t: chosen(input) ? 'bulk.checkedHint' : 'bulkJob.chooseAgain' }));
    result.replaceChildren(...nodes);
  }

  checkButton.addEventListener('click', () => send(true));
  applyButton.addEventListener('click', () => send(false));
  dialog.addEventListener('close', () => tracker.closed());
  if (job) {
    notifyBox.checked = job.send_email !== false;
    whileJob(job.check_only, !isFinished(job), () => tracker.follow(job));
  }
  return { close };
}

// ---- shared by the dialogs -----------------------------------------------------------------

/** The file picked in `input`, if any (none after a reload: a job's file is the server's). */
function chosen(input) {
  return (input.files && input.files[0]) || null;
}

/** A dialog closed while its file is still processed: where the result will be. */
function onLeftRunning() {
  notify({ kind: 'info', key: 'bulkJob.leftRunning' });
}

/** A refusal without a report (unreadable file, read-only agreement…), and its detail in English. */
function problemNodes(err) {
  const notice = problemNotice(err);
  const detail = currentLanguage() === 'en' && err.problem && err.problem.detail ? err.problem.detail : null;
  return [h('p', { class: 'error', role: 'alert', 'data-testid': 'bulk-problem', t: notice.key, params: notice.params }),
    detail ? h('p', {}, detail) : ''];
}

/**
 * The report's problems, one table row each (row, column, value, problem), and the files to
 * fix them with: the uploaded file itself with a first column of problems (from the server,
 * while `tracker` holds the finished job), and the problems alone.
 */
function errorNodes(report, license, tracker) {
  if (!report.errors || !report.errors.length) return [];
  const lang = currentLanguage();
  const nodes = [h('table', { class: 'table bulk-errors', 'data-testid': 'bulk-errors' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', t: 'bulk.row' }), h('th', { scope: 'col', t: 'bulk.column' }),
      h('th', { scope: 'col', t: 'bulk.value' }), h('th', { scope: 'col', t: 'bulk.problem' }))),
    h('tbody', {}, ...report.errors.map((e) => h('tr', { 'data-row': e.row },
      h('td', {}, String(e.row)), h('td', {}, e.column || ''), h('td', { class: 'bulk-errors__value' }, e.value || ''),
      // The server's English text is the most precise; other languages get the catalogue's,
      // naming the allowed values when the server gave them (params.field, params.allowed).
      h('td', lang === 'en' ? {} : { t: fieldErrorMessage(e).key, params: fieldErrorMessage(e).params },
        lang === 'en' ? e.message : '')))))];
  if (report.error_count > report.errors.length) {
    nodes.push(h('p', { t: 'bulk.more', params: { count: Number(report.error_count - report.errors.length) } }));
  }
  const job = tracker?.current();
  nodes.push(h('p', { class: 'bulk-files' },
    job && isFinished(job) ? [h('a', { href: annotatedHref(license, job), download: '', t: 'bulkJob.annotated', 'data-testid': 'bulk-annotated' }), ' · '] : null,
    problemsFile(report, lang)));
  return nodes;
}

/**
 * The problems as a CSV file to keep beside the spreadsheet while fixing it: the same
 * columns as the table, with a byte-order mark and the separator a spreadsheet of the user's
 * language expects. Made in the page from the report: nothing more is asked of the server.
 */
function problemsFile(report, lang) {
  const sep = lang === 'fr' ? ';' : ',';
  const quote = (v) => {
    const text = String(v ?? '');
    // As the server's exports do: a leading = + - @ would be run as a formula.
    const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
    return /[",;\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = [[t('bulk.row'), t('bulk.column'), t('bulk.value'), t('bulk.problem')]]
    .concat(report.errors.map((e) => [e.row, e.column, e.value, lang === 'en' ? e.message : t(fieldErrorMessage(e).key, fieldErrorMessage(e).params)]));
  const text = `\ufeff${lines.map((cells) => cells.map(quote).join(sep)).join('\r\n')}\r\n`;
  // A data: address rather than a blob: one, which would have to be revoked (and so timed).
  const url = `data:text/csv;charset=utf-8,${encodeURIComponent(text)}`;
  return h('a', { href: url, download: t('bulk.problemsFileName'), t: 'bulk.problemsFile', 'data-testid': 'bulk-problems-file' });
}

/**
 * The parts of a "preview, then apply" dialog: a file field, the job's progress, the result
 * area, and `send` that posts the chosen file to `path` (check_only=true for the preview) and
 * hands the report to `show`, whether the server accepted the file or refused it with a report;
 * `follow` does the same for a job from an earlier visit.
 */
function previewDialog({ license, path, prefix, accept, buttons }) {
  const fileId = uid(`${prefix}-file`);
  const input = h('input', { type: 'file', id: fileId, accept, 'data-testid': `${prefix}-file`, 'data-autofocus': true });
  const result = h('div', { class: 'bulk-result', 'aria-live': 'polite', 'data-testid': `${prefix}-result` });
  const tracker = jobTracker({ license, onLeftRunning });
  const picked = () => {
    const file = chosen(input);
    if (!file) {
      result.replaceChildren(h('p', { class: 'error', t: 'bulk.noFile' }));
      input.focus();
    }
    return file;
  };
  // Resolves to the report shown, or null when there was none (refused, or the dialog closed).
  async function whileJob(checkOnly, show, work) {
    for (const button of buttons()) button.disabled = true;
    result.replaceChildren();
    try {
      const report = await work();
      show(report, checkOnly);
      return report;
    } catch (err) {
      if (isAbort(err)) return null;
      if (err instanceof ApiError && err.problem && err.problem.report) show(err.problem.report, checkOnly);
      else if (err instanceof ApiError) result.replaceChildren(...problemNodes(err));
      else throw err;
      return null;
    } finally {
      for (const button of buttons()) button.disabled = false;
    }
  }
  function send(checkOnly, show) {
    const file = picked();
    if (!file) return Promise.resolve(null);
    return whileJob(checkOnly, show, () => tracker.start(path, `check_only=${checkOnly}`, file));
  }
  function follow(job, show) {
    return whileJob(job.check_only, show, () => tracker.follow(job));
  }
  return { fileId, input, result, tracker, send, follow };
}

// The fields a bulk edit may change, with their labels (the subscribers table's).
const FIELD_LABELS = {
  name: 'subscribers.colName',
  sign_in_email: 'subscribers.colSignInEmail',
  notification_email: 'subscribers.colNotificationEmail',
  reference: 'subscribers.colReference',
  downloads: 'subscribers.colDownloads',
  country: 'subscribers.colCountry',
  language: 'subscribers.colLanguage',
};

/**
 * Changing subscribers from a file (an export whose cells were changed): "Preview" lists what
 * would change, subscriber by subscriber, then "Apply changes" applies them all.
 * `languageName(lang, code)` words a language; `onChanged(count)` runs after changes were applied.
 */
export function openBulkEdit({ license, languageName, onChanged, job }) {
  const previewButton = h('button', { type: 'button', class: 'button', t: 'bulkEdit.preview', 'data-testid': 'bulk-edit-preview' });
  const applyButton = h('button', { type: 'button', class: 'button button--primary', t: 'bulkEdit.apply', 'data-testid': 'bulk-edit-apply', hidden: true });
  const { fileId, input, result, tracker, send, follow } = previewDialog({
    license,
    path: `/agreements/${encodeURIComponent(license)}/subscriptions/bulk-edit`,
    prefix: 'bulk-edit',
    accept: SPREADSHEETS,
    buttons: () => [previewButton, applyButton],
  });

  const { dialog, close } = openDialog({
    title: 'bulkEdit.title',
    testid: 'bulk-edit-dialog',
    content: ({ close: done }) => h('div', {},
      h('p', { t: 'bulkEdit.intro' }),
      h('label', { for: fileId, class: 'field__label', t: 'bulk.file' }),
      input,
      tracker.element,
      result,
      h('div', { class: 'form__actions' },
        previewButton, applyButton,
        h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: done }))),
  });

  // Another file needs its own preview before anything is applied.
  input.addEventListener('change', () => {
    applyButton.hidden = true;
    result.replaceChildren();
  });
  previewButton.addEventListener('click', () => send(true, show));
  applyButton.addEventListener('click', async () => {
    const report = await send(false, show);
    if (report && report.applied) {
      input.value = '';
      onChanged?.(report.changed);
    }
  });
  dialog.addEventListener('close', () => tracker.closed());
  if (job) {
    const fresh = !isFinished(job);
    follow(job, show).then((report) => {
      if (fresh && report && report.applied) onChanged?.(report.changed);
    });
  }

  const shown = (field, value) => {
    if (value === null || value === undefined || value === '') return h('span', { class: 'muted', t: 'bulkEdit.empty' });
    if (field === 'downloads') return h('span', { t: value ? 'subscribers.yes' : 'subscribers.no' });
    if (field === 'country') return h('span', { format: (lang) => countryName(lang, value) });
    if (field === 'language') return h('span', { format: (lang) => languageName(lang, value) });
    return h('span', {}, String(value));
  };

  function show(report, checkOnly) {
    let summary;
    if (report.error_count > 0) {
      summary = h('p', { class: 'error', role: 'alert', 'data-testid': 'bulk-summary', t: 'bulkEdit.problems',
        params: { count: Number(report.error_count), rows: Number(report.rows) } });
    } else if (report.applied) {
      summary = h('p', { 'data-testid': 'bulk-summary', t: 'bulkEdit.applied', params: { count: Number(report.changed) } });
    } else if (report.changed > 0) {
      summary = h('p', { 'data-testid': 'bulk-summary', t: 'bulkEdit.previewed',
        params: { count: Number(report.changed), unchanged: Number(report.unchanged) } });
    } else {
      summary = h('p', { 'data-testid': 'bulk-summary', t: 'bulkEdit.nothing' });
    }
    const nodes = [summary];
    if (report.changes && report.changes.length) {
      nodes.push(h('ul', { class: 'bulk-changes', 'data-testid': 'bulk-changes' }, ...report.changes.map((change) => h('li', { 'data-row': change.row, 'data-id': change.id },
        h('strong', {}, change.name || ''), ' ',
        h('span', { class: 'muted', t: 'bulkEdit.row', params: { row: change.row } }),
        h('ul', {}, ...Object.entries(change.fields || {}).map(([field, { from, to }]) => h('li', { 'data-field': field },
          h('span', { t: FIELD_LABELS[field] || 'bulkEdit.otherField' }), ': ',
          shown(field, from), ' → ', shown(field, to))))))));
      if (report.changed > report.changes.length) {
        nodes.push(h('p', { t: 'bulkEdit.moreChanges', params: { count: Number(report.changed - report.changes.length) } }));
      }
    }
    nodes.push(...errorNodes(report, license, tracker));
    // Applying needs the file: after a reload the preview is the server's, the file is not here.
    const applicable = checkOnly && !report.error_count && report.changed > 0;
    if (applicable) nodes.push(h('p', { t: chosen(input) ? 'bulkEdit.previewHint' : 'bulkJob.chooseAgain' }));
    result.replaceChildren(...nodes);
    applyButton.hidden = !(applicable && chosen(input));
  }

  return { close };
}

/**
 * Removing subscribers named in a file or a plain list (sign-in e-mails or subscription ids, one
 * a line): "Preview" lists the subscriptions found, then "Remove N subscriptions" removes them
 * all. `levelName(code)` names a level; `onRemoved(count)` runs after the removal.
 */
export function openBulkRemove({ license, levelName, onRemoved, job }) {
  const path = `/agreements/${encodeURIComponent(license)}/subscriptions/bulk-remove`;
  const previewButton = h('button', { type: 'button', class: 'button', t: 'bulkRemove.preview', 'data-testid': 'bulk-remove-preview' });
  const cancelButton = h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel' });
  let confirmButton = null;   // offered after a preview without problems
  const { fileId, input, result, tracker, send, follow } = previewDialog({
    license,
    path,
    prefix: 'bulk-remove',
    accept: `${SPREADSHEETS},.txt,text/plain`,
    buttons: () => [previewButton, ...(confirmButton ? [confirmButton] : [])],
  });
  let messages = h('div');

  const { dialog, close } = openDialog({
    title: 'bulkRemove.title',
    testid: 'bulk-remove-dialog',
    content: ({ close: done }) => {
      cancelButton.addEventListener('click', done);
      return h('div', {},
        h('p', { t: 'bulkRemove.intro' }),
        h('label', { for: fileId, class: 'field__label', t: 'bulkRemove.file' }),
        input,
        tracker.element,
        result,
        messages,
        h('div', { class: 'form__actions' }, previewButton, cancelButton));
    },
  });

  // A removal is offered only for the preview on screen: another file, or a report with
  // problems, takes it back (and the message of a refused attempt with it).
  function withdrawRemoval() {
    confirmButton?.remove();
    confirmButton = null;
    messages.replaceChildren();
  }

  input.addEventListener('change', () => {
    withdrawRemoval();
    result.replaceChildren();
  });
  previewButton.addEventListener('click', () => send(true, show));
  dialog.addEventListener('close', () => tracker.closed());
  if (job) {
    const fresh = !isFinished(job);
    follow(job, show).then((report) => {
      if (fresh && report && report.applied) onRemoved?.(report.count);
    });
  }

  function show(report, checkOnly) {
    const lang = currentLanguage();
    let summaryKey = 'bulkRemove.nothing';
    if (report.applied) summaryKey = 'bulkRemove.removed';   // a removal's job, seen again after a reload
    else if (report.count) summaryKey = 'bulkRemove.previewed';
    const nodes = [report.error_count > 0
      ? h('p', { class: 'error', role: 'alert', 'data-testid': 'bulk-summary', t: 'bulkRemove.problems',
        params: { count: Number(report.error_count), rows: Number(report.rows) } })
      : h('p', { 'data-testid': 'bulk-summary', t: summaryKey, params: { count: Number(report.count) } })];
    if (report.subscriptions && report.subscriptions.length) {
      nodes.push(h('ul', { class: 'dialog__list', 'data-testid': 'bulk-remove-list' }, ...report.subscriptions.map((s) => h('li', { 'data-row': s.row, 'data-id': s.id },
        `${s.name ?? ''} (${s.sign_in_email ?? ''}, `, h('span', { format: () => levelName(s.level) }), ')'))));
      if (report.count > report.subscriptions.length) {
        nodes.push(h('p', { t: 'subscribers.andMore', params: { count: formatNumber(lang, report.count - report.subscriptions.length) } }));
      }
    }
    nodes.push(...errorNodes(report, license, tracker));
    withdrawRemoval();
    if (checkOnly && !report.error_count && report.count > 0) {
      // Removing needs the file: after a reload the preview is the server's, the file is not here.
      if (chosen(input)) offerRemoval(report.count);
      else nodes.push(h('p', { t: 'bulkJob.chooseAgain' }));
    }
    result.replaceChildren(...nodes);
  }

  // The destructive step goes through the confirming button every removal uses; the removal is
  // a job too, its progress shown in the dialog until it is done.
  function offerRemoval(count) {
    const n = count;
    let removed = false;   // false when the dialog was closed before the job had finished
    const action = confirmAction({
      close,
      label: 'bulkRemove.confirm',
      labelParams: { count: n },
      testid: 'bulk-remove-apply',
      messagesTestid: 'bulk-remove-message',
      run: async () => {
        const file = chosen(input);
        previewButton.disabled = true;
        try {
          await tracker.start(path, 'check_only=false', file);
          // Done, and said in the page's status line as the dialog closes: nothing to see again.
          await tracker.dismiss();
          removed = true;
        } catch (err) {
          if (isAbort(err)) return; // closed while removing: the result waits for the next visit
          // Refused as a whole (the list changed since the preview): show why, keep the dialog.
          if (err instanceof ApiError && err.problem && err.problem.report) {
            show(err.problem.report, false);
          }
          throw err;
        } finally {
          previewButton.disabled = false;
        }
      },
      onDone: () => {
        if (removed) notify({ kind: 'success', key: 'bulkRemove.removed', params: { count: n } });
      },
      isGone: () => false,
      onGone: () => {},
      after: async () => {
        if (removed) await onRemoved?.(n);
      },
    });
    messages.replaceWith(action.messages);
    messages = action.messages;
    confirmButton = action.confirm;
    cancelButton.before(confirmButton);
  }

  return { close };
}
