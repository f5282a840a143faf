// Turns API failures into messages from the catalogue. Problem codes map to keys `problem.CODE`;
// codes the catalogue does not know fall back to a generic message.

import { ApiError } from './api.js';
import { FIELD, PROBLEM } from './constants.js';
import { hasMessage } from './i18n.js';
import { notify } from './notice.js';

/** `{ kind, key, params, action? }` for notify(). */
export function problemNotice(err) {
  const code = err && err.code ? err.code : 'internal';
  if (code === PROBLEM.THROTTLED) {
    return { kind: 'error', key: 'problem.throttled', params: { when: waitPhrase(err.retryAfter) } };
  }
  if (code === PROBLEM.NO_MATCH && Number.isInteger(err.problem?.params?.tries_left)) {
    // How many mismatches are left before the partner registration locks for a while.
    return { kind: 'error', key: 'problem.no_match_tries', params: { count: Math.max(0, err.problem.params.tries_left) } };
  }
  if (code === PROBLEM.STRONG_AUTH_REQUIRED) {
    // What to do is on the account page: turning two-step sign-in on, then signing in again.
    return { kind: 'error', key: 'problem.strong_auth_required', action: { key: 'problem.strongAuthAction', href: '/account' } };
  }
  const key = `problem.${code}`;
  return { kind: 'error', key: hasMessage(key) ? key : 'problem.generic' };
}

/** Shows any failure of an action in the status line. */
export function reportProblem(err) {
  if (!(err instanceof ApiError)) {
    console.error(err); // a bug or a failed catalogue load: still tell the user something
    notify({ kind: 'error', key: 'problem.generic' });
  } else if (err.code === PROBLEM.UNAUTHENTICATED) {
    // The session ended (expired, or signed out elsewhere): app.js sends the user to sign in.
    document.dispatchEvent(new CustomEvent('openseat:session-ended'));
  } else {
    notify(problemNotice(err));
  }
}

/** Catalogue key for a field error code from the API or from local checks. */
export function fieldErrorKey(code) {
  const key = `field.${code}`;
  return hasMessage(key) ? key : 'field.invalid_value';
}

/**
 * `{ key, params }` wording a field error from the API (`{ code, params }`), in a form or a file's
 * report alike: an invalid_value that says which list it was off (`params.field`) gets that list's
 * message, naming the allowed values when the server gave them (`params.allowed`); any other error
 * its code's message.
 */
export function fieldErrorMessage(error) {
  const code = error?.code;
  const field = error?.params?.field;
  const specific = code === FIELD.INVALID_VALUE && field ? `field.invalid_value.${field}` : null;
  return {
    key: specific && hasMessage(specific) ? specific : fieldErrorKey(code),
    params: { allowed: error?.params?.allowed ?? '' },
  };
}

// "in 15 minutes" / "dans 15 minutes", worded by the browser for the current language.
function waitPhrase(seconds) {
  const wait = Math.max(1, Math.ceil(Number(seconds) || 60));
  return (lang) => {
    const format = new Intl.RelativeTimeFormat(lang, { numeric: 'always' });
    return wait < 90 ? format.format(wait, 'second') : format.format(Math.ceil(wait / 60), 'minute');
  };
}
