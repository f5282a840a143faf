// /agreements/{license}/usage: the most seats of each level ever assigned at once — over the last
// 12 months and over the agreement's life, with the day each was first reached — against the
// seats purchased, as a table and as one step chart per level; the full history downloads as CSV.

import { h } from '../dom.js';
import { longDate } from '../i18n.js';
import { usageChart } from '../chart.js';
import { fetchJson, loadingSection, number } from '../present.js';
import { agreementTab } from './agreement.js';

export default {
  title: 'usage.pageTitle',
  access: 'user',
  agreementContext: true,
  view({ param }) {
    return agreementTab({ param, part: 'usage', title: 'usage.title', show: usageCards });
  },
};

function usageCards(agreement, base) {
  const download = h('a', {
    class: 'button',
    href: `/api/v1${base}/usage.csv`,
    download: true,
    t: 'usage.download',
    'data-testid': 'usage-export',
  });
  return h('section', { class: 'card', 'aria-labelledby': 'usage-title', 'data-testid': 'usage-card' },
    h('div', { class: 'card__head' },
      h('h2', { id: 'usage-title', class: 'card__title', t: 'usage.listTitle' }),
      download),
    h('p', { class: 'card__text', t: 'usage.intro' }),
    loadingSection({
      testid: 'usage',
      load: () => fetchJson(`${base}/usage`),
      show: (data) => usageContent(Array.isArray(data?.levels) ? data.levels : []),
    }));
}

function usageContent(levels) {
  if (!levels.length) return h('p', { class: 'muted', t: 'overview.none' });
  const highest = (value, at) => h('span', { class: 'stacked' },
    h('span', number(value)),
    at && h('span', { class: 'stacked__detail', t: 'usage.firstOn', params: { date: longDate(at) } }));
  return [
    h('div', { class: 'table-wrap', role: 'group', tabindex: '0', 'aria-labelledby': 'usage-title' },
      h('table', { class: 'table table--usage', 'aria-labelledby': 'usage-title', 'data-testid': 'usage-table' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', t: 'subscribers.colLevel' }),
          h('th', { scope: 'col', class: 'num', t: 'overview.purchased' }),
          h('th', { scope: 'col', class: 'num', t: 'usage.assignedNow' }),
          h('th', { scope: 'col', class: 'num', t: 'usage.maxYear' }),
          h('th', { scope: 'col', class: 'num', t: 'usage.maxLife' }))),
        h('tbody', {}, levels.map((level) => h('tr', { 'data-testid': `usage-${level.level}` },
          h('th', { scope: 'row' }, level.name ?? level.level),
          h('td', { class: 'num', 'data-testid': 'purchased', ...number(level.purchased) }),
          h('td', { class: 'num', 'data-testid': 'assigned', ...number(level.assigned) }),
          h('td', { class: 'num', 'data-testid': 'max-12-months' }, highest(level.max_12_months, level.max_12_months_first_at)),
          h('td', { class: 'num', 'data-testid': 'max-life' }, highest(level.max_life, level.max_life_first_at))))))),
    h('div', { class: 'usage-charts', 'data-testid': 'usage-charts' },
      levels.map((level) => h('figure', { class: 'usage-figure' },
        h('figcaption', { class: 'usage-figure__caption' }, level.name ?? level.level),
        usageChart(level)))),
    h('ul', { class: 'legend', 'aria-hidden': 'true' },
      h('li', {}, h('span', { class: 'legend__swatch legend__swatch--maxima' }), h('span', { t: 'usage.legendMaxima' })),
      h('li', {}, h('span', { class: 'legend__swatch legend__swatch--purchased' }), h('span', { t: 'usage.legendPurchased' }))),
  ];
}
