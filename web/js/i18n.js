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
 */
export function t(key, params) {
  const template = Object.hasOwn(messages, key) ? messages[key] : key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!Object.hasOwn(params, name)) return whole;
    const value = params[name];
    return String(typeof value === 'function' ? value(language) : value);
  });
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
