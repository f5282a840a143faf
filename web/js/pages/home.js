// /home: the signed-in start page. A recognized user (a role on some agreement, or a subscription
// of their own) picks the agreement to manage and sees the subscriptions they hold; anyone else
// learns why openseat does not know them yet and what to do: someone working for the customer
// asks one of its super admins to be added; someone working for a partner registers with three
// details of an order — naming their organization when it is not in openseat yet.

import { agreementHref, lastAgreement, loadAgreements } from '../agreements.js';
import { h } from '../dom.js';
import { whilePending } from '../form.js';
import { flash } from '../notice.js';
import { agreementPicker } from '../picker.js';
import { mySubscriptions } from '../my-subscriptions.js';
import { loadingSection } from '../present.js';
import { reportProblem } from '../problems.js';
import { registrationForm } from '../registration.js';
import { navigate } from '../router.js';
import { currentStanding, currentUser, refreshStanding, signOut } from '../session.js';
import { pageView, setPageTitle, swapView } from './layout.js';

export default {
  title: 'home.pageTitle',
  access: 'user',
  view() {
    return currentStanding().recognized ? welcome() : notRecognized();
  },
};

/** Swaps `view` for the other kind when the server's answer differs from what was assumed. */
async function recheck(view, assumed) {
  const { recognized } = await refreshStanding().catch(() => ({ recognized: assumed }));
  if (recognized === assumed || !view.isConnected) return;
  swapView(view, recognized ? welcome() : notRecognized());
}

function welcome() {
  setPageTitle('home.pageTitle');
  const view = pageView({ title: 'home.title', params: { name: currentUser().name }, wide: true },
    h('section', { class: 'card', 'aria-labelledby': 'agreements-title', 'data-testid': 'agreements' },
      h('h2', { id: 'agreements-title', class: 'card__title', t: 'home.agreementsTitle' }),
      loadingSection({
        testid: 'agreements-content',
        async load() {
          const agreements = await loadAgreements();
          // No agreement left (e.g. the only access was removed): maybe no longer recognized.
          if (!agreements.length) await recheck(view, true);
          return agreements;
        },
        show: (agreements) => (agreements.length
          ? chooser(agreements)
          : h('div', { class: 'empty-state' }, h('p', { class: 'empty-state__text', t: 'home.noAgreements' }))),
      })),
    mySubscriptions(),
    h('section', { class: 'card card--link', 'aria-labelledby': 'lsc-title', 'data-testid': 'lsc-teaser' },
      h('h2', { id: 'lsc-title', class: 'card__title', t: 'home.lscTitle' }),
      h('p', { class: 'card__text', t: 'home.lscText' }),
      h('p', {}, h('a', { href: '/lsc', class: 'button', t: 'home.lscLink', 'data-testid': 'home-lsc' }))));
  return view;
}

function chooser(agreements) {
  const remembered = lastAgreement();
  const shown = agreements.some((a) => a.license_number === remembered) ? remembered : agreements[0].license_number;
  const { partner } = currentStanding();
  return h('div', { class: 'chooser' },
    agreementPicker({ agreements, selected: shown, partner, describedBy: 'picker-hint' }),
    h('p', { class: 'field__hint', id: 'picker-hint', t: partner ? 'home.pickerHintPartner' : 'home.pickerHint' }),
    h('a', {
      href: agreementHref(shown),
      class: 'button button--primary',
      t: 'home.open',
      params: { number: shown },
      'data-testid': 'open-agreement',
    }));
}

/** Signed in, but no agreement lists this address: why, and what to do. */
function notRecognized() {
  setPageTitle('unrecognized.title');
  const user = currentUser();
  const { partner } = currentStanding();
  const again = h('button', {
    type: 'button',
    class: 'button',
    t: 'unrecognized.otherAddress',
    'data-testid': 'sign-in-other',
    onclick: () => whilePending(again, async () => {
      try {
        await signOut();
        flash({ kind: 'info', key: 'unrecognized.signInAgain' });
        navigate('/signin');
      } catch (err) {
        reportProblem(err);
      }
    }),
  });
  const view = pageView({ title: 'unrecognized.title', wide: true },
    h('section', { class: 'card', 'aria-labelledby': 'unrecognized-why', 'data-testid': 'not-recognized' },
      h('h2', { id: 'unrecognized-why', class: 'card__title', t: 'unrecognized.whyTitle' }),
      h('p', { class: 'card__text', t: 'unrecognized.why', params: { email: user.email } }),
      h('h3', { class: 'card__subtitle', t: 'unrecognized.whatTitle' }),
      h('ul', { class: 'steps' },
        h('li', { t: 'unrecognized.checkAddress', params: { email: user.email } }),
        h('li', { t: 'unrecognized.askSuperAdmin' }),
        h('li', { t: partner ? 'unrecognized.registerBelow' : 'unrecognized.registerOrganization' })),
      h('div', { class: 'form__actions' }, again)),
    h('section', { class: 'card', 'aria-labelledby': 'registration-title', 'data-testid': 'registration' },
      h('h2', { id: 'registration-title', class: 'card__title', t: 'registration.title' }),
      h('p', { class: 'card__text', t: partner ? 'registration.intro' : 'registration.introNewOrganization' }),
      registrationForm({ route: 'registration', testid: 'registration-form', withOrganization: !partner }).element));
  recheck(view, false);
  return view;
}
