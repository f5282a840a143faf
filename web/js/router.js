// History-API routing: links to pages of this site are followed without reloading, and the
// back/forward buttons show the right page. The page table itself lives in app.js.

let render = null;
let shown = null;

/** Starts routing; `renderFn({ focus })` draws the page for the current location. */
export function startRouter(renderFn) {
  render = renderFn;
  window.addEventListener('popstate', () => {
    // A fragment-only change (an in-page anchor) also fires popstate: nothing to redraw then.
    if (currentKey() !== shown) draw(true);
  });
  document.addEventListener('click', followLink);
  draw(false);
}

/**
 * Goes to `to` (path and query). `state` is kept with the history entry (e.g. an address to
 * prefill); `focus: false` leaves the focus alone (redirects during the first page load).
 */
export function navigate(to, { replace = false, state = null, focus = true } = {}) {
  history[replace ? 'replaceState' : 'pushState'](state, '', to);
  draw(focus);
}

/**
 * Whether `path` is a page of this site to continue to (after sign-in, or carried through
 * sign-up and the confirmation mail): one leading '/', printable ASCII, no space or
 * backslash — never something a browser would read as another site ('//host', '/\\host',
 * 'https:'). The server holds sign-up's `next` to the same rule.
 */
export function isSameSitePath(path) {
  return typeof path === 'string' && path.length <= 512 && /^\/(?![/\\])[\x21-\x5b\x5d-\x7e]*$/.test(path);
}

function draw(focus) {
  shown = currentKey();
  render({ focus });
}

function currentKey() {
  return location.pathname + location.search;
}

function followLink(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return; // new tab/window
  const link = event.target.closest('a[href]');
  if (!link || link.target || link.hasAttribute('download')) return;
  if (link.hasAttribute('data-reload')) return; // wants a real page load (e.g. a server redirect)
  const url = new URL(link.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  if (url.pathname + url.search === currentKey() && url.hash) return; // in-page anchor
  event.preventDefault();
  navigate(url.pathname + url.search);
}
