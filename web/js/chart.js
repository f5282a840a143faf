// The charts of an agreement: its overview's seat chart, and the maximum usage per level (below).
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

// ---- maximum usage -----------------------------------------------------------------------------
// One small step chart per level: the seats purchased (dashed) and each new maximum of assigned
// seats, held until the next one, from the first maximum until today. It is drawn in a fixed
// coordinate box scaled to the width available; its accessible name gives every number.

const USAGE = { width: 640, height: 200, left: 44, right: 12, top: 12, bottom: 28 };

function timeOf(value) {
  const time = typeof value === 'number' ? value * 1000 : Date.parse(value);
  return Number.isFinite(time) ? time : null;
}

function dayOf(lang, time) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium' }).format(new Date(time));
}

/** The sentence that says what one level's usage chart shows. */
export function usageSummary(level, lang) {
  const points = (level.new_maxima || []).filter((p) => timeOf(p.at) !== null);
  const name = level.name ?? level.level;
  if (!points.length) return t('usage.chartNone', { level: name, purchased: formatNumber(lang, level.purchased) });
  return t('usage.chartLabel', {
    level: name,
    purchased: formatNumber(lang, level.purchased),
    points: points.map((p) => t('usage.chartPoint', {
      date: dayOf(lang, timeOf(p.at)),
      assigned: formatNumber(lang, p.assigned),
      purchased: formatNumber(lang, p.purchased),
    })).join(t('overview.chartJoin')),
  });
}

/** The usage chart of one level (from GET …/usage), its texts kept in the page language. */
export function usageChart(level, now = Date.now()) {
  const { width, height, left, right, top, bottom } = USAGE;
  const points = (level.new_maxima || [])
    .map((p) => ({ time: timeOf(p.at), assigned: Number(p.assigned) || 0, purchased: Number(p.purchased) || 0 }))
    .filter((p) => p.time !== null)
    .sort((a, b) => a.time - b.time);
  const titleId = uid('usage-title');
  const title = svg('title', { id: titleId });
  bindFormat(title, (lang) => usageSummary(level, lang));
  const root = svg('svg', {
    class: 'chart usage-chart',
    role: 'img',
    'aria-labelledby': titleId,
    viewBox: `0 0 ${width} ${height}`,
    width: '100%',
    'data-testid': `usage-chart-${level.level}`,
  }, title);

  const start = points.length ? points[0].time : now - 86400000;
  let end = Math.max(now, points.length ? points[points.length - 1].time : now);
  if (end <= start) end = start + 86400000;
  const top2 = Math.max(1, Number(level.purchased) || 0, ...points.map((p) => Math.max(p.assigned, p.purchased)));
  const x = (time) => left + ((time - start) / (end - start)) * (width - left - right);
  const y = (value) => top + (1 - value / top2) * (height - top - bottom);
  const fmt = (n) => n.toFixed(1);

  // Axes and their labels.
  const axisLabel = (attrs, format) => {
    const text = svg('text', { class: 'chart__axis-label', ...attrs });
    bindFormat(text, format);
    return text;
  };
  root.append(
    svg('line', { class: 'chart__axis', x1: left, y1: y(0), x2: width - right, y2: y(0) }),
    svg('line', { class: 'chart__axis', x1: left, y1: top, x2: left, y2: y(0) }),
    axisLabel({ x: left - 6, y: y(0) + 4, 'text-anchor': 'end' }, (lang) => formatNumber(lang, 0)),
    axisLabel({ x: left - 6, y: y(top2) + 4, 'text-anchor': 'end' }, (lang) => formatNumber(lang, top2)),
    axisLabel({ x: left, y: height - 8, 'text-anchor': 'start' }, (lang) => dayOf(lang, start)),
    axisLabel({ x: width - right, y: height - 8, 'text-anchor': 'end' }, (lang) => dayOf(lang, end)));

  // Purchased: as known at each new maximum, then as it is now.
  const bought = [...points.map((p) => [p.time, p.purchased]), [end, Number(level.purchased) || 0]];
  if (!points.length) bought.unshift([start, Number(level.purchased) || 0]);
  root.append(svg('path', { class: 'chart__purchased', d: stepPath(bought, x, y, fmt), 'data-testid': 'usage-purchased' }));

  if (points.length) {
    const highs = [...points.map((p) => [p.time, p.assigned]), [end, points[points.length - 1].assigned]];
    root.append(svg('path', { class: 'chart__maxima', d: stepPath(highs, x, y, fmt), 'data-testid': 'usage-maxima' }));
    for (const p of points) {
      root.append(svg('circle', { class: 'chart__point', cx: fmt(x(p.time)), cy: fmt(y(p.assigned)), r: 4, 'data-testid': 'usage-point' }));
    }
  }
  return root;
}

/** "M x0 y0 H x1 V y1 H x2 …": holds each value until the next one. */
function stepPath(pairs, x, y, fmt) {
  let d = '';
  pairs.forEach(([time, value], i) => {
    if (i === 0) d += `M${fmt(x(time))} ${fmt(y(value))}`;
    else d += ` H${fmt(x(time))} V${fmt(y(value))}`;
  });
  return d;
}
