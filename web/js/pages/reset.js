// /reset asks for a reset link; /reset?token=… (the link from the mail) sets the new password.

import { api } from '../api.js';
import { PROBLEM } from '../constants.js';
import { createForm, field } from '../form.js';
import { flash, notify } from '../notice.js';
import { navigate } from '../router.js';
import { loadSession } from '../session.js';
import { linkLine, pageView } from './layout.js';

export default {
  title: 'reset.title',
  access: 'any',
  view({ query }) {
    const token = query.get('token');
    return token ? choosePassword(token) : requestLink();
  },
};

function requestLink() {
  const form = createForm({
    testid: 'reset-request-form',
    fields: [field.email()],
    submit: 'reset.requestSubmit',
    async onSubmit({ email }) {
      await api('POST', '/password-reset', { email });
      // Always 202: the page must not reveal whether the address has an account.
      notify({ kind: 'success', key: 'reset.sent', params: { email } });
    },
  });
  return pageView({ title: 'reset.title', intro: 'reset.intro' },
    form.element,
    linkLine('reset.remembered', 'reset.signInLink', '/signin'));
}

function choosePassword(token) {
  const form = createForm({
    testid: 'reset-form',
    fields: [field.newPassword('password', 'field.newPassword')],
    submit: 'reset.confirmSubmit',
    async onSubmit({ password }) {
      await api('POST', '/password-reset/confirm', { token, password });
      // The server ended every session of the account, this browser's too if it had one.
      await loadSession();
      flash({ kind: 'success', key: 'reset.done' });
      navigate('/signin', { replace: true });
    },
    onProblem(err) {
      if (err.code !== PROBLEM.LINK_INVALID) return false;
      notify({ kind: 'error', key: 'reset.linkInvalid', action: { key: 'reset.requestNew', href: '/reset' } });
      return true;
    },
  });
  return pageView({ title: 'reset.chooseTitle', intro: 'reset.chooseIntro' }, form.element);
}
