// The seat overview of an agreement: per level, the seats purchased, assigned and available,
// as a chart and as a table (a full level marked).
//
// Exports: overviewContent.

import { isFull, seatChart } from '../chart.js';
import { h } from '../dom.js';
import { number } from '../present.js';

/** The chart and table of `levels` (the overview's), or a line saying there are none. */
export function overviewContent(levels) {
  if (!levels.length) return h('p', { class: 'muted', t: 'overview.none' });
  return [
    h('div', { class: 'chart-wrap' }, seatChart(levels)),
    h('div', { class: 'table-wrap', role: 'group', tabindex: '0', 'aria-labelledby': 'overview-title' },
      h('table', { class: 'table table--overview', 'aria-labelledby': 'overview-title', 'data-testid': 'overview-table' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', t: 'subscribers.colLevel' }),
          h('th', { scope: 'col', class: 'num', t: 'overview.purchased' }),
          h('th', { scope: 'col', class: 'num', t: 'overview.assigned' }),
          h('th', { scope: 'col', class: 'num', t: 'overview.available' }))),
        h('tbody', {}, levels.map((level) => h('tr', { 'data-testid': `overview-${level.level}` },
          h('th', { scope: 'row' }, level.name ?? level.level),
          h('td', { class: 'num', 'data-testid': 'purchased', ...number(level.purchased) }),
          h('td', { class: 'num', 'data-testid': 'assigned', ...number(level.assigned) }),
          h('td', { class: 'num', 'data-testid': 'available' },
            isFull(level) && [h('span', { class: 'badge badge--full', t: 'overview.full' }), ' '],
            h('span', number(level.available)))))))),
  ];
}
