// /account/tokens: the signed-in person's API tokens — what each may do and where, until when,
// when it was last used and from which address — with "Create token" (the secret is shown once,
// in the dialog that follows) and "Revoke". A program calls the API with a token as
// `Authorization: Bearer <secret>`; it acts as the person, never beyond what they hold.

import { loadAgreements } from '../agreements.js';
import { h } from '../dom.js';
import { whilePending } from '../form.js';
import { fetchJson, loadingSection } from '../present.js';
import { reportProblem } from '../problems.js';
import { heldByRole, heldOn, openCreateTokenDialog, openRevokeTokenDialog, tokensTable } from '../tokens.js';
import { pageView } from './layout.js';

const TITLE_ID = 'tokens-title';

export default {
  title: 'tokens.pageTitle',
  access: 'user',
  view() {
    const section = loadingSection({
      testid: 'tokens',
      load: () => fetchJson('/tokens'),
      show: (data) => {
        const tokens = Array.isArray(data?.items) ? data.items : [];
        return tokens.length
          ? tokensTable({ tokens, labelledBy: TITLE_ID, onRevoke: revoke })
          : h('p', { class: 'muted', t: 'tokens.none', 'data-testid': 'tokens-none' });
      },
    });
    const reload = () => section.reload();
    const revoke = (token) => openRevokeTokenDialog(token, { path: `/tokens/${encodeURIComponent(token.id)}`, reload, focusId: TITLE_ID });
    const create = h('button', {
      type: 'button',
      class: 'button button--primary',
      t: 'tokens.create',
      'data-testid': 'create-token',
      onclick: (event) => openCreate(event.currentTarget, reload),
    });
    return pageView({ title: 'tokens.title', intro: 'tokens.intro', full: true },
      h('p', { class: 'page__back' }, h('a', { href: '/account', t: 'tokens.backToAccount' })),
      h('section', { class: 'card', 'aria-labelledby': TITLE_ID, 'data-testid': 'tokens-card' },
        h('div', { class: 'card__head' },
          h('h2', { id: TITLE_ID, class: 'card__title', tabindex: '-1', t: 'tokens.listTitle' }),
          create),
        h('p', { class: 'card__text', t: 'tokens.listIntro' }),
        section));
  },
};

/**
 * Opens the create dialog once the agreements the person may name are known. What they hold on
 * each (the capabilities the dialog offers) is their role's; a partner's relationship is read
 * from the agreement only when the dialog needs it.
 */
async function openCreate(button, reload) {
  await whilePending(button, async () => {
    try {
      const list = await loadAgreements();
      const agreements = list.map((a) => ({ ...a, held: heldByRole(a.role) }));
      const lookup = async (a) => {
        const detail = await fetchJson(`/agreements/${encodeURIComponent(a.license_number)}`);
        return heldOn({ ...detail, role: detail?.role ?? a.role });
      };
      openCreateTokenDialog({ agreements, lookup, reload, focusId: TITLE_ID });
    } catch (err) {
      reportProblem(err);
    }
  });
}
