// Browser test of adding subscribers from a file, against the real server with the demo data
// (Contoso, whose super admin Camille reads the portal in French):
//   - the dialog offers the Excel and CSV templates, and the Excel one downloads;
//   - a file with mistakes is checked: every problem is listed by row and column, nothing added;
//   - the corrected file is added: the report says how many, and the new rows are in the list.
// Everything runs on 127.0.0.1 (see lib/harness.mjs).
//
//   cd tests/e2e && npm ci && node --test bulk.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runOnce, startEnvironment, stepper } from './lib/harness.mjs';

const CAMILLE = { email: 'camille@contoso.example', password: 'demo-password-1' };

let env;
let page;
let baseUrl;

before(async () => {
  env = await startEnvironment({
    prepare: (bin, dataDir) => runOnce(bin, ['demo', '--data', dataDir]),
  });
  ({ page, baseUrl } = env);
});

after(() => env?.stop());

const step = stepper();
const dialog = () => page.getByRole('dialog', { name: 'Ajouter des abonnés depuis un fichier' });

function csv(lines) {
  return { name: 'abonnes.csv', mimeType: 'text/csv', buffer: Buffer.from(`\ufeff${lines.join('\r\n')}\r\n`, 'utf8') };
}

const HEADER = 'Nom;E-mail de connexion;Niveau d’abonnement;Pays;Langue;Téléchargements';

step('Camille opens the Contoso agreement and the file dialog', async () => {
  await page.goto(`${baseUrl}/signin`);
  await page.getByTestId('field-email').fill(CAMILLE.email);
  await page.getByTestId('field-password').fill(CAMILLE.password);
  await page.getByTestId('signin-form-submit').click();
  await page.waitForURL(`${baseUrl}/home`);
  const agreements = await (await page.request.get(`${baseUrl}/api/v1/agreements`)).json();
  const contoso = agreements.agreements.find((a) => a.customer?.name === 'Contoso' && a.role === 'super_admin');
  assert.ok(contoso, JSON.stringify(agreements));
  await page.goto(`${baseUrl}/agreements/${contoso.license_number}`);
  await page.getByTestId('bulk-open').click();
  await dialog().waitFor();
});

step('the Excel template downloads', async () => {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    dialog().getByTestId('bulk-template-xlsx').click(),
  ]);
  const path = await download.path();
  const { readFile } = await import('node:fs/promises');
  const bytes = await readFile(path);
  assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'an .xlsx is a zip');
  assert.match(download.suggestedFilename(), /\.xlsx$/);
});

step('a file with mistakes is checked: each one listed by row and column, nothing added', async () => {
  await dialog().getByTestId('bulk-file').setInputFiles(csv([
    HEADER,
    'Léa Martin;lea.martin@contoso.example;Enterprise;FR;fr;Oui',
    'Hugo Bernard;hugo.bernard@;Enterprise;FR;fr;Oui',
    'Inès Petit;ines.petit@contoso.example;Platine;FR;fr;Peut-être',
  ]));
  await dialog().getByTestId('bulk-check').click();
  await dialog().getByTestId('bulk-summary').filter({ hasText: '3 problème(s) sur 3 ligne(s)' }).waitFor();
  const table = dialog().getByTestId('bulk-errors');
  const cells = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(cells.map((c) => c.slice(0, 3)), [
    ['3', 'E-mail de connexion', 'hugo.bernard@'],
    ['4', 'Niveau d’abonnement', 'Platine'],
    ['4', 'Téléchargements', 'Peut-être'],
  ]);
  assert.match(cells[0][3], /adresse e-mail/i, 'the problem in French');
  // The same problems as a file to keep while fixing the spreadsheet.
  const [problems] = await Promise.all([
    page.waitForEvent('download'),
    dialog().getByTestId('bulk-problems-file').click(),
  ]);
  const { readFile } = await import('node:fs/promises');
  const text = (await readFile(await problems.path())).toString('utf8');
  assert.equal(problems.suggestedFilename(), 'problemes.csv');
  assert.ok(text.startsWith('\ufeffLigne;Colonne;Valeur;Problème\r\n'), JSON.stringify(text.slice(0, 60)));
  assert.match(text, /\r\n3;E-mail de connexion;hugo\.bernard@;Saisissez/);
  await env.screenshots('bulk-report');
});

step('the corrected file is added and the new subscribers are listed', async () => {
  await dialog().getByTestId('bulk-file').setInputFiles(csv([
    HEADER,
    'Léa Martin;lea.martin@contoso.example;Enterprise;FR;fr;Oui',
    'Hugo Bernard;hugo.bernard@contoso.example;Enterprise;FR;fr;Oui',
    'Inès Petit;ines.petit@contoso.example;Professional;FR;fr;Non',
  ]));
  await dialog().getByTestId('bulk-apply').click();
  await dialog().getByTestId('bulk-summary').filter({ hasText: '3 abonné(s) ajouté(s).' }).waitFor();
  await dialog().getByTestId('dialog-cancel').click();
  await dialog().waitFor({ state: 'detached' });
  for (const name of ['Léa Martin', 'Hugo Bernard', 'Inès Petit']) {
    await page.getByTestId('subscribers-table').getByRole('rowheader', { name, exact: true }).waitFor();
  }
  await page.getByTestId('subscriber-count').filter({ hasText: '3 abonnés' }).waitFor();
});

test('no console errors (CSP violations included)', () => {
  assert.deepEqual(env.consoleErrors, []);
});
