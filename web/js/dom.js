// A tiny element builder. Text only ever goes in through textContent, never as HTML, so names and
// addresses typed by users cannot inject markup.

import { bind, bindAttrs, bindFormat } from './i18n.js';

/**
 * h('p', { t: 'home.noAgreements' })           text from the catalogue (kept translated)
 * h('h1', { t: 'home.title', params: { name } }) ... with placeholders
 * h('nav', { tAttrs: { 'aria-label': 'nav.label' } })
 * h('td', { format: (lang) => formatDate(lang, date) })  text worded per language (kept in step)
 * h('button', { type: 'button', onclick: fn, class: 'button' }, child, 'literal text', [more])
 * Attribute values: true sets an empty attribute, false/null/undefined leave it out.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 't' || name === 'params' || name === 'format') continue;
    if (name === 'tAttrs') bindAttrs(el, value);
    else if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) {
      el.setAttribute(name, String(value));
    }
  }
  if (props.t) bind(el, props.t, props.params);
  else if (props.format) bindFormat(el, props.format);
  el.append(...flatten(children));
  return el;
}

function flatten(children) {
  return children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false);
}

/** Unique ids for label/field/error wiring, stable enough for one page view. */
let counter = 0;
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}
