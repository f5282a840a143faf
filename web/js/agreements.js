// The agreements the user may manage in the administration portal (GET /api/v1/agreements), as
// shown by the picker on the start page and in the header inside an agreement.

import { api } from './api.js';

/** The address of an agreement's page, and of its Partners page. */
export function agreementHref(license, part = '') {
  return `/agreements/${encodeURIComponent(license)}${part ? `/${part}` : ''}`;
}

/** The list, fresh from the server. */
export async function loadAgreements() {
  const result = await api('GET', '/agreements');
  return Array.isArray(result?.agreements) ? result.agreements : [];
}

const LAST_KEY = 'openseat.agreement';

/** Remembers the agreement last opened in this tab, for the start page's picker to show. */
export function rememberAgreement(license) {
  try {
    sessionStorage.setItem(LAST_KEY, license);
  } catch {
    /* storage unavailable: the picker shows the first agreement */
  }
}

export function lastAgreement() {
  try {
    return sessionStorage.getItem(LAST_KEY);
  } catch {
    return null;
  }
}
