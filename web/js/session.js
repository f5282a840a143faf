// The signed-in user, as far as this page knows, and the actions that change it. Other modules
// learn about changes through the 'openseat:user' event instead of importing each other.

import { api, refreshSession } from './api.js';
import { LANGUAGES, currentLanguage, setLanguage } from './i18n.js';

const RETURN_KEY = 'openseat.return';
const RETURN_LIFETIME_MS = 30 * 60 * 1000;

let user = null;
// What the portal makes of the user: a role on some agreement (recognized), and membership of a
// partner organization (may use the Open License partner registration).
let standing = { recognized: false, partner: false };

export function currentUser() {
  return user;
}

/** `{ recognized, partner }` as of the last GET /api/v1/session. */
export function currentStanding() {
  return standing;
}

/** Asks the server who is signed in (this also fetches the CSRF token). */
export async function loadSession() {
  try {
    const session = await refreshSession();
    readStanding(session);
    setUser(session.authenticated ? session.user : null);
  } catch {
    setUser(null); // server unreachable: show the public pages; actions will report the problem
  }
  return user;
}

/**
 * Asks the server again whether the user is recognized (registrations and removals change it).
 * Rejects with the ApiError, for the page to report.
 */
export async function refreshStanding() {
  const session = await refreshSession();
  readStanding(session);
  if (!session.authenticated) {
    // Signed out elsewhere in the meantime.
    document.dispatchEvent(new CustomEvent('openseat:session-ended'));
  }
  return standing;
}

/**
 * The password step of signing in. Resolves to `{ user }` once signed in, or, for an account with
 * two-step sign-in on, to `{ challenge, expiresIn }`: the second step (signInWithCode) trades
 * the challenge and a code for the session.
 */
export async function signIn(email, password) {
  const result = await api('POST', '/session', { email, password });
  if (result && result.mfa_required) return { challenge: result.challenge, expiresIn: result.expires_in };
  return { user: await signedIn(result) };
}

/** The second step: `proof` is `{ code }` (from the app) or `{ recovery_code }`. */
export async function signInWithCode(challenge, proof) {
  return signedIn(await api('POST', '/session/mfa', { challenge, ...proof }));
}

async function signedIn(result) {
  setUser(result.user);
  // Whether the user is recognized only comes with GET /api/v1/session.
  await refreshStanding().catch(() => null);
  // The profile's language is the user's saved choice and follows them across devices.
  if (LANGUAGES.includes(user.language) && user.language !== currentLanguage()) {
    await setLanguage(user.language);
  }
  return user;
}

export async function signOut() {
  await api('DELETE', '/session');
  setUser(null);
}

/** For when the server says the session is gone (expired, password reset elsewhere). */
export function forgetUser() {
  setUser(null);
}

/** Switches the page language and, for a signed-in user, saves it in their profile. */
export async function chooseLanguage(lang) {
  await setLanguage(lang);
  if (user && user.language !== lang) {
    const result = await api('PATCH', '/account', { language: lang });
    setUser(result.user);
  }
}

/**
 * Remembers a page to come back to after signing in, for links that may need an account to be
 * created first (sign-up and the confirmation mail can take the user through another tab).
 */
export function rememberReturn(path) {
  try {
    localStorage.setItem(RETURN_KEY, JSON.stringify({ path, at: Date.now() }));
  } catch {
    /* storage unavailable: the return then only survives within this tab's history */
  }
}

/** The remembered page, if it is recent enough to still make sense. */
export function pendingReturn() {
  try {
    const saved = JSON.parse(localStorage.getItem(RETURN_KEY) || 'null');
    if (saved && typeof saved.path === 'string' && Date.now() - saved.at < RETURN_LIFETIME_MS) return saved.path;
  } catch {
    /* nothing usable */
  }
  return null;
}

export function forgetReturn() {
  try {
    localStorage.removeItem(RETURN_KEY);
  } catch {
    /* see rememberReturn */
  }
}

function readStanding(session) {
  standing = session.authenticated
    ? { recognized: session.recognized === true, partner: session.partner === true }
    : { recognized: false, partner: false };
  // The header shows the partner organization's link by it.
  document.dispatchEvent(new CustomEvent('openseat:standing', { detail: standing }));
}

function setUser(next) {
  user = next || null;
  document.dispatchEvent(new CustomEvent('openseat:user', { detail: user }));
}
