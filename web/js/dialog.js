// Modal dialogs on the native <dialog>: the rest of the page is inert while one is open, Tab and
// Shift+Tab stay inside it, Escape closes it, and the focus goes back to where it was (or to a
// fallback when that element is gone, e.g. a table row the dialog's action removed).
//
// The page's status line is behind the dialog, so dialogs show their own messages.

import { h, uid } from './dom.js';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), '
  + 'textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Opens a modal dialog. `title` (key) and `titleParams` make its heading and accessible name;
 * `content({ close })` returns its body. The first element with `data-autofocus` gets the focus,
 * else the first field or button. `returnFocus()` may name the element to focus afterwards when
 * the one that opened the dialog is gone; `describedBy`: the id of the text that explains it.
 */
export function openDialog({ title, titleParams, content, testid, returnFocus, describedBy }) {
  const opener = document.activeElement;
  const titleId = uid('dialog-title');
  const dialog = h('dialog', {
    class: 'dialog',
    'aria-labelledby': titleId,
    'aria-describedby': describedBy,
    'data-testid': testid,
  });
  const close = () => {
    if (dialog.open) dialog.close();
  };
  dialog.append(
    h('div', { class: 'dialog__body' },
      h('h2', { class: 'dialog__title', id: titleId, t: title, params: titleParams }),
      content({ close })));

  dialog.addEventListener('keydown', (event) => {
    if (event.key === 'Tab') trapTab(dialog, event);
  });
  // A click on the backdrop (outside the box) does nothing on purpose: a half-filled form must
  // not vanish by accident. Escape and the dialog's own buttons close it.
  dialog.addEventListener('close', () => {
    dialog.remove();
    // The browser puts the focus back on the opener itself; this is for when it could not (the
    // opener is gone), and it leaves alone a focus the next page has already taken.
    const active = document.activeElement;
    if (!active || active === document.body) {
      const target = opener && opener.isConnected && opener !== document.body ? opener : returnFocus?.();
      target?.focus();
    }
  }, { once: true });

  document.body.append(dialog);
  dialog.showModal();
  const first = dialog.querySelector('[data-autofocus]') || dialog.querySelector('input, select, textarea') || dialog.querySelector(FOCUSABLE);
  first?.focus();
  return { dialog, close };
}

/** Closes every open dialog (the page is changing). */
export function closeDialogs() {
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
}

function trapTab(dialog, event) {
  const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null || el === document.activeElement);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}
