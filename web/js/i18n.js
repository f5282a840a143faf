// Message catalogues and the page language. Elements bound to a message key (see `bind`) are
// re-translated in place when the language changes, so switching keeps whatever the user has
// typed and where the focus is, instead of rebuilding the page.

export const LANGUAGES = ['en', 'fr'];
const STORAGE_KEY = 'openseat.lang';

const catalogues = new Map();
const boundParams = new WeakMap();
const formatters = new WeakMap();
let language = 'en';
let messages = {};
let latestRequest = 0;

export function currentLanguage() {
  return language;
}

/** The language to start with: the saved choice, else the browser's, else English. */
export function preferredLanguage() {
  const saved = readSaved();
  if (LANGUAGES.includes(saved)) return saved;
  const browser = (navigator.languages && navigator.languages[0]) || navigator.language || '';
  return browser.toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

/** Loads the catalogue of `lang`, makes it current, remembers it and re-translates the page. */
export async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) lang = 'en';
  const request = ++latestRequest;
  const loaded = await loadCatalogue(lang);
  if (request !== latestRequest) return; // a later switch overtook this one
  messages = loaded;
  language = lang;
  save(lang);
  document.documentElement.lang = lang;
  translateTree(document);
  document.dispatchEvent(new CustomEvent('openseat:language', { detail: lang }));
}

/** Starts fetching a catalogue early, so the first render does not wait twice. */
export function preloadCatalogue(lang) {
  return loadCatalogue(lang).catch(() => null);
}

/**
 * The message for `key`. `{name}` placeholders take values from `params`; a function value is
 * called with the language, for values whose wording depends on it (dates, durations).
 *
 * A count is worded with a plural block, `{count, plural, one {# ligne} other {# lignes}}`: the
 * branch is chosen by the language's plural rules (Intl.PluralRules: in French 0 and 1 are
 * "one", in English only 1), `#` is the number written the language's way (1 234 / 1,234), and
 * `=0 {…}` may name an exact number. The count must then be passed as a number, not as text.
 */
export function t(key, params) {
  const template = Object.hasOwn(messages, key) ? messages[key] : key;
  if (!params) return template;
  return fill(expandPlurals(template, params, language), params, language);
}

function fill(text, params, lang) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!Object.hasOwn(params, name)) return whole;
    const value = params[name];
    return String(typeof value === 'function' ? value(lang) : value);
  });
}

const pluralRules = new Map();
const numberFormats = new Map();

/** The CLDR plural category of `n` in `lang`: "one", "other"… */
export function pluralCategory(lang, n) {
  if (!pluralRules.has(lang)) pluralRules.set(lang, new Intl.PluralRules(lang));
  return pluralRules.get(lang).select(n);
}

function numberText(lang, n) {
  if (!numberFormats.has(lang)) numberFormats.set(lang, new Intl.NumberFormat(lang, { maximumFractionDigits: 0 }));
  return numberFormats.get(lang).format(n);
}

/**
 * Replaces every `{name, plural, …}` block of `text` by its branch for params[name]. Exported
 * for the catalogue checks; a malformed block or a count that is not a number is left as written,
 * so the fault shows instead of a wrong word.
 */
export function expandPlurals(text, params, lang) {
  let out = '';
  let at = 0;
  const head = /\{(\w+),\s*plural,/g;
  for (let m = head.exec(text); m; m = head.exec(text)) {
    const block = parsePluralBlock(text, head.lastIndex);
    const count = params[m[1]];
    if (!block || typeof count !== 'number' || !Number.isFinite(count)) continue;
    const branch = block.branches[`=${count}`] ?? block.branches[pluralCategory(lang, count)] ?? block.branches.other;
    if (branch === undefined) continue;
    out += text.slice(at, m.index) + branch.replace(/#/g, numberText(lang, count));
    at = block.end;
    head.lastIndex = block.end;
  }
  return out + text.slice(at);
}

/** Reads `one {…} other {…}}` from `from`: the branches and the index after the closing brace. */
function parsePluralBlock(text, from) {
  const branches = {};
  let i = from;
  for (;;) {
    while (/\s/.test(text[i] || '')) i++;
    if (text[i] === '}') return Object.keys(branches).length ? { branches, end: i + 1 } : null;
    const selector = /^(=\d+|zero|one|two|few|many|other)\s*\{/.exec(text.slice(i));
    if (!selector) return null;
    i += selector[0].length;
    let depth = 1;
    const start = i;
    for (; i < text.length && depth; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}') depth--;
    }
    if (depth) return null;
    branches[selector[1]] = text.slice(start, i - 1);
  }
}

/**
 * A date for running text, the language's long form: "December 5, 2029", "5 décembre 2029"
 * (French month names lower-case, as Intl writes them). `value` is a calendar date
 * "YYYY-MM-DD" (no time zone), Unix seconds or an ISO 8601 moment (shown in the user's zone).
 */
export function formatLongDate(lang, value) {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(typeof value === 'string' ? value : '');
  if (day) {
    const date = new Date(Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3])));
    return longDateText(lang, date, 'UTC');
  }
  let when = null;
  if (typeof value === 'number' && Number.isFinite(value)) when = new Date(value * 1000);
  else if (typeof value === 'string' && Number.isFinite(Date.parse(value))) when = new Date(Date.parse(value));
  if (!when) return typeof value === 'string' ? value : '';
  return longDateText(lang, when, undefined);
}

// French writes the first of the month "1er", as the e-mails do; Intl writes a bare "1".
function longDateText(lang, date, timeZone) {
  const parts = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone }).formatToParts(date);
  return parts.map((p) => (lang === 'fr' && p.type === 'day' && p.value === '1' ? '1er' : p.value)).join('');
}

/**
 * A moment (Unix seconds or ISO 8601) for running text, in the user's time zone: its long date
 * and its time, "December 7, 2026 at 7:45 PM", "7 décembre 2026 à 19:45".
 */
export function formatLongDateTime(lang, value) {
  let when = null;
  if (typeof value === 'number' && Number.isFinite(value)) when = new Date(value * 1000);
  else if (typeof value === 'string' && Number.isFinite(Date.parse(value))) when = new Date(Date.parse(value));
  if (!when) return typeof value === 'string' ? value : '';
  const parts = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short' }).formatToParts(when);
  return parts.map((p) => (lang === 'fr' && p.type === 'day' && p.value === '1' ? '1er' : p.value)).join('');
}

/** A message parameter that words `value` as a long date and time in the page language. */
export function longDateTime(value) {
  return (lang) => formatLongDateTime(lang, value);
}

/** A message parameter that words `value` as a long date in whatever the page language is. */
export function longDate(value) {
  return (lang) => formatLongDate(lang, value);
}

export function hasMessage(key) {
  return Object.hasOwn(messages, key);
}

/** Sets `el`'s text to message `key` and keeps it translated across language switches. */
export function bind(el, key, params) {
  el.dataset.i18n = key;
  if (params) boundParams.set(el, params);
  else boundParams.delete(el);
  el.textContent = t(key, params);
  return el;
}

/**
 * Sets `el`'s text to `format(language)` and redoes it when the language changes: for values the
 * browser words rather than the catalogue (dates, country names).
 */
export function bindFormat(el, format) {
  el.dataset.i18nFormat = '';
  formatters.set(el, format);
  el.textContent = format(language);
  return el;
}

/** Like `bind`, for attributes: `{ 'aria-label': 'lang.switch' }`. */
export function bindAttrs(el, attrs) {
  el.dataset.i18nAttr = Object.entries(attrs).map(([attr, key]) => `${attr}:${key}`).join(' ');
  translateAttrs(el);
  return el;
}

function translateTree(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n, boundParams.get(el));
  }
  for (const el of root.querySelectorAll('[data-i18n-attr]')) translateAttrs(el);
  for (const el of root.querySelectorAll('[data-i18n-format]')) {
    const format = formatters.get(el);
    if (format) el.textContent = format(language);
  }
}

function translateAttrs(el) {
  for (const pair of el.dataset.i18nAttr.split(' ')) {
    const [attr, key] = pair.split(':');
    el.setAttribute(attr, t(key));
  }
}

async function loadCatalogue(lang) {
  if (!catalogues.has(lang)) {
    const pending = fetch(`/i18n/${lang}.json`, { credentials: 'same-origin' }).then((response) => {
      if (!response.ok) throw new Error(`catalogue ${lang}: HTTP ${response.status}`);
      return response.json();
    });
    catalogues.set(lang, pending);
    // A failed fetch must not stick: the next switch tries again.
    pending.catch(() => catalogues.delete(lang));
  }
  return catalogues.get(lang);
}

// Storage can be unavailable (private modes, disabled cookies); the choice then lasts the visit.
function readSaved() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function save(lang) {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    /* see readSaved */
  }
}
