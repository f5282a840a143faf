// The pieces every page is made of, so pages read as content only.

import { h } from '../dom.js';
import { bind, t } from '../i18n.js';

/**
 * A page: its heading (focused after client-side navigation, so screen readers announce the new
 * page), an optional introduction, then `content`. `wide` for pages with cards and tables, `full`
 * for wide tables.
 */
export function pageView({ title, params, intro, introParams, wide = false, full = false }, ...content) {
  return h('div', { class: full ? 'page page--wide page--full' : wide ? 'page page--wide' : 'page' },
    h('h1', { class: 'page__title', tabindex: '-1', t: title, params, 'data-testid': 'page-title' }),
    intro && h('p', { class: 'page__intro', t: intro, params: introParams }),
    content);
}

/** "Question? Link" lines under a form, e.g. "No account yet? Create one". */
export function linkLine(textKey, linkKey, href) {
  return h('p', { class: 'page__aside' }, h('span', { t: textKey }), ' ', h('a', { href, t: linkKey }));
}

/** Replaces a page's content in place (a step of the same page) and moves focus to its heading. */
export function swapView(oldView, newView) {
  oldView.replaceWith(newView);
  newView.querySelector('h1')?.focus();
}

/** Sets the document title to message `key` (with `params`), kept translated. */
export function setPageTitle(key, params) {
  bind(document.querySelector('title'), 'app.pageTitle', { page: () => t(key, params) });
}
