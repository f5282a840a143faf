// /agreements/{license}/tokens: for the agreement's super admins, every live API token that can act
// on it — those made for it and those of its people made for all their agreements — with whose
// each is, and "Revoke". A token acts as its owner, so one made for all agreements shows here
// while its owner has a role on this one.

import { h } from '../dom.js';
import { fetchJson, loadingSection } from '../present.js';
import { openRevokeTokenDialog, tokensTable } from '../tokens.js';
import { agreementTab } from './agreement.js';

const TITLE_ID = 'agreement-tokens-title';

export default {
  title: 'tokens.agreementPageTitle',
  access: 'user',
  agreementContext: true,
  view({ param }) {
    return agreementTab({ param, part: 'tokens', title: 'tokens.agreementTitle', show: tokensCard });
  },
};

function tokensCard(agreement, base) {
  const section = loadingSection({
    testid: 'agreement-tokens',
    load: () => fetchJson(`${base}/tokens`),
    show: (data) => {
      const tokens = Array.isArray(data?.items) ? data.items : [];
      return tokens.length
        ? tokensTable({ tokens, labelledBy: TITLE_ID, owner: true, onRevoke: revoke })
        : h('p', { class: 'muted', t: 'tokens.agreementNone', 'data-testid': 'tokens-none' });
    },
  });
  const revoke = (token) => openRevokeTokenDialog(token, {
    path: `${base}/tokens/${encodeURIComponent(token.id)}`,
    reload: () => section.reload(),
    focusId: TITLE_ID,
  });
  return h('section', { class: 'card', 'aria-labelledby': TITLE_ID, 'data-testid': 'agreement-tokens-card' },
    h('h2', { id: TITLE_ID, class: 'card__title', tabindex: '-1', t: 'tokens.agreementListTitle' }),
    h('p', { class: 'card__text', t: 'tokens.agreementIntro', params: { customer: agreement.customer?.name ?? '' } }),
    section);
}
