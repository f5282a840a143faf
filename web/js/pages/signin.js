// /signin. Wrong address and wrong password get the same message on purpose (the server does not
// say which). An unverified account gets a way to have the confirmation link sent again.

import { PROBLEM } from '../constants.js';
import { h } from '../dom.js';
import { createForm, field } from '../form.js';
import { notify } from '../notice.js';
import { isSameSitePath, navigate } from '../router.js';
import { forgetReturn, pendingReturn, signIn } from '../session.js';
import { linkLine, pageView } from './layout.js';
import { resendLink } from './verify.js';

export default {
  title: 'signin.title',
  access: 'guest',
  view({ state, query }) {
    // Where to go once signed in: what the app was showing, or a link's `next` (the "account
    // exists" mail's sign-in link carries the page its reader was going to).
    const wanted = [state.next, query.get('next')].find(isSameSitePath);
    const form = createForm({
      testid: 'signin-form',
      fields: [field.email(), field.currentPassword()],
      values: { email: state.email },
      submit: 'signin.submit',
      async onSubmit({ email, password }) {
        await signIn(email, password);
        // Where the user was going; or a link that waited for them to sign up and confirm first.
        const next = wanted ?? pendingReturn();
        forgetReturn();
        navigate(isSameSitePath(next) ? next : '/home');
      },
      onProblem(err, { email }) {
        if (err.code !== PROBLEM.UNVERIFIED) return false;
        notify({
          kind: 'error',
          key: 'problem.unverified',
          action: { key: 'verify.resend', onClick: (event) => resendLink(event.currentTarget, email, wanted) },
        });
        return true;
      },
    });
    return pageView({ title: 'signin.title' },
      form.element,
      h('p', { class: 'page__aside' }, h('a', { href: '/reset', t: 'signin.forgot' })),
      // Signing up first keeps the page the user was going to: it rides the confirmation mail.
      linkLine('signin.noAccount', 'signin.signUpLink',
        wanted ? `/signup?next=${encodeURIComponent(wanted)}` : '/signup'));
  },
};
