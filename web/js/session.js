// The signed-in user, as far as this page knows, and the actions that change it. Other modules
// learn about changes through the 'openseat:user' event instead of importing each other.

import { api, refreshSession } from './api.js';
import { LANGUAGES, currentLanguage, setLanguage } from './i18n.js';

let user = null;

export function currentUser() {
  return user;
}

/** Asks the server who is signed in (this also fetches the CSRF token). */
export async function loadSession() {
  try {
    const session = await refreshSession();
    setUser(session.authenticated ? session.user : null);
  } catch {
    setUser(null); // server unreachable: show the public pages; actions will report the problem
  }
  return user;
}

export async function signIn(email, password) {
  const result = await api('POST', '/session', { email, password });
  setUser(result.user);
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

function setUser(next) {
  user = next || null;
  document.dispatchEvent(new CustomEvent('openseat:user', { detail: user }));
}
