// Entry point: finds out who is signed in and which language to speak, then routes.

import { LANGUAGES, preferredLanguage, preloadCatalogue, setLanguage } from './i18n.js';
import { closeDialogs } from './dialog.js';
import { initHeader, markCurrentPage, showAgreementBar } from './header.js';
import { flash, showFlash } from './notice.js';
import { navigate, startRouter } from './router.js';
import { currentUser, forgetUser, loadSession, rememberReturn } from './session.js';
import account from './pages/account.js';
import activity from './pages/activity.js';
import admins from './pages/admins.js';
import agreement from './pages/agreement.js';
import agreementTokens from './pages/agreement-tokens.js';
import agreementWebhooks from './pages/agreement-webhooks.js';
import agreementProvisioning from './pages/agreement-provisioning.js';
import handoff from './pages/handoff.js';
import home from './pages/home.js';
import { setPageTitle } from './pages/layout.js';
import license from './pages/license.js';
import lsc from './pages/lsc.js';
import notFound from './pages/not-found.js';
import orderNew from './pages/order-new.js';
import jobs from './pages/jobs.js';
import partnerOrganization from './pages/partner-organization.js';
import partners from './pages/partners.js';
import preferences from './pages/preferences.js';
import reset from './pages/reset.js';
import signin from './pages/signin.js';
import signup from './pages/signup.js';
import tokens from './pages/tokens.js';
import usage from './pages/usage.js';
import verify from './pages/verify.js';

// access: 'user' pages need a session, 'guest' pages make no sense with one, 'any' is either.
// A 'user' page may also say what the sign-in page should tell the user (signInNotice) and that
// the way back to it must survive signing up first (returnAfterSignIn). Pages with
// agreementContext show the agreement picker in the header.
const ROUTES = new Map([
  ['/signin', signin],
  ['/signup', signup],
  ['/verify', verify],
  ['/reset', reset],
  ['/home', home],
  ['/handoff', handoff],
  ['/account', account],
  ['/account/tokens', tokens],
  ['/lsc', lsc],
  ['/lsc/orders/new', orderNew],
  ['/partner-organization', partnerOrganization],
]);

// Pages whose path carries a value, e.g. /lsc/licenses/40318275; the value reaches view() as
// `param` (decoded) and the page's title as {param}.
const PATTERNS = [
  [/^\/lsc\/licenses\/([^/]+)$/, license],
  [/^\/agreements\/([^/]+)$/, agreement],
  [/^\/agreements\/([^/]+)\/partners$/, partners],
  [/^\/agreements\/([^/]+)\/jobs$/, jobs],
  [/^\/agreements\/([^/]+)\/admins$/, admins],
  [/^\/agreements\/([^/]+)\/preferences$/, preferences],
  [/^\/agreements\/([^/]+)\/activity$/, activity],
  [/^\/agreements\/([^/]+)\/usage$/, usage],
  [/^\/agreements\/([^/]+)\/tokens$/, agreementTokens],
  [/^\/agreements\/([^/]+)\/webhooks$/, agreementWebhooks],
  [/^\/agreements\/([^/]+)\/provisioning$/, agreementProvisioning],
];

function findPage(path) {
  if (ROUTES.has(path)) return { page: ROUTES.get(path) };
  for (const [pattern, page] of PATTERNS) {
    const match = pattern.exec(path);
    if (!match) continue;
    try {
      return { page, param: decodeURIComponent(match[1]) };
    } catch {
      break; // a mangled escape: no such page
    }
  }
  return { page: notFound };
}

const app = document.getElementById('app');

function render({ focus }) {
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const user = currentUser();
  if (path === '/') return navigate(user ? '/home' : '/signin', { replace: true, focus });
  const { page, param } = findPage(path);
  closeDialogs(); // a dialog belongs to the page it was opened on
  if (page.access === 'user' && !user) {
    // Remember where the user was going; sign-in takes them there afterwards.
    const next = path + location.search;
    if (page.returnAfterSignIn) rememberReturn(next);
    if (page.signInNotice) flash({ kind: 'info', key: page.signInNotice });
    return navigate('/signin', { replace: true, focus, state: { next } });
  }
  if (page.access === 'guest' && user) return navigate('/home', { replace: true, focus });

  showAgreementBar(page.agreementContext ? param : null);
  setPageTitle(page.title, param === undefined ? undefined : { param });
  app.replaceChildren(page.view({ query: new URLSearchParams(location.search), state: history.state || {}, param }));
  showFlash();
  markCurrentPage();
  if (focus) {
    window.scrollTo(0, 0);
    app.querySelector('h1')?.focus();
  }
}

document.addEventListener('openseat:session-ended', () => {
  forgetUser();
  flash({ kind: 'info', key: 'session.ended' });
  navigate('/signin', { state: { next: location.pathname + location.search } });
});

async function boot() {
  const guess = preferredLanguage();
  preloadCatalogue(guess); // in parallel with the session request
  const user = await loadSession();
  await setLanguage(LANGUAGES.includes(user?.language) ? user.language : guess);
  initHeader();
  startRouter(render);
}

boot().catch((err) => {
  console.error(err);
  // No catalogue to take words from at this point, so both languages are written out here.
  app.textContent = 'openseat could not start: please reload the page. — openseat n’a pas pu démarrer : veuillez recharger la page.';
});
