// Presenting API data: dates, country and language names worded by the browser for the page
// language, status badges, data tables, pages that load their content, and the copy button.

import { api, ApiError } from './api.js';
import { PROBLEM } from './constants.js';
import { h } from './dom.js';
import { currentLanguage } from './i18n.js';
import { clearNotice, notify } from './notice.js';
import { problemNotice, reportProblem } from './problems.js';

const displayNames = new Map();

/** The name of `code` in `lang`, worded by the browser (Intl.DisplayNames of `type`), or the code itself. */
function displayName(type, lang, code) {
  if (!code) return '';
  try {
    const key = `${type} ${lang}`;
    if (!displayNames.has(key)) displayNames.set(key, new Intl.DisplayNames([lang], { type }));
    return displayNames.get(key).of(code) || code;
  } catch {
    return code;
  }
}

/** The name of country `code` in `lang` ("France", "Allemagne"), or the code itself. */
export function countryName(lang, code) {
  return displayName('region', lang, code);
}

/** "French", "français"…: the name of language `code` in `lang`, or the code itself. */
export function languageName(lang, code) {
  return displayName('language', lang, code);
}

/** "2025-11-24" (a calendar date, no time zone) worded for `lang`: "Nov 24, 2025", "24 nov. 2025". */
export function formatDate(lang, iso) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || '');
  if (!match) return iso || '';
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' }).format(date);
}

/** A moment given in Unix seconds or as an ISO 8601 string ("2025-11-24T14:05:00Z"), or null. */
export function toDate(value) {
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value * 1000);
  if (typeof value === 'string' && value) {
    const time = Date.parse(value);
    if (Number.isFinite(time)) return new Date(time);
  }
  return null;
}

/**
 * A moment (Unix seconds or ISO 8601), as a date and time of the user's time zone worded for
 * `lang`: "Nov 24, 2025, 2:05 PM", "24 nov. 2025, 14:05".
 */
export function formatDateTime(lang, value) {
  const when = toDate(value);
  if (!when) return '';
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(when);
}

/** A moment's day only: "Nov 24, 2025". */
export function formatDay(lang, value) {
  const when = toDate(value);
  if (!when) return '';
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium' }).format(when);
}

/** A <time> element for a moment (Unix seconds or ISO 8601), kept in the page language. */
export function moment(value, { day = false } = {}) {
  const when = toDate(value);
  return h('time', {
    datetime: when ? when.toISOString() : null,
    format: (lang) => (day ? formatDay(lang, value) : formatDateTime(lang, value)),
  });
}

/** A whole number with the language's grouping: 100,000 / 100 000. */
export function formatNumber(lang, value) {
  return typeof value === 'number' ? new Intl.NumberFormat(lang).format(value) : String(value ?? '');
}

/** An element's content for a date, kept in the page language. */
export const date = (iso) => ({ format: (lang) => formatDate(lang, iso) });
export const country = (code) => ({ format: (lang) => countryName(lang, code) });
export const number = (value) => ({ format: (lang) => formatNumber(lang, value) });

const ROLE = { super_admin: 'role.superAdmin', admin: 'role.admin', partner_manager: 'role.partnerManager', partner: 'role.partner' };

/** Props for an element that names the user's role on an agreement. */
export function role(name) {
  return ROLE[name] ? { t: ROLE[name] } : { format: () => name ?? '' };
}

const STATUS = { active: 'lsc.statusActive', expired: 'lsc.statusExpired', disabled: 'lsc.statusDisabled' };

/** An agreement status as a badge; the word says it, the colour only repeats it. */
export function statusBadge(status) {
  const key = STATUS[status];
  return h('span', { class: `badge badge--${key ? status : 'other'}`, t: key, 'data-testid': 'status-badge' }, key ? null : status);
}

/**
 * A data table. `columns`: [{ key (header text), cell(row) → node or props for a <td> }].
 * Narrow screens scroll it sideways inside a focusable region, so keyboards can scroll too.
 */
export function dataTable({ labelledBy, columns, rows, testid, rowTestid }) {
  return h('div', { class: 'table-wrap', role: 'group', tabindex: '0', 'aria-labelledby': labelledBy },
    h('table', { class: 'table', 'aria-labelledby': labelledBy, 'data-testid': testid },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : null, t: c.key })))),
      h('tbody', {}, rows.map((row) => h('tr', { 'data-testid': rowTestid && rowTestid(row) },
        columns.map((c, i) => {
          const content = c.cell(row);
          const props = { class: c.numeric ? 'num' : null };
          if (i === 0) return content instanceof Node ? h('th', { scope: 'row', ...props }, content) : h('th', { scope: 'row', ...props, ...content });
          return content instanceof Node ? h('td', props, content) : h('td', { ...props, ...content });
        }))))));
}

/** An authorization number ("ABCDE-FGHJ-KMNPQ") with a button that copies it. */
export function authorizationNumber(value) {
  const grouped = groupAuthorization(value);
  const button = h('button', {
    type: 'button',
    class: 'button button--small',
    'data-testid': 'copy-authorization',
    onclick: () => copyText(grouped),
  }, h('span', { t: 'lsc.copy' }), ' ', h('span', { class: 'visually-hidden', t: 'lsc.copyWhat' }));
  return h('span', { class: 'copyable' },
    h('code', { class: 'code', 'data-testid': 'authorization-number' }, grouped),
    button);
}

/** The grouped display form: 14 characters as 5-4-5; anything else as it came. */
export function groupAuthorization(value) {
  const plain = String(value || '').replace(/[\s.-]/g, '').toUpperCase();
  if (plain.length !== 14) return String(value || '');
  return `${plain.slice(0, 5)}-${plain.slice(5, 9)}-${plain.slice(9)}`;
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    notify({ kind: 'success', key: 'lsc.copied', params: { value: text } });
  } catch {
    // No clipboard (a page not served over HTTPS, or permission refused): say how to do it by hand.
    notify({ kind: 'info', key: 'lsc.copyFailed', params: { value: text } });
  }
}

/**
 * The part of a page that shows data from the API. Shows "Loading…" (and marks itself busy)
 * until `load()` resolves, then `show(data)`'s content. A failure goes to the status line with a
 * retry button, unless `onProblem(err)` returns content to show instead, or true when it has
 * dealt with the failure itself (e.g. by showing a not-found view in place of the page).
 * The data is fetched again when the user's language changes (names come from the server in it),
 * and when the page calls `section.reload()`.
 */
export function loadingSection({ load, show, onProblem, testid }) {
  const section = h('div', { class: 'loading-section', 'data-testid': testid, 'aria-busy': 'true' },
    h('p', { class: 'loading', t: 'lsc.loading' }));
  let shownLanguage = currentLanguage();

  async function run() {
    section.setAttribute('aria-busy', 'true');
    try {
      const data = await load();
      if (!section.isConnected) return; // the user has moved on
      section.replaceChildren(...[show(data)].flat().filter(Boolean));
    } catch (err) {
      if (!section.isConnected) return;
      const instead = onProblem && onProblem(err);
      if (instead === true) return;
      if (instead) {
        section.replaceChildren(...[instead].flat());
      } else {
        section.replaceChildren(h('p', { class: 'loading', t: 'lsc.loadFailed' }));
        if (err instanceof ApiError && err.code !== PROBLEM.UNAUTHENTICATED) {
          // A notice that says what to do elsewhere (a link) keeps it; retrying would not help.
          const notice = problemNotice(err);
          notify({ ...notice, action: notice.action ?? { key: 'lsc.retry', onClick: retry } });
        } else {
          reportProblem(err);
        }
      }
    } finally {
      section.removeAttribute('aria-busy');
    }
  }

  function retry() {
    clearNotice();
    section.replaceChildren(h('p', { class: 'loading', t: 'lsc.loading' }));
    run();
  }

  // The saved language arrives with the user object once the server has it.
  const onUser = (event) => {
    if (!section.isConnected) {
      document.removeEventListener('openseat:user', onUser);
      return;
    }
    const lang = event.detail?.language;
    if (lang && lang !== shownLanguage) {
      shownLanguage = lang;
      run();
    }
  };
  document.addEventListener('openseat:user', onUser);
  run();
  /** Fetches and shows the data again (after a change); resolves once it is shown. */
  section.reload = run;
  return section;
}

/** GET helper for the pages: '/lsc/relationships' → the parsed body. */
export const fetchJson = (path) => api('GET', path);
