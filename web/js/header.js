// The site header: navigation and sign-out for signed-in users, the language switch, and inside
// an agreement the picker to switch to another one.

import { loadAgreements } from './agreements.js';
import { h } from './dom.js';
import { whilePending } from './form.js';
import { LANGUAGES, currentLanguage } from './i18n.js';
import { flash } from './notice.js';
import { reportProblem } from './problems.js';
import { navigate } from './router.js';
import { agreementPicker } from './picker.js';
import { chooseLanguage, currentStanding, currentUser, signOut } from './session.js';

// `section`: pages under this path belong to the link's part of the site; `partnerOnly`: shown
// to members of a partner organization only.
const NAV = [
  { href: '/home', key: 'nav.home', section: '/agreements' },
  { href: '/lsc', key: 'nav.lsc' },
  { href: '/partner-organization', key: 'nav.partnerOrganization', partnerOnly: true },
  { href: '/account', key: 'nav.account' },
];

export function initHeader() {
  // Handled here rather than by the browser so the URL does not gain a '#app' fragment.
  document.querySelector('.skip-link').addEventListener('click', (event) => {
    event.preventDefault();
    document.getElementById('app').focus();
  });

  document.getElementById('site-nav').replaceChildren(h('ul', { class: 'site-nav__list' },
    NAV.map(({ href, key, section, partnerOnly }) => h('li', { 'data-partner-only': partnerOnly ? 'true' : null },
      h('a', { href, class: 'site-nav__link', t: key, 'data-section': section, 'data-testid': `nav-${href.slice(1)}` })))));

  document.getElementById('lang-switch').replaceChildren(...LANGUAGES.map(languageButton));
  document.addEventListener('openseat:language', showLanguage);
  showLanguage();

  const signOutButton = document.getElementById('sign-out');
  signOutButton.addEventListener('click', () => whilePending(signOutButton, async () => {
    try {
      await signOut();
      flash({ kind: 'success', key: 'signout.done' });
      navigate('/signin');
    } catch (err) {
      reportProblem(err);
    }
  }));
  document.addEventListener('openseat:user', showUser);
  document.addEventListener('openseat:standing', showUser);
  showUser();
}

/**
 * Marks the navigation link of the page being shown (aria-current="page"), or of the section it
 * belongs to ("true": a license's details are part of the licensing center, an agreement's pages
 * are reached from the start page).
 */
export function markCurrentPage() {
  for (const link of document.querySelectorAll('.site-nav__link')) {
    const section = link.dataset.section;
    if (link.pathname === location.pathname) link.setAttribute('aria-current', 'page');
    else if (location.pathname.startsWith(`${link.pathname}/`)) link.setAttribute('aria-current', 'true');
    else if (section && location.pathname.startsWith(`${section}/`)) link.setAttribute('aria-current', 'true');
    else link.removeAttribute('aria-current');
  }
}

function languageButton(lang) {
  // Shows the short code; the accessible name is the language's own name ("Français").
  return h('button', {
    type: 'button',
    class: 'lang-switch__button',
    lang,
    'data-lang': lang,
    'data-testid': `lang-${lang}`,
    onclick: (event) => whilePending(event.currentTarget, () => chooseLanguage(lang).catch(reportProblem)),
  },
  h('span', { 'aria-hidden': 'true', t: `lang.${lang}.short` }),
  h('span', { class: 'visually-hidden', t: `lang.${lang}` }));
}

function showLanguage() {
  for (const button of document.querySelectorAll('.lang-switch__button')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === currentLanguage()));
  }
}

function showUser() {
  const signedIn = Boolean(currentUser());
  document.getElementById('site-nav').hidden = !signedIn;
  document.getElementById('sign-out').hidden = !signedIn;
  for (const item of document.querySelectorAll('[data-partner-only]')) item.hidden = !(signedIn && currentStanding().partner);
}

let barLicense = null;
let barRequest = 0;

/**
 * Shows the agreement picker under the header with `license` chosen, or hides it (null). The
 * list is fetched again whenever the agreement changes; moving between the pages of the same
 * agreement keeps it.
 */
export async function showAgreementBar(license) {
  const bar = document.getElementById('agreement-bar');
  if (license && license === barLicense && bar.childElementCount) return;
  const request = ++barRequest;
  barLicense = license;
  if (!license) {
    bar.hidden = true;
    bar.replaceChildren();
    return;
  }
  try {
    const agreements = await loadAgreements();
    if (request !== barRequest) return; // the user has moved on
    bar.replaceChildren(h('div', { class: 'agreement-bar__inner' },
      agreementPicker({ agreements, selected: license, partner: currentStanding().partner, compact: true, testid: 'header-picker' })));
    bar.hidden = false;
  } catch {
    // The page itself reports what went wrong; the header just goes without the picker.
    if (request !== barRequest) return;
    barLicense = null;
    bar.hidden = true;
    bar.replaceChildren();
  }
}
