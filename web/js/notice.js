// The page's status line: one polite live region, outside the routed view so that messages
// survive page changes (e.g. "You are signed out" shown on the sign-in page) and so that screen
// readers announce them. Only one message is shown at a time.

import { h } from './dom.js';

let pendingFlash = null;

/**
 * Shows a message. `kind` is 'info', 'success' or 'error'. `action` adds a link
 * ({ key, href }) or a button ({ key, onClick }) after the text.
 */
export function notify({ kind = 'info', key, params, action }) {
  const parts = [h('p', { class: 'notice__text', t: key, params })];
  if (action && action.href) {
    parts.push(h('a', { class: 'notice__action', href: action.href, t: action.key, 'data-testid': 'notice-action' }));
  } else if (action) {
    parts.push(h('button', {
      type: 'button',
      class: 'button button--small notice__action',
      t: action.key,
      'data-testid': 'notice-action',
      onclick: action.onClick,
    }));
  }
  region().replaceChildren(h('div', { class: `notice notice--${kind}`, 'data-kind': kind }, parts));
}

export function clearNotice() {
  region().replaceChildren();
}

/** Keeps a message for the next page, for actions that end by navigating. */
export function flash(message) {
  pendingFlash = message;
}

/** Called on every page change: shows the flashed message, or clears the previous page's. */
export function showFlash() {
  if (pendingFlash) notify(pendingFlash);
  else clearNotice();
  pendingFlash = null;
}

function region() {
  return document.getElementById('status');
}
