// The subscribers list's state, and nothing on screen: what is asked (the filter box's words,
// the level, country and downloads filters, the sort column and order), what came back (the
// rows of the pages fetched so far, the total and whether it is exact, the next page's cursor)
// and which rows are selected. It fetches the pages — keyset pages of the server's default size,
// a newer request cancelling an older one — and tells whoever shows the list through callbacks.
//
// Exports: createListState.

import { api, isAbort } from '../api.js';
import { LIMITS } from '../constants.js';

const SEARCH_DELAY_MS = 250;
const FILTERS = ['q', 'level', 'country', 'downloads'];

/**
 * The list of the agreement whose API path is `base`. Callbacks, each called synchronously:
 * `requesting()` as a fetch starts (the query is final: export links, busy marks),
 * `loaded()` once a page is in, `failed(err, retry)` when one could not be fetched,
 * `settled()` once the latest fetch is over either way, and `live()`: whether the list is
 * still shown (answers for one that is not are dropped).
 */
export function createListState({ base, requesting, loaded, failed, settled, live }) {
  const query = { q: '', level: '', country: '', downloads: '', sort: 'name', order: 'asc' };
  const selected = new Set();
  let items = [];
  let total = 0;
  let totalExact = true;
  let nextCursor = null;
  let hasLoaded = false;
  let controller = null;
  let searchTimer = 0;

  /** The current filters and sort as query parameters. */
  function filterParams() {
    const params = new URLSearchParams();
    for (const key of FILTERS) if (query[key]) params.set(key, query[key]);
    params.set('sort', query.sort);
    params.set('order', query.order);
    return params;
  }

  function path(cursor) {
    const params = filterParams();
    params.set('limit', String(LIMITS.LIMIT_PAGE_SIZE_DEFAULT));
    if (cursor) params.set('cursor', cursor);
    return `${base}/subscriptions?${params}`;
  }

  /** Fetches the first page for the current filters (or, `more`, the next one); a newer call cancels an older one. */
  async function load({ more = false } = {}) {
    if (more && !nextCursor) return;
    controller?.abort();
    const mine = new AbortController();
    controller = mine;
    clearTimeout(searchTimer);
    requesting();
    try {
      const data = await api('GET', path(more ? nextCursor : null), undefined, { signal: mine.signal });
      if (controller !== mine || !live()) return;
      const page = Array.isArray(data?.items) ? data.items : [];
      items = more ? items.concat(page) : page;
      total = Number(data?.total) || 0;
      // Past a thousand matches the server stops counting: "more than 1,000".
      totalExact = data?.total_exact !== false;
      nextCursor = data?.next_cursor || null;
      hasLoaded = true;
      // Only what is shown can stay selected.
      const shown = new Set(items.map((item) => item.id));
      for (const id of [...selected]) if (!shown.has(id)) selected.delete(id);
      loaded();
    } catch (err) {
      if (isAbort(err) || controller !== mine || !live()) return;
      failed(err, () => load({ more }));
    } finally {
      if (controller === mine) {
        controller = null;
        settled();
      }
    }
  }

  return {
    load,
    filterParams,
    get items() { return items; },
    get total() { return total; },
    get totalExact() { return totalExact; },
    get hasMore() { return Boolean(nextCursor); },
    get hasLoaded() { return hasLoaded; },
    get sort() { return query.sort; },
    get order() { return query.order; },
    /** Whether a filter narrows the list (the filter box included). */
    get filtered() { return FILTERS.some((key) => Boolean(query[key])); },

    /** The filter box's text: fetched once typing pauses, unless it means the same words. */
    searchSoon(text) {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => {
        const q = text.trim();
        if (q === query.q) return;
        query.q = q;
        load();
      }, SEARCH_DELAY_MS);
    },
    /** Sets the `level`, `country` or `downloads` filter and fetches. */
    filter(key, value) {
      query[key] = value;
      load();
    },
    /** Sorts by `field`: the current column turns around, another starts ascending. Fetching is the caller's. */
    sortBy(field) {
      if (query.sort === field) query.order = query.order === 'asc' ? 'desc' : 'asc';
      else Object.assign(query, { sort: field, order: 'asc' });
    },

    selected,
    /** The selected rows, in the list's order. */
    selectedItems() {
      return items.filter((item) => selected.has(item.id));
    },
    /** Selects or unselects every row shown. */
    selectShown(on) {
      for (const item of items) {
        if (on) selected.add(item.id);
        else selected.delete(item.id);
      }
    },
  };
}
