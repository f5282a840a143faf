// Accessibility check of what a page shows, with axe-core (WCAG 2.1 A and AA rules): the
// engine is put into the page through the browser's debugging channel (page.evaluate), which
// the site's Content-Security-Policy does not apply to, so the page runs as it does for users.

import fs from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let source = null;

/**
 * The violations axe finds in `page` (within `selector`, default the whole document), as
 * "rule: target" lines; [] when there is none.
 */
export async function axeViolations(page, selector = null) {
  source ??= await fs.readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(source);
  const violations = await page.evaluate(async (context) => {
    const result = await window.axe.run(context || document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }, selector);
  return violations;
}
