// Any path the router does not know.

import { h } from '../dom.js';
import { pageView } from './layout.js';

export default {
  title: 'notFound.title',
  access: 'any',
  view() {
    return pageView({ title: 'notFound.title', intro: 'notFound.text' },
      h('p', {}, h('a', { href: '/', t: 'notFound.link' })));
  },
};
