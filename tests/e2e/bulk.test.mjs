// Browser test of adding subscribers from a file, against the real server with the demo data
// (Contoso: 25 Enterprise and 50 Professional seats; its super admin Camille reads the portal in
// French). Files are processed as background jobs, followed with a progress bar:
//   - the dialog offers the Excel and CSV templates, and the Excel one downloads;
//   - a file with mistakes is checked: every problem is listed by row and column, nothing added,
//     and the file itself comes back with a first column naming each row's problems;
//   - a Windows-1252 file is named as such; read that way (a check only), its names show decoded;
//   - the corrected file is added: the progress bar runs to its end, the report says how many,
//     and the new rows are in the list; the dialog's last button says « Fermer » once there is a
//     result (« Annuler » before); closing the dialog forgets the job;
//   - a large file (20,000 rows, checked only) survives a reload: the dialog comes back with the
//     job's progress, then its result; once closed, it does not come back; closed while still
//     processed, it is kept, and shown again on the next visit;
//   - editing from a file and removing from a list run as jobs as well; a preview comes back
//     after a reload, asking for the file again before anything is applied.
// Everything runs on 127.0.0.1 (see lib/harness.mjs).
//
//   cd tests/e2e && npm ci && node --test bulk.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { demoEnvironment, stepper } from './lib/harness.mjs';

const CAMILLE = { email: 'camille@contoso.example', password: 'demo-password-1' };

let env;
let page;
let baseUrl;

before(async () => {
  env = await demoEnvironment();
  ({ page, baseUrl } = env);
});

after(() => env?.stop());

const step = stepper();
const dialog = () => page.getByRole('dialog', { name: 'Ajouter des abonnés depuis un fichier' });
let license;

function csv(lines, name = 'abonnes.csv') {
  return { name, mimeType: 'text/csv', buffer: Buffer.from(`\ufeff${lines.join('\r\n')}\r\n`, 'utf8') };
}

const HEADER = 'Nom;E-mail de connexion;Niveau d’abonnement;Pays;Langue;Téléchargements';

/** The progress bar of the dialog once its job has finished: full, and its value and max. */
async function finishedBar() {
  const bar = dialog().getByTestId('bulk-progress');
  await bar.waitFor();
  await dialog().getByTestId('bulk-job').and(page.locator('[data-state="done"]')).waitFor();
  const { value, max, indeterminate } = await bar.evaluate((el) => ({ value: el.value, max: el.max, indeterminate: !el.hasAttribute('value') }));
  assert.equal(indeterminate, false, 'a finished job has a value');
  assert.equal(value, max, 'a finished job fills the bar');
  return { value, max };
}

/** The caller's jobs on the agreement, as the API lists them. */
async function jobs() {
  const answer = await page.request.get(`${baseUrl}/api/v1/agreements/${license}/jobs`);
  assert.equal(answer.status(), 200);
  return (await answer.json()).jobs;
}

/** Waits for the page's DELETE of a job (the dialog closed on a finished one). */
const dismissed = () => page.waitForResponse((r) => r.request().method() === 'DELETE' && /\/jobs\/[^/]+$/.test(r.url()));

step('Camille opens the Contoso agreement and the file dialog', async () => {
  await page.goto(`${baseUrl}/signin`);
  await page.getByTestId('field-email').fill(CAMILLE.email);
  await page.getByTestId('field-password').fill(CAMILLE.password);
  await page.getByTestId('signin-form-submit').click();
  await page.waitForURL(`${baseUrl}/home`);
  const agreements = await (await page.request.get(`${baseUrl}/api/v1/agreements`)).json();
  const contoso = agreements.agreements.find((a) => a.customer?.name === 'Contoso' && a.role === 'super_admin');
  assert.ok(contoso, JSON.stringify(agreements));
  license = contoso.license_number;
  await page.goto(`${baseUrl}/agreements/${contoso.license_number}`);
  await page.getByTestId('bulk-open').click();
  await dialog().waitFor();
  assert.equal(await dialog().getByTestId('dialog-cancel').textContent(), 'Annuler');
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
  await dialog().getByTestId('bulk-summary').filter({ hasText: '3 problèmes sur 3 lignes' }).waitFor();
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
  // It was a job: its bar ran to the end, and it kept the file to hand it back annotated.
  await finishedBar();
  await dialog().getByTestId('bulk-job-file').filter({ hasText: 'Fichier : abonnes.csv' }).waitFor();
  const [annotated] = await Promise.all([
    page.waitForEvent('download'),
    dialog().getByTestId('bulk-annotated').click(),
  ]);
  assert.equal(await dialog().getByTestId('bulk-annotated').textContent(), 'Télécharger le fichier avec ses problèmes signalés');
  // Named after the picked file (the suffix in the user's language).
  assert.equal(annotated.suggestedFilename(), 'abonnes-problemes.csv');
  const marked = (await readFile(await annotated.path())).toString('utf8').replace(/^\ufeff/, '').split(/\r?\n/);
  assert.match(marked[0], /^"?Problèmes"?[;,]Nom[;,]/, marked[0]);
  assert.match(marked[1], /^[;,]Léa Martin/, 'a row without problems has the column empty');
  assert.match(marked[2], /^"?E-mail de connexion\s*:/, marked[2]);
  assert.match(marked[3], /Niveau d’abonnement\s*:.*·.*Téléchargements\s*:/, marked[3]);
  await env.screenshots('bulk-report');
});

step('a Windows-1252 file is named as such, and read that way shows its names before anything is added', async () => {
  // Excel's plain "CSV" on Windows: Windows-1252 (here the same bytes as Latin-1), no BOM.
  const text = ["Nom;E-mail de connexion;Niveau d'abonnement;Pays;Langue;Téléchargements",
    'Zoë Lefèvre;zoe.lefevre@contoso.example;Enterprise;FR;fr;Oui',
    'Noël Brun;noel.brun@contoso.example;Enterprise;FR;fr;Oui'].join('\r\n');
  await dialog().getByTestId('bulk-file').setInputFiles({ name: 'excel.csv', mimeType: 'text/csv', buffer: Buffer.from(`${text}\r\n`, 'latin1') });
  await dialog().getByTestId('bulk-check').click();
  await dialog().getByTestId('bulk-problem').waitFor();
  await dialog().getByTestId('bulk-read-1252').click();
  await dialog().getByTestId('bulk-summary').filter({ hasText: 'Les 2 lignes sont valides.' }).waitFor();
  const decoded = await dialog().getByTestId('bulk-decoded').textContent();
  assert.ok(decoded.includes('Zoë Lefèvre') && decoded.includes('Noël Brun'), decoded);
  assert.equal(await dialog().getByTestId('bulk-read-1252').count(), 0, 'offered once');
});

step('the corrected file is added and the new subscribers are listed', async () => {
  await dialog().getByTestId('bulk-file').setInputFiles(csv([
    HEADER,
    'Léa Martin;lea.martin@contoso.example;Enterprise;FR;fr;Oui',
    'Hugo Bernard;hugo.bernard@contoso.example;Enterprise;FR;fr;Oui',
    'Inès Petit;ines.petit@contoso.example;Professional;FR;fr;Non',
  ]));
  await dialog().getByTestId('bulk-apply').click();
  // The bar is there while the file is processed, then full with what it did.
  await dialog().getByTestId('bulk-progress').waitFor();
  await dialog().getByTestId('bulk-summary').filter({ hasText: '3 abonnés ajoutés.' }).waitFor();
  assert.equal(await dialog().getByTestId('dialog-cancel').textContent(), 'Fermer', 'nothing left to cancel');
  const { max } = await finishedBar();
  assert.equal(max, 3, 'the bar counts the file\'s rows');
  await dialog().getByTestId('bulk-progress-text').filter({ hasText: 'Terminé\u00a0: 3 lignes lues.' }).waitFor();
  assert.equal(await dialog().getByTestId('bulk-annotated').count(), 0, 'nothing to mark in a file without problems');
  // Seen and closed: the job is forgotten (the check before was, when this file was sent).
  const gone = dismissed();
  await dialog().getByTestId('dialog-cancel').click();
  await dialog().waitFor({ state: 'detached' });
  assert.equal((await gone).status(), 204);
  assert.deepEqual(await jobs(), []);
  for (const name of ['Léa Martin', 'Hugo Bernard', 'Inès Petit']) {
    await page.getByTestId('subscribers-table').getByRole('rowheader', { name, exact: true }).waitFor();
  }
  await page.getByTestId('subscriber-count').filter({ hasText: '3 abonnés' }).waitFor();
});

// Valid rows, but more than the seats left: checked only, so no seat is needed.
const BIG_ROWS = 20000;
const bigFile = () => csv([HEADER, ...Array.from({ length: BIG_ROWS }, (_, i) => {
  const n = String(i + 1).padStart(5, '0');
  return `Abonné ${n};abonne.${n}@contoso.example;Professional;FR;fr;Oui`;
})], 'abonnes-20000.csv');

// Opens the add dialog and sends the large file for a check; the server's 202 answer.
async function checkBigFile() {
  await page.getByTestId('bulk-open').click();
  await dialog().waitFor();
  await dialog().getByTestId('bulk-file').setInputFiles(bigFile());
  const [accepted] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/subscriptions/bulk?')),
    dialog().getByTestId('bulk-check').click(),
  ]);
  assert.equal(accepted.status(), 202);
  return accepted;
}

step('a large file survives a reload: the dialog comes back with its progress, then its result', async () => {
  const accepted = await checkBigFile();
  const job = await accepted.json();
  assert.match(accepted.url(), /[?&]background=true(&|$)/);
  assert.match(accepted.url(), /[?&]file_name=abonnes-20000\.csv(&|$)/);
  assert.equal(accepted.headers().location, `/api/v1/agreements/${license}/jobs/${job.id}`);

  // Reloaded at once, most likely while the server is still on it.
  const listed = page.waitForResponse((r) => r.url().endsWith(`/agreements/${license}/jobs`));
  await page.reload();
  assert.equal((await listed).status(), 200);
  await dialog().waitFor();
  await dialog().getByTestId('bulk-job-file').filter({ hasText: 'Fichier : abonnes-20000.csv' }).waitFor();
  const text = await dialog().getByTestId('bulk-progress-text').textContent();
  assert.match(text, /^(En attente|Lecture|Vérification des lignes\s:\s[\d\s]+ sur 20\s000|Enregistrement|Terminé)/u, text);
  assert.equal(await dialog().getByTestId('bulk-progress-text').getAttribute('aria-live'), 'polite');

  await dialog().getByTestId('bulk-summary').waitFor({ timeout: 60000 });
  const { max } = await finishedBar();
  assert.equal(max, BIG_ROWS);
  await dialog().getByTestId('bulk-progress-text').filter({ hasText: /Terminé\s:\s20\s000 lignes lues\./u }).waitFor();
  // Only seats for a few: every row past them is listed (up to 1,000), and the file comes back marked.
  await dialog().getByTestId('bulk-summary').filter({ hasText: /problèmes? sur 20\s000 lignes/u }).waitFor();
  await dialog().getByTestId('bulk-annotated').waitFor();
  assert.equal(await dialog().getByTestId('bulk-annotated').getAttribute('href'), `/api/v1/agreements/${license}/jobs/${job.id}/annotated`);
  await env.screenshots('bulk-job-resumed');
});

step('closed, the finished job is dismissed and does not come back after a reload', async () => {
  const gone = dismissed();
  await dialog().getByTestId('dialog-cancel').click();
  await dialog().waitFor({ state: 'detached' });
  assert.equal((await gone).status(), 204);
  const listed = page.waitForResponse((r) => r.url().endsWith(`/agreements/${license}/jobs`));
  await page.reload();
  assert.deepEqual((await (await listed).json()).jobs, []);
  await page.getByTestId('subscriber-count').filter({ hasText: '3 abonnés' }).waitFor();
  // The list of jobs has been answered: a dialog would open right after it.
  await page.waitForTimeout(300);
  assert.equal(await page.locator('dialog[open]').count(), 0);
});

step('closed while the file is processed, the job is kept and shown again on the next visit', async () => {
  const job = await (await checkBigFile()).json();
  // Checking 20,000 rows takes the server seconds: this is well before it has finished.
  await dialog().getByTestId('dialog-cancel').click();
  await dialog().waitFor({ state: 'detached' });
  await page.getByTestId('status').filter({ hasText: 'Le fichier est toujours en cours de traitement.' }).waitFor();
  assert.deepEqual((await jobs()).map((j) => j.id), [job.id], 'not dismissed');
  await page.reload();
  await dialog().getByTestId('bulk-job-file').filter({ hasText: 'Fichier : abonnes-20000.csv' }).waitFor();
  await dialog().getByTestId('bulk-summary').waitFor({ timeout: 60000 });
  await finishedBar();
  const gone = dismissed();
  await dialog().getByTestId('dialog-cancel').click();
  assert.equal((await gone).status(), 204);
});

step('edit from a file: the preview comes back after a reload, then the change is applied and listed', async () => {
  const listed = await (await page.request.get(`${baseUrl}/api/v1/agreements/${license}/subscriptions?q=Hugo`)).json();
  const hugo = listed.items.find((item) => item.name === 'Hugo Bernard');
  assert.ok(hugo, JSON.stringify(listed));
  const edit = page.getByRole('dialog', { name: 'Modifier des abonnés depuis un fichier' });
  await page.getByTestId('bulk-edit-open').click();
  await edit.waitFor();
  const file = csv(['ID d’abonnement;Nom', `${hugo.id};Hugo Bernard-Roux`], 'modifs.csv');
  const change = () => edit.getByTestId('bulk-changes').locator('[data-field="name"]').filter({ hasText: 'Hugo Bernard → Hugo Bernard-Roux' });
  await edit.getByTestId('bulk-edit-file').setInputFiles(file);
  await edit.getByTestId('bulk-edit-preview').click();
  await change().waitFor();
  // After a reload the preview comes back, but applying needs the file, which only the user has.
  await page.reload();
  await edit.waitFor();
  await change().waitFor();
  await edit.getByTestId('bulk-edit-result').filter({ hasText: 'Pour continuer avec ce fichier, choisissez-le à nouveau.' }).waitFor();
  assert.equal(await edit.getByTestId('bulk-edit-apply').isHidden(), true);
  await edit.getByTestId('bulk-edit-file').setInputFiles(file);
  await edit.getByTestId('bulk-edit-preview').click();
  await edit.getByTestId('bulk-edit-apply').click();
  await edit.getByTestId('bulk-summary').filter({ hasText: '1 abonné modifié.' }).waitFor();
  await edit.getByTestId('bulk-job').and(page.locator('[data-state="done"]')).waitFor();
  await page.getByTestId('subscribers-table').getByRole('rowheader', { name: 'Hugo Bernard-Roux', exact: true }).waitFor();
  const gone = dismissed();
  await edit.getByTestId('dialog-cancel').click();
  assert.equal((await gone).status(), 204);
  assert.deepEqual(await jobs(), []);
});

step('remove from a list: previewed, then removed as a job, and nothing left to resume', async () => {
  const remove = page.getByRole('dialog', { name: 'Retirer des abonnés depuis un fichier' });
  await page.getByTestId('bulk-remove-open').click();
  await remove.waitFor();
  await remove.getByTestId('bulk-remove-file').setInputFiles({
    name: 'retirer.txt', mimeType: 'text/plain', buffer: Buffer.from('lea.martin@contoso.example\n'),
  });
  await remove.getByTestId('bulk-remove-preview').click();
  await remove.getByTestId('bulk-remove-list').filter({ hasText: 'Léa Martin' }).waitFor();
  const gone = dismissed();
  await remove.getByTestId('bulk-remove-apply').click();
  await remove.waitFor({ state: 'detached' });
  assert.equal((await gone).status(), 204);
  await page.getByTestId('status').filter({ hasText: '1 abonnement retiré' }).waitFor();
  await page.getByTestId('subscriber-count').filter({ hasText: '2 abonnés' }).waitFor();
  assert.deepEqual(await jobs(), []);
});

test('no console errors (CSP violations included)', () => {
  assert.deepEqual(env.consoleErrors, []);
});
