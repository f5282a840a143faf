// Browser test of the subscription pages' layout at a laptop's width (1280×800) and a phone's
// (390×844), measured from the elements' boxes, and of the file dialog's finished result, with the
// demo data (Contoso; its super admin Camille reads the portal in French):
//   - subscribers are added from a file: the report names the levels, its seat counts are the
//     overview's, its last button says « Fermer »; reloaded, the result does not come back;
//   - at 1280 px each row's Edit button lies inside the table's visible area, and with the focus
//     on it (or the table scrolled to its far end) the row's name is still in view;
//   - the "Columns" chooser hides a column, and the choice survives a reload;
//   - at 390 px the overview's "Available" column fits the screen, the activity page's date
//     fields do not overlap, and neither page scrolls sideways;
//   - the report of a file with problems breaks no word in the middle (only long values may);
//   - in English, the chooser and the dialog's Close read as they should.
// Everything runs on 127.0.0.1 (see lib/harness.mjs).
//
//   cd tests/e2e && npm ci && node --test layout.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { demoEnvironment, stepper } from './lib/harness.mjs';

const CAMILLE = { email: 'camille@contoso.example', password: 'demo-password-1' };
const HEADER = 'Nom;E-mail de connexion;Niveau d’abonnement;Pays;Langue;Téléchargements;Référence;E-mail de notification';

let env;
let page;
let baseUrl;
let license;

before(async () => {
  env = await demoEnvironment();
  ({ page, baseUrl } = env);
});

after(() => env?.stop());

const step = stepper();
const dialog = () => page.getByRole('dialog', { name: 'Ajouter des abonnés depuis un fichier' });

function csv(lines, name = 'abonnes.csv') {
  return { name, mimeType: 'text/csv', buffer: Buffer.from(`\ufeff${lines.join('\r\n')}\r\n`, 'utf8') };
}

/** The box of `locator`'s element (its first match), as the page lays it out. */
async function box(locator) {
  const b = await locator.first().evaluate((el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width };
  });
  return b;
}

/** How far the page scrolls sideways (0 when it fits the viewport). */
const sideways = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

/** The overview's counts of a level, as the page shows them (digits only). */
async function overviewCounts(level) {
  const row = page.getByTestId(`overview-${level}`);
  const read = async (testid) => Number((await row.getByTestId(testid).textContent()).replace(/\D/g, ''));
  return { assigned: await read('assigned'), available: await read('available') };
}

const tableWrap = () => page.getByTestId('agreement-subscribers').locator('.table-wrap');

step('Camille opens the Contoso agreement at 1280×800', async () => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${baseUrl}/signin`);
  await page.getByTestId('field-email').fill(CAMILLE.email);
  await page.getByTestId('field-password').fill(CAMILLE.password);
  await page.getByTestId('signin-form-submit').click();
  await page.waitForURL(`${baseUrl}/home`);
  const agreements = await (await page.request.get(`${baseUrl}/api/v1/agreements`)).json();
  const contoso = agreements.agreements.find((a) => a.customer?.name === 'Contoso' && a.role === 'super_admin');
  assert.ok(contoso, JSON.stringify(agreements));
  license = contoso.license_number;
  await page.goto(`${baseUrl}/agreements/${license}`);
  await page.getByTestId('overview-enterprise').waitFor();
});

step('a finished upload: level names, current seat counts, « Fermer », and no dialog after a reload', async () => {
  await page.getByTestId('bulk-open').click();
  await dialog().waitFor();
  assert.equal(await dialog().getByTestId('dialog-cancel').textContent(), 'Annuler', 'nothing to close yet');
  const rows = Array.from({ length: 12 }, (_, i) => {
    const n = String(i + 1).padStart(2, '0');
    return `Dominique-Alexandrine de La Rochefoucauld-Montmorency ${n};dominique.alexandrine.${n}@contoso.example;`
      + `${i < 4 ? 'Enterprise' : 'Professional'};FR;fr;Oui;CC-2026-ENGINEERING-TOOLS-${n};notifications.${n}@contoso.example`;
  });
  await dialog().getByTestId('bulk-file').setInputFiles(csv([HEADER, ...rows]));
  await dialog().getByTestId('bulk-apply').click();
  await dialog().getByTestId('bulk-summary').filter({ hasText: '12 abonnés ajoutés.' }).waitFor();
  await dialog().getByTestId('bulk-job').and(page.locator('[data-state="done"]')).waitFor();
  assert.equal(await dialog().getByTestId('dialog-cancel').textContent(), 'Fermer');
  // The overview behind has been read again: the report's free seats are the same as its.
  await page.getByTestId('overview-enterprise').getByTestId('assigned').filter({ hasText: /^4$/ }).waitFor();
  const enterprise = await overviewCounts('enterprise');
  const professional = await overviewCounts('professional');
  const levels = dialog().getByTestId('bulk-levels');
  const line = async (code) => levels.locator(`[data-level="${code}"]`).textContent();
  assert.match(await line('enterprise'), new RegExp(`^Enterprise\u00a0: 4 lignes, ${enterprise.available} places? libres?$`));
  assert.match(await line('professional'), new RegExp(`^Professional\u00a0: 8 lignes, ${professional.available} places? libres?$`));

  // Seen, then reloaded rather than closed: the result stays closed, and the job is let go.
  const forgotten = page.waitForResponse((r) => r.request().method() === 'DELETE' && /\/jobs\/[^/]+$/.test(r.url()));
  await page.reload();
  assert.equal((await forgotten).status(), 204);
  await page.getByTestId('subscriber-count').filter({ hasText: '12 abonnés' }).waitFor();
  await page.waitForTimeout(300); // a dialog would open right after the list of jobs is answered
  assert.equal(await page.locator('dialog[open]').count(), 0);
  const jobs = await (await page.request.get(`${baseUrl}/api/v1/agreements/${license}/jobs`)).json();
  assert.deepEqual(jobs.jobs, []);
});

step('at 1280 px every Edit button is inside the table\'s visible area', async () => {
  await page.getByTestId('subscriber-row').first().waitFor();
  const wrap = await box(tableWrap());
  const edits = await page.getByTestId('edit-subscriber').all();
  assert.equal(edits.length, 12);
  for (const edit of edits) {
    const b = await box(edit);
    assert.ok(b.left >= wrap.left && b.right <= wrap.right, `Edit at ${b.left}–${b.right}, table shows ${wrap.left}–${wrap.right}`);
  }
  assert.equal(await sideways(), 0);
});

step('with the focus on Edit, or the table scrolled to its end, the row\'s name stays in view', async () => {
  const row = page.getByTestId('subscriber-row').nth(5);
  await row.getByTestId('edit-subscriber').focus();
  let wrap = await box(tableWrap());
  let name = await box(row.getByTestId('cell-name'));
  assert.ok(name.left >= wrap.left && name.right <= wrap.right, `name at ${name.left}–${name.right}, table shows ${wrap.left}–${wrap.right}`);
  // Scrolled to the last column (the subscription id): the name is pinned at the left.
  await row.getByTestId('cell-id').scrollIntoViewIfNeeded();
  const scrolled = await tableWrap().evaluate((el) => el.scrollLeft);
  assert.ok(scrolled > 0, 'the table is wider than its area, so it scrolled');
  wrap = await box(tableWrap());
  name = await box(row.getByTestId('cell-name'));
  const id = await box(row.getByTestId('cell-id'));
  assert.ok(name.left >= wrap.left && name.right <= wrap.right, `name at ${name.left}–${name.right}, table shows ${wrap.left}–${wrap.right}`);
  assert.ok(id.left >= name.right - 1, 'the scrolled cells pass under the name, not over it');
  await env.screenshots('subscribers-scrolled');
  await tableWrap().evaluate((el) => { el.scrollLeft = 0; });
});

step('the column chooser hides a column, and it stays hidden after a reload', async () => {
  const toggle = page.getByTestId('columns-toggle');
  assert.equal(await toggle.textContent(), 'Colonnes');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await toggle.focus();
  await page.keyboard.press('Enter');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  const panel = page.getByRole('group', { name: 'Colonnes affichées' });
  await panel.waitFor();
  // Every column but the name, which identifies the row.
  assert.equal(await panel.getByRole('checkbox', { name: 'Nom', exact: true }).count(), 0);
  const reference = panel.getByRole('checkbox', { name: 'Référence', exact: true });
  assert.equal(await reference.isChecked(), true);
  await reference.focus();
  await page.keyboard.press('Space');
  assert.equal(await reference.isChecked(), false);
  assert.equal(await page.getByTestId('cell-reference').first().isHidden(), true);
  assert.equal(await page.locator('th[data-column="reference"]').isHidden(), true);
  await page.keyboard.press('Escape');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'columns-toggle');

  await page.reload();
  await page.getByTestId('subscriber-row').first().waitFor();
  assert.equal(await page.getByTestId('cell-reference').first().isHidden(), true);
  assert.equal(await page.getByTestId('cell-sign_in_email').first().isVisible(), true);
  await page.getByTestId('columns-toggle').click();
  assert.equal(await page.getByRole('checkbox', { name: 'Référence', exact: true }).isChecked(), false);
  await page.getByRole('checkbox', { name: 'Référence', exact: true }).check();
  assert.equal(await page.getByTestId('cell-reference').first().isVisible(), true);
});

step('at 390 px the overview\'s "Available" column fits, and nothing scrolls sideways', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await page.getByTestId('overview-enterprise').waitFor();
  const cell = await box(page.getByTestId('overview-table').locator('thead th').last());
  const value = await box(page.getByTestId('overview-enterprise').getByTestId('available'));
  const widths = await page.getByTestId('overview-table').evaluate((t) => [t.parentElement.getBoundingClientRect().width, ...[...t.querySelectorAll('tr')].map((tr) => [...tr.cells].map((c) => Math.round(c.getBoundingClientRect().width) + ':' + c.textContent).join('|'))]);
  assert.ok(cell.right <= 390 && value.right <= 390, `Available ends at ${cell.right} / ${value.right} ${JSON.stringify(widths)}`);
  const table = page.getByTestId('overview-table');
  const overflow = await table.evaluate((el) => el.parentElement.scrollWidth - el.parentElement.clientWidth);
  assert.ok(overflow <= 0, `the overview table is ${overflow} px wider than its box`);
  assert.equal(await sideways(), 0);
});

step('at 390 px the activity page\'s date fields do not overlap', async () => {
  await page.goto(`${baseUrl}/agreements/${license}/activity`);
  const form = page.getByTestId('activity-filters');
  await form.waitFor();
  const fields = await form.locator('input').evaluateAll((inputs) => inputs.map((el) => {
    const r = el.getBoundingClientRect();
    return { name: el.name, left: r.left, right: r.right, top: r.top, bottom: r.bottom };
  }));
  const dates = fields.filter((f) => f.name === 'from' || f.name === 'to');
  assert.equal(dates.length, 2, JSON.stringify(fields));
  for (const a of fields) {
    assert.ok(a.right <= 390, `${a.name} ends at ${a.right}`);
    for (const b of fields) {
      if (a === b) continue;
      const apart = a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
      assert.ok(apart, `${a.name} ${JSON.stringify(a)} overlaps ${b.name} ${JSON.stringify(b)}`);
    }
  }
  assert.equal(await sideways(), 0);
  await env.screenshots('activity-390');
});

step('the report of a file with problems breaks no word in the middle, at 390 and 1280 px', async () => {
  await page.goto(`${baseUrl}/agreements/${license}`);
  await page.getByTestId('bulk-open').click();
  await dialog().waitFor();
  await dialog().getByTestId('bulk-file').setInputFiles(csv([
    HEADER,
    'Claude Martin;claude.martin.with-a-rather-long-address@contoso-engineering.example;Platine;FR;fr;Peut-être;;',
  ]));
  await dialog().getByTestId('bulk-check').click();
  await dialog().getByTestId('bulk-errors').waitFor();
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
    // Every word of the column names and problems on one line: no cell breaks inside a word.
    const broken = await dialog().getByTestId('bulk-errors').evaluate((table) => {
      const found = [];
      for (const cell of table.querySelectorAll('th, td:not(.bulk-errors__value)')) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          for (const match of node.data.matchAll(/\S+/g)) {
            const range = document.createRange();
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
            if (lines.size > 1) found.push(match[0]);
          }
        }
      }
      return found;
    });
    assert.deepEqual(broken, [], `words broken at ${width} px`);
  }
  await dialog().getByTestId('dialog-cancel').click();
  await page.setViewportSize({ width: 1280, height: 800 });
});

step('in English: the chooser says Columns, and a result\'s button Close', async () => {
  await page.getByTestId('lang-en').click();
  await page.getByTestId('columns-toggle').filter({ hasText: 'Columns' }).waitFor();
  await page.getByTestId('columns-toggle').click();
  await page.getByRole('group', { name: 'Columns shown' }).getByRole('checkbox', { name: 'Reference', exact: true }).waitFor();
  const english = page.getByRole('dialog', { name: 'Add subscribers from a file' });
  await page.getByTestId('bulk-open').click();
  assert.equal(await english.getByTestId('dialog-cancel').textContent(), 'Cancel');
  await english.getByTestId('bulk-file').setInputFiles(csv([HEADER, 'Claude Martin;claude.martin@contoso.example;Enterprise;FR;fr;Oui;;']));
  await english.getByTestId('bulk-check').click();
  await english.getByTestId('bulk-levels').locator('[data-level="enterprise"]').filter({ hasText: /^Enterprise: 1 row, \d+ seats? free$/ }).waitFor();
  assert.equal(await english.getByTestId('dialog-cancel').textContent(), 'Close');
  await english.getByTestId('dialog-cancel').click();
  await english.waitFor({ state: 'detached' });
});

test('no console errors (CSP violations included)', () => {
  assert.deepEqual(env.consoleErrors, []);
});
