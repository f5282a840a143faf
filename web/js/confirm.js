/* The confirming button of a destructive dialog (remove a partner, an admin, subscribers).
 * `labelParams` fill the label's placeholders ("Remove {count} subscriptions").
 *
 * `run` sends the request. On success the dialog closes, `onDone` tells the user, and
 * `after` refreshes the page. When the request finds the thing already gone (`isGone`),
 * the dialog closes too, `onGone` says so, and `after` shows the list as it is now. A
 * signed-out user gets the page-level problem; any other refusal (e.g. the last super
 * admin, a read-only agreement) is shown inside the dialog so the user can cancel. */
import { ApiError } from './api.js';
import { PROBLEM } from './constants.js';
import { h } from './dom.js';
import { whilePending } from './form.js';
import { problemNotice, reportProblem } from './problems.js';

export function confirmAction({ close, label, labelParams, testid, messagesTestid, run, onDone, isGone, onGone, after }) {
  const messages = h('div', { class: 'form__messages', role: 'alert', 'data-testid': messagesTestid });
  const confirm = h('button', {
    type: 'button',
    class: 'button button--danger-solid',
    t: label,
    params: labelParams,
    'data-testid': testid,
    onclick: () => whilePending(confirm, async () => {
      messages.replaceChildren();
      try {
        await run();
        close();
        onDone();
      } catch (err) {
        if (err instanceof ApiError && isGone(err)) {
          close();
          onGone();
        } else if (!(err instanceof ApiError) || err.code === PROBLEM.UNAUTHENTICATED) {
          close();
          reportProblem(err);
          return;
        } else {
          const message = problemNotice(err);
          messages.replaceChildren(h('div', { class: 'notice notice--error' },
            h('p', { class: 'notice__text', t: message.key, params: message.params })));
          return;
        }
      }
      await after();
    }),
  });
  return { messages, confirm };
}
