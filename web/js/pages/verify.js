// /verify?token=…: confirms an e-mail address. Confirming takes a click rather than happening on
// load, because mail scanners fetch links in incoming mail and would otherwise use them up.

import { api } from '../api.js';
import { PROBLEM } from '../constants.js';
import { h } from '../dom.js';
import { createForm, field, whilePending } from '../form.js';
import { flash, notify } from '../notice.js';
import { reportProblem } from '../problems.js';
import { isSameSitePath, navigate } from '../router.js';
import { linkLine, pageView, swapView } from './layout.js';

export default {
  title: 'verify.title',
  access: 'any',
  view({ query }) {
    // Where the user was going when they signed up; sign-in continues there, and a new link
    // asked for here carries it on.
    const next = isSameSitePath(query.get('next')) ? query.get('next') : undefined;
    const token = query.get('token');
    if (!token) return linkInvalid(next);
    const confirm = h('button', {
      type: 'button',
      class: 'button button--primary',
      t: 'verify.confirm',
      'data-testid': 'verify-confirm',
      onclick: () => whilePending(confirm, async () => {
        try {
          const result = await api('POST', '/verify', { token });
          flash({ kind: 'success', key: 'verify.done' });
          // Replace: going back must not lead to the spent link.
          navigate('/signin', { replace: true, state: { email: result.email, next } });
        } catch (err) {
          if (err.code === PROBLEM.LINK_INVALID) swapView(view, linkInvalid(next));
          else reportProblem(err);
        }
      }),
    });
    const view = pageView({ title: 'verify.title', intro: 'verify.intro' },
      h('div', { class: 'form__actions' }, confirm));
    return view;
  },
};

/**
 * The explanation for a spent, expired or mangled link, with a way to get a new one (going on to
 * `next` like the old one).
 */
function linkInvalid(next) {
  const form = createForm({
    testid: 'resend-form',
    fields: [field.email()],
    submit: 'verify.resendSubmit',
    onSubmit: ({ email }) => requestLink(email, next),
  });
  return pageView({ title: 'verify.invalidTitle', intro: 'verify.invalidText' },
    form.element,
    linkLine('verify.alreadyDone', 'verify.signInLink', '/signin'));
}

// The server answers 202 whatever the address, so the message cannot say more than this.
// `next` (a path of this site, or undefined) rides the new link as it rode the first.
async function requestLink(email, next) {
  await api('POST', '/verify/resend', { email, next });
  notify({ kind: 'success', key: 'verify.resent', params: { email } });
}

/** Asks for another confirmation mail to `email`, going on to `next`; `button` is disabled meanwhile. */
export function resendLink(button, email, next) {
  return whilePending(button, () => requestLink(email, next).catch(reportProblem));
}

/** A "send the link again" button for pages that just told the user to check their inbox. */
export function resendButton(email, next) {
  const button = h('button', {
    type: 'button',
    class: 'button',
    t: 'verify.resend',
    'data-testid': 'resend',
    onclick: () => resendLink(button, email, next),
  });
  return button;
}
