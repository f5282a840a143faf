// The seat chart of an agreement's overview: one horizontal bar per level, its full length the
// seats purchased and its filled part the seats assigned. Drawn as inline SVG from the DOM (no
// markup from strings, no style attributes: colours come from the stylesheet's classes).
//
// The SVG is one image for assistive technologies (role="img"), named by a sentence that gives
// every number; the overview's table next to it holds the same numbers for those who read them.

import { bindFormat, t } from './i18n.js';
import { formatNumber } from './present.js';
import { uid } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const ROW = 48; // height of one level: its label line, then its bar
const BAR = 18;

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) el.setAttribute(name, String(value));
  }
  el.append(...children.flat().filter(Boolean));
  return el;
}

/** A full pool: every seat purchased is assigned. */
export const isFull = (level) => level.purchased > 0 && level.assigned >= level.purchased;

/** The sentence that says what the chart shows. */
export function chartSummary(levels, lang) {
  if (!levels.length) return t('overview.chartEmpty');
  return t('overview.chartLabel', {
    levels: levels.map((level) => t(isFull(level) ? 'overview.chartLevelFull' : 'overview.chartLevel', {
      level: level.name,
      assigned: formatNumber(lang, level.assigned),
      purchased: formatNumber(lang, level.purchased),
      available: formatNumber(lang, level.available),
    })).join(t('overview.chartJoin')),
  });
}

/** The chart of `levels` (from GET …/overview), its texts kept in the page language. */
export function seatChart(levels) {
  const titleId = uid('chart-title');
  const title = svg('title', { id: titleId });
  bindFormat(title, (lang) => chartSummary(levels, lang));
  const height = Math.max(1, levels.length) * ROW;
  const root = svg('svg', {
    class: 'chart',
    role: 'img',
    'aria-labelledby': titleId,
    width: '100%',
    height,
    'data-testid': 'seat-chart',
  }, title);

  levels.forEach((level, index) => {
    const top = index * ROW;
    const share = level.purchased > 0 ? Math.min(1, level.assigned / level.purchased) : 0;
    const full = isFull(level);
    const label = svg('text', { class: 'chart__label', x: 0, y: top + 16 });
    label.textContent = level.name;
    const value = svg('text', { class: full ? 'chart__value chart__value--full' : 'chart__value', x: '100%', y: top + 16, 'text-anchor': 'end' });
    bindFormat(value, (lang) => t(full ? 'overview.barFull' : 'overview.bar', {
      assigned: formatNumber(lang, level.assigned),
      purchased: formatNumber(lang, level.purchased),
    }));
    root.append(svg('g', { class: full ? 'chart__row chart__row--full' : 'chart__row', 'data-level': level.level, 'data-testid': `chart-bar-${level.level}` },
      label,
      value,
      svg('rect', { class: 'chart__track', x: 0, y: top + 24, width: '100%', height: BAR, rx: 4 }),
      share > 0 && svg('rect', {
        class: full ? 'chart__fill chart__fill--full' : 'chart__fill',
        x: 0,
        y: top + 24,
        width: `${(share * 100).toFixed(2)}%`,
        height: BAR,
        rx: 4,
      })));
  });
  return root;
}
