// /home: the signed-in start page. Agreements come later; for now it says there are none.

import { h } from '../dom.js';
import { currentUser } from '../session.js';
import { pageView } from './layout.js';

export default {
  title: 'home.pageTitle',
  access: 'user',
  view() {
    return pageView({ title: 'home.title', params: { name: currentUser().name }, wide: true },
      h('section', { class: 'card empty-state', 'aria-labelledby': 'agreements-title', 'data-testid': 'agreements' },
        h('h2', { id: 'agreements-title', class: 'card__title', t: 'home.agreementsTitle' }),
        h('p', { class: 'empty-state__text', t: 'home.noAgreements' })));
  },
};
