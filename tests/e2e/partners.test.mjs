// Browser test of partner access against the real server, with the demo data plus a new partner
// user and two agreements imported for Fabrikam Partners (related to Fabrikam in the licensing
// center, without portal access yet):
//   - a new partner user signs up, is not recognized, and registers with an order's numbers;
//   - a partner adds an Open License through the picker's "New Open license" dialog;
//   - a partner follows the licensing center's "click here" link, also signed out, signed in
//     with the wrong address, and by way of signing up first;
//   - the customer hears of it by e-mail, follows the link to the Partners page and removes the
//     partner, who then finds the agreement gone and cannot come back through the link.
// Everything runs on 127.0.0.1 (see lib/harness.mjs).
//
//   cd tests/e2e && npm ci && node --test partners.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runOnce, startEnvironment, stepper } from './lib/harness.mjs';
import { signOut as signOutOf } from './lib/session.mjs';
import { readMaildir, textOf } from './lib/mail.mjs';
import { waitFor } from './lib/processes.mjs';

// Created by `openseat demo`.
const ALEX = { email: 'alex@fabrikam-partner.example', password: 'demo-password-1', name: 'Alex Morgan' };
const CAMILLE = { email: 'camille@contoso.example', password: 'demo-password-1', name: 'Camille Martin' };
// Added here: a member of Litware Reseller, the partner of the demo's Tailspin Toys agreement.
const NINA = { email: 'new@litware.example', password: 'litware password one', name: 'Nina Lopez' };
// Signs up on the way to a licensing-center link.
const NEWCOMER = { email: 'sam@fourthcoffee.example', password: 'fourth coffee beans', name: 'Sam Rivera' };

const AUTH_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const random = (alphabet, n) => Array.from({ length: n }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
const isoDate = (date) => date.toISOString().slice(0, 10);

// Placed upstream by Fabrikam Partners: related to Alex in the licensing center, no portal access.
const now = new Date();
const IMPORTED = {
  contoso: { license: random('0123456789', 8), authorization: random(AUTH_ALPHABET, 14), customer: 'Contoso', country: 'FR', email: CAMILLE.email },
  wideWorld: { license: random('0123456789', 8), authorization: random(AUTH_ALPHABET, 14), customer: 'Wide World Importers', country: 'GB', email: 'it@wideworld.example' },
};

let env;
let page;
let baseUrl;
let tailspin; // { license, authorization, email } as printed by `openseat demo`

before(async () => {
  env = await startEnvironment({
    async prepare(bin, dataDir) {
      const demo = await runOnce(bin, ['demo', '--data', dataDir]);
      const match = /license (\d{8}), authorization ([0-9A-Z-]+), customer e-mail (\S+)/.exec(demo);
      assert.ok(match, `no Tailspin agreement in the demo output:\n${demo}`);
      tailspin = { license: match[1], authorization: match[2], email: match[3] };
      await runOnce(bin, ['partner', 'add', '--org', 'Litware Reseller', '--email', NINA.email, '--data', dataDir]);
      const start = isoDate(now);
      const end = isoDate(new Date(now.getTime() + 3 * 365 * 86400000));
      const csv = ['license_number,authorization_number,customer_name,customer_country,customer_email,partner_name,start_date,end_date,lines',
        ...Object.values(IMPORTED).map((a) => [a.license, a.authorization, a.customer, a.country, a.email, 'Fabrikam Partners', start, end, 'enterprise:5'].join(','))];
      const file = path.join(path.dirname(dataDir), 'agreements.csv');
      await fs.writeFile(file, `${csv.join('\n')}\n`);
      await runOnce(bin, ['import', 'agreements', file, '--data', dataDir]);
    },
  });
  ({ page, baseUrl } = env);
});

after(() => env?.stop());

const step = stepper();
const heading = () => page.getByRole('heading', { level: 1 });
const status = () => page.getByTestId('status');
const focused = (locator) => locator.evaluate((el) => el === document.activeElement);

async function signIn(user) {
  await page.getByTestId('field-email').fill(user.email);
  await page.getByTestId('field-password').fill(user.password);
  await page.getByTestId('signin-form-submit').click();
}

const signOut = () => signOutOf(page, baseUrl);

/** `field` is marked invalid and described by an error that says `message`. */
async function expectFieldError(field, message) {
  await waitFor(`"${message}" on a field`, async () => (await field.getAttribute('aria-invalid')) === 'true', { timeoutMs: 5000 });
  const ids = ((await field.getAttribute('aria-describedby')) || '').split(/\s+/).filter(Boolean);
  const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).textContent()));
  assert.ok(texts.some((text) => text.trim() === message), `expected "${message}" among ${JSON.stringify(texts)}`);
}

/** The newest mail to `to` whose text matches `pattern`, once it has arrived. */
async function mailTo(to, pattern) {
  return waitFor(`a mail to ${to} matching ${pattern}`, async () => (await readMaildir(env.maildir))
    .filter((m) => (m.headers.get('to') || '').includes(to) && pattern.test(textOf(m))).at(-1), { process: env.server });
}

/** The signed hand-off address of a license (what "click here" redirects to), without using it. */
async function handoffAddress(license) {
  const answer = await page.request.get(`${baseUrl}/api/v1/lsc/licenses/${license}/handoff`, { maxRedirects: 0 });
  assert.equal(answer.status(), 303);
  const location = answer.headers().location;
  assert.match(location, new RegExp(`^${baseUrl}/handoff\\?token=`));
  return location;
}

// ---- a partner nobody knows yet registers with the order's numbers --------------------------

step('a new partner user signs up and confirms the address', async () => {
  await page.goto(`${baseUrl}/signup`);
  await page.getByLabel('Name').fill(NINA.name);
  await page.getByLabel('E-mail address').fill(NINA.email);
  await page.getByLabel('Password').fill(NINA.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await heading().filter({ hasText: 'Check your inbox' }).waitFor();

  const mail = await mailTo(NINA.email, /\/verify\?token=/);
  const link = /(https?:\/\/\S+?\/verify\?token=[^\s<>"')\]]+)/.exec(textOf(mail))[1];
  await page.goto(link);
  await page.getByRole('button', { name: 'Confirm my e-mail address' }).click();
  await page.waitForURL(`${baseUrl}/signin`);
  await page.getByLabel('Password').fill(NINA.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/home`);
});

step('signed in but not recognized: the page says why, what to do, and offers the registration', async () => {
  await heading().filter({ hasText: 'You are not a recognized user' }).waitFor();
  assert.equal(await page.title(), 'You are not a recognized user · openseat');
  const why = page.getByTestId('not-recognized');
  await why.getByText(`No agreement lists ${NINA.email} as an administrator or a partner`).waitFor();
  await why.getByText('Check that you signed in with the address given on the order.').waitFor();
  await why.getByText('You work for the customer? Ask one of the super admins of its agreement to add you as an administrator.').waitFor();
  await why.getByText('As a partner, register for an Open License your organization placed, below.').waitFor();
  // Nina's organization is in openseat already: no name to give.
  assert.equal(await page.getByTestId('field-organization_name').count(), 0);
  await page.getByRole('heading', { name: 'Open License partner registration' }).waitFor();
  await env.screenshots('not-recognized');
});

step('the registration checks the attestation, and never says which detail did not match', async () => {
  const form = page.getByTestId('registration-form');
  await form.getByLabel('Authorization number').fill(tailspin.authorization);
  await form.getByLabel('License number').fill(tailspin.license);
  await form.getByLabel('Customer e-mail from the order').fill('someone.else@tailspin.example');
  const attestation = form.getByRole('checkbox', { name: /I confirm that the customer authorized my organization/ });
  // The box's label says what the access allows, and what it does not.
  const label = await attestation.evaluate((box) => box.labels[0].textContent);
  assert.match(label, /manage subscribers, export subscriber lists and see the activity log/);
  assert.match(label, /not be able to manage the customer’s administrators or preferences/);

  await form.getByRole('button', { name: 'Register' }).click();
  await expectFieldError(attestation, 'Tick this box to confirm that the customer authorized you.');
  assert.equal(await focused(attestation), true, 'the focus is on the box to tick');

  await attestation.check();
  await env.expecting([422], async () => {
    await form.getByRole('button', { name: 'Register' }).click();
    await page.getByTestId('registration-form-message')
      .filter({ hasText: 'These details do not match an Open License agreement.' }).waitFor();
  });
  // The first mismatch of this user: four more before the registration locks.
  await page.getByTestId('registration-form-message').filter({ hasText: '4 tries left before registration is locked for a while.' }).waitFor();
  assert.equal(await form.locator('[aria-invalid="true"]').count(), 0, 'no field is singled out');
  assert.equal(await focused(form.getByRole('button', { name: 'Register' })), true, 'the focus stays on the button');
});

step('with the right details the partner lands on the agreement', async () => {
  await page.getByTestId('registration-form').getByLabel('Customer e-mail from the order').fill(tailspin.email);
  await page.getByRole('button', { name: 'Register' }).click();
  await page.waitForURL(`${baseUrl}/agreements/${tailspin.license}`);
  await heading().filter({ hasText: `Agreement ${tailspin.license}` }).waitFor();
  await status().filter({ hasText: `You now manage the developer subscriptions of license ${tailspin.license}.` }).waitFor();
  await page.getByTestId('agreement-customer').filter({ hasText: 'Tailspin Toys (Belgium)' }).waitFor();
  await page.getByTestId('agreement-role').filter({ hasText: 'Partner' }).waitFor();
  assert.equal(await page.getByTestId('tab-partners').count(), 0, 'no Partners tab for a partner');
  // The header shows the agreement in the picker, and the start page now picks agreements.
  await page.getByTestId('header-picker-combobox').filter({ hasText: 'Tailspin Toys' }).waitFor();
  await env.screenshots('agreement');
  await page.getByTestId('nav-home').click();
  await heading().filter({ hasText: `Welcome, ${NINA.name}` }).waitFor();
  await page.getByRole('combobox', { name: 'Agreement' }).filter({ hasText: 'Tailspin Toys' }).waitFor();
  await signOut();
});

// ---- "New Open license" in the agreement picker -------------------------------------------

step('the picker lists the partner\'s agreements with role, status and dates, and "New Open license"', async () => {
  await signIn(ALEX);
  await page.waitForURL(`${baseUrl}/home`);
  await heading().filter({ hasText: `Welcome, ${ALEX.name}` }).waitFor();
  const combo = page.getByRole('combobox', { name: 'Agreement' });
  await combo.waitFor();
  assert.equal(await combo.getAttribute('aria-expanded'), 'false');

  // From the keyboard: Down opens the list on the shown agreement, End goes to the last entry.
  await combo.focus();
  await page.keyboard.press('ArrowDown');
  assert.equal(await combo.getAttribute('aria-expanded'), 'true');
  const options = page.getByRole('option');
  assert.equal(await options.count(), 3, 'Contoso, Northwind Traders and "New Open license"');
  const contoso = options.filter({ hasText: 'Contoso' });
  assert.match(await contoso.textContent(), /Contoso\s*\d{8}\s*Partner\s*Active\s*\w{3} \d{1,2}, \d{4} to \w{3} \d{1,2}, \d{4}/);
  await options.filter({ hasText: 'Northwind Traders' }).waitFor();
  await env.screenshots('picker-open');
  await page.keyboard.press('End');
  const newLicense = page.getByRole('option', { name: /New Open license/ });
  assert.equal(await combo.getAttribute('aria-activedescendant'), await newLicense.getAttribute('id'));
  await page.keyboard.press('Enter');
});

step('the dialog keeps the focus, closes with Escape and gives the focus back', async () => {
  const dialog = page.getByRole('dialog', { name: 'New Open license' });
  await dialog.waitFor();
  const authorization = dialog.getByLabel('Authorization number');
  assert.equal(await focused(authorization), true, 'the first field has the focus');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(dialog.getByRole('button', { name: 'Cancel' })), true, 'Shift+Tab wraps to the last button');
  await page.keyboard.press('Tab');
  assert.equal(await focused(authorization), true, 'Tab wraps to the first field');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await focused(page.getByRole('combobox', { name: 'Agreement' })), true, 'the focus is back on the picker');
});

step('registering a New Open license selects that agreement', async () => {
  await page.getByRole('combobox', { name: 'Agreement' }).click();
  await page.getByRole('option', { name: /New Open license/ }).click();
  const dialog = page.getByRole('dialog', { name: 'New Open license' });
  // Lower case and without dashes: the server takes the number in any of its usual forms.
  await dialog.getByLabel('Authorization number').fill(tailspin.authorization.replace(/-/g, '').toLowerCase());
  await dialog.getByLabel('License number').fill(tailspin.license);
  await dialog.getByLabel('Customer e-mail from the order').fill(tailspin.email);
  await dialog.getByRole('checkbox').check();
  await env.screenshots('new-license-dialog');
  await dialog.getByRole('button', { name: 'Register' }).click();
  await page.waitForURL(`${baseUrl}/agreements/${tailspin.license}`);
  await dialog.waitFor({ state: 'detached' });
  await heading().filter({ hasText: `Agreement ${tailspin.license}` }).waitFor();
  await status().filter({ hasText: `license ${tailspin.license}` }).waitFor();
  await page.getByTestId('header-picker-combobox').filter({ hasText: 'Tailspin Toys' }).waitFor();
  await page.getByTestId('agreement-role').filter({ hasText: 'Partner' }).waitFor();
});

step('the header picker switches agreements from the keyboard', async () => {
  const combo = page.getByTestId('header-picker-combobox');
  await combo.focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Home');
  const first = page.getByRole('option').first();
  assert.match(await first.textContent(), /Contoso/);
  const contosoLicense = await first.getAttribute('data-value');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${baseUrl}/agreements/${contosoLicense}`);
  await heading().filter({ hasText: `Agreement ${contosoLicense}` }).waitFor();
  assert.equal(await focused(heading()), true, 'the new page\'s heading has the focus');
  await page.getByTestId('header-picker-combobox').filter({ hasText: 'Contoso' }).waitFor();
  assert.equal(await page.getByTestId('nav-home').getAttribute('aria-current'), 'true');

  // The Partners page is for the customer's super admins only.
  await env.expecting([403], async () => {
    await page.goto(`${baseUrl}/agreements/${contosoLicense}/partners`);
    await page.getByTestId('partners-forbidden')
      .getByText('Only the customer’s super admins and partner managers can see and manage the partners of this agreement.').waitFor();
  });
  assert.equal(await status().textContent(), '', 'no error message in the status line');
});

// ---- the licensing center's "click here" --------------------------------------------------

let spentHandoff;

step('"click here" in the licensing center gives access and opens the agreement', async () => {
  page.on('request', (request) => {
    if (request.isNavigationRequest() && /\/handoff\?token=/.test(request.url())) spentHandoff = request.url();
  });
  await page.getByTestId('nav-lsc').click();
  await page.getByTestId('relationships-table').getByRole('link', { name: IMPORTED.contoso.license }).click();
  await heading().filter({ hasText: `License ${IMPORTED.contoso.license}` }).waitFor();
  await page.getByRole('link', { name: 'To manage subscriptions, click here' }).click();
  await page.waitForURL(`${baseUrl}/agreements/${IMPORTED.contoso.license}`);
  await heading().filter({ hasText: `Agreement ${IMPORTED.contoso.license}` }).waitFor();
  await status().filter({ hasText: `You now manage the developer subscriptions of license ${IMPORTED.contoso.license}.` }).waitFor();
  await page.getByTestId('agreement-role').filter({ hasText: 'Partner' }).waitFor();
  assert.ok(spentHandoff, 'the link went through /handoff');
});

step('a used link explains itself and points back to the licensing center', async () => {
  await env.expecting([410], async () => {
    await page.goto(spentHandoff);
    await heading().filter({ hasText: 'This link no longer works' }).waitFor();
  });
  await page.getByText('Links from the licensing service center work once, for 10 minutes.').waitFor();
  await page.getByRole('link', { name: 'Open the licensing center' }).waitFor();
  await env.screenshots('handoff-invalid');
});

step('signed out, the link goes through sign-in; the wrong address is told to sign in again', async () => {
  const link = await handoffAddress(IMPORTED.wideWorld.license);
  await signOut();
  await page.goto(link);
  await page.waitForURL(`${baseUrl}/signin`);
  await status().filter({ hasText: 'Sign in with the address you use in the licensing service center' }).waitFor();
  await page.getByRole('link', { name: 'Create an account' }).waitFor();

  await env.expecting([403], async () => {
    await signIn(NINA);
    await heading().filter({ hasText: 'Signed in with another address' }).waitFor();
  });
  assert.equal(new URL(page.url()).pathname, '/handoff');
  await page.getByText(`You are signed in as ${NINA.email}`).waitFor();
  await env.screenshots('handoff-wrong-account');

  await page.getByRole('button', { name: 'Sign out and sign in again' }).click();
  await page.waitForURL(`${baseUrl}/signin`);
  await status().filter({ hasText: 'Sign in with the address you use in the licensing service center' }).waitFor();
  await signIn(ALEX);
  await page.waitForURL(`${baseUrl}/agreements/${IMPORTED.wideWorld.license}`);
  await heading().filter({ hasText: `Agreement ${IMPORTED.wideWorld.license}` }).waitFor();
  await page.getByTestId('agreement-customer').filter({ hasText: 'Wide World Importers' }).waitFor();
});

step('the way back to the link survives signing up and confirming the address first', async () => {
  const link = await handoffAddress(IMPORTED.wideWorld.license);
  await signOut();
  await page.goto(link);
  await page.waitForURL(`${baseUrl}/signin`);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Name').fill(NEWCOMER.name);
  await page.getByLabel('E-mail address').fill(NEWCOMER.email);
  await page.getByLabel('Password').fill(NEWCOMER.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await heading().filter({ hasText: 'Check your inbox' }).waitFor();
  const mail = await mailTo(NEWCOMER.email, /\/verify\?token=/);
  await page.goto(/(https?:\/\/\S+?\/verify\?token=[^\s<>"')\]]+)/.exec(textOf(mail))[1]);
  await page.getByRole('button', { name: 'Confirm my e-mail address' }).click();
  await page.waitForURL(`${baseUrl}/signin`);
  await page.getByLabel('Password').fill(NEWCOMER.password);
  // Back at the link, which is not for this address.
  await env.expecting([403], async () => {
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading().filter({ hasText: 'Signed in with another address' }).waitFor();
  });
  assert.equal(page.url(), link);
});

// ---- the customer hears of it and removes the partner -------------------------------------

let partnersLink;

step('the customer is told by e-mail, with a link to the Partners page', async () => {
  const mail = await mailTo(CAMILLE.email, new RegExp(`/agreements/${IMPORTED.contoso.license}/partners`));
  const text = textOf(mail);
  assert.match(text, /Fabrikam Partners/);
  assert.match(text, new RegExp(ALEX.email.replace(/\./g, '\\.')));
  partnersLink = new RegExp(`(https?://\\S+/agreements/${IMPORTED.contoso.license}/partners)`).exec(text)[1];
  assert.equal(partnersLink, `${baseUrl}/agreements/${IMPORTED.contoso.license}/partners`);
});

step('following the link, the customer sees who has access, and how', async () => {
  await signOut();
  await page.goto(partnersLink);
  await page.waitForURL(`${baseUrl}/signin`);
  await signIn(CAMILLE);
  await page.waitForURL(partnersLink);
  // Camille's profile says French.
  await heading().filter({ hasText: `Partenaires du contrat ${IMPORTED.contoso.license}` }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal(await page.getByTestId('tab-partners').getAttribute('aria-current'), 'page');
  const row = page.getByTestId('partners-table').getByRole('row', { name: /Fabrikam Partners/ });
  // One row for the organization: how it came, what it may do, who acts, until when.
  await row.getByText('Lien du centre de licences').waitFor();
  await row.getByText('Consulter les abonnés', { exact: true }).waitFor();
  await row.getByText('Ajouter, modifier et retirer des abonnés', { exact: true }).waitFor();
  await row.getByText('Toute l’organisation').waitFor();
  await row.getByText('Actif').waitFor();
  assert.match(await row.locator('time').first().textContent(), /\d{4}/);
  await page.getByText('Aucun partenaire n’est bloqué.').waitFor();
  await env.screenshots('partners');
});

step('removing the access asks first, says the organization is blocked, then lists it under History', async () => {
  const remove = page.getByRole('button', { name: 'Retirer l’accès de Fabrikam Partners' });
  await remove.click();
  let dialog = page.getByRole('dialog', { name: 'Retirer l’accès de Fabrikam Partners ?' });
  await dialog.getByText(`Toutes les personnes de Fabrikam Partners perdent immédiatement l’accès au contrat ${IMPORTED.contoso.license}`).waitFor();
  await dialog.getByText('Fabrikam Partners ne pourra plus accéder à ce contrat, par aucun moyen, tant que vous n’aurez pas levé le blocage.').waitFor();
  assert.equal(await focused(dialog.getByRole('button', { name: 'Annuler' })), true, 'the safe choice has the focus');
  await env.screenshots('remove-dialog');
  await page.keyboard.press('Enter'); // Cancel
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await focused(remove), true, 'the focus is back on the button');

  await remove.click();
  dialog = page.getByRole('dialog', { name: 'Retirer l’accès de Fabrikam Partners ?' });
  await dialog.getByRole('button', { name: 'Retirer l’accès' }).click();
  await dialog.waitFor({ state: 'detached' });
  await status().filter({ hasText: 'L’accès de Fabrikam Partners a été retiré' }).waitFor();
  // Gone from the partners with access, listed under History: who removed it, and when.
  await page.getByTestId('partners-none').filter({ hasText: 'Aucun partenaire n’a accès à ce contrat pour le moment.' }).waitFor();
  assert.equal(await page.getByTestId('partners-table').count(), 0);
  assert.equal(await focused(page.getByRole('heading', { name: 'Partenaires ayant accès' })), true, 'the focus is on the list');
  // The history is folded away until asked for.
  const toggle = page.getByTestId('history-toggle');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  const history = page.getByRole('table', { name: 'Historique (1)' });
  const row = history.getByRole('row', { name: /Fabrikam Partners/ });
  await row.getByText('Retiré').waitFor();
  // The day in words, as running text has it ("le 5 décembre 2029"), not "5 déc. 2029, 10:04".
  await row.getByText(/^le (?:1er|\d{1,2}) [a-zéû]+ \d{4} par Camille Martin$/).waitFor();
  assert.equal(await row.getByRole('button').count(), 0, 'nothing left to remove');
  await page.getByTestId('blocks-table').getByRole('row', { name: /Fabrikam Partners/ })
    .getByRole('button', { name: 'Lever le blocage de Fabrikam Partners' }).waitFor();
  await env.screenshots('partners-removed');

  await mailTo(ALEX.email, new RegExp(IMPORTED.contoso.license));
});

step('the removed partner finds the agreement gone, and the link refused', async () => {
  await signOut();
  await signIn(ALEX);
  await page.waitForURL(`${baseUrl}/home`);
  await heading().filter({ hasText: `Welcome, ${ALEX.name}` }).waitFor();
  await env.expecting([404], async () => {
    await page.goto(`${baseUrl}/agreements/${IMPORTED.contoso.license}`);
    await heading().filter({ hasText: 'Agreement not found' }).waitFor();
  });
  assert.equal(await page.title(), 'Agreement not found · openseat');
  await page.getByText(`Agreement ${IMPORTED.contoso.license} is not among the agreements you may manage.`).waitFor();
  assert.equal(await status().textContent(), '', 'no error message in the status line');
  await env.screenshots('agreement-not-found');

  await page.getByRole('link', { name: 'Go to your agreements' }).click();
  await page.getByRole('combobox', { name: 'Agreement' }).click();
  assert.equal(await page.getByTestId(`picker-option-${IMPORTED.contoso.license}`).count(), 0, 'no longer in the picker');
  await page.keyboard.press('Escape');

  const link = await handoffAddress(IMPORTED.contoso.license);
  await env.expecting([403], async () => {
    await page.goto(link);
    await heading().filter({ hasText: 'Access removed by the customer' }).waitFor();
  });
  await page.getByText('Only one of the customer’s super admins can allow your organization again.').waitFor();
});

step('the customer lifts the block', async () => {
  await signOut();
  await page.goto(partnersLink);
  await signIn(CAMILLE);
  await page.waitForURL(partnersLink);
  await page.getByRole('button', { name: 'Lever le blocage de Fabrikam Partners' }).click();
  await status().filter({ hasText: 'Le blocage est levé : Fabrikam Partners peut de nouveau accéder à ce contrat.' }).waitFor();
  await page.getByText('Aucun partenaire n’est bloqué.').waitFor();
  assert.equal(await focused(page.getByRole('heading', { name: 'Partenaires bloqués' })), true, 'the focus is on the blocks');
});

step('after too many wrong attempts the dialog says when to try again', async () => {
  await signOut();
  await signIn(ALEX);
  await page.waitForURL(`${baseUrl}/home`);
  await page.getByRole('combobox', { name: 'Agreement' }).click();
  await page.getByRole('option', { name: /New Open license/ }).click();
  const dialog = page.getByRole('dialog', { name: 'New Open license' });
  await dialog.getByLabel('Authorization number').fill(tailspin.authorization);
  await dialog.getByLabel('License number').fill('00000000');
  await dialog.getByLabel('Customer e-mail from the order').fill(tailspin.email);
  await dialog.getByRole('checkbox').check();
  const message = page.getByTestId('new-license-form-message');
  await env.expecting([422, 429], async () => {
    for (let attempt = 1; attempt <= 5; attempt++) {
      await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/v1/partner-registrations') && r.status() === 422),
        dialog.getByRole('button', { name: 'Register' }).click(),
      ]);
      await message.filter({ hasText: 'These details do not match an Open License agreement.' }).waitFor();
    }
    await dialog.getByRole('button', { name: 'Register' }).click();
    await message.filter({ hasText: /^Too many attempts\. Please try again in \d+ minutes\.$/ }).waitFor();
  });
  await env.screenshots('new-license-throttled');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
});

test('no request left 127.0.0.1', () => {
  assert.deepEqual(env.offsite, []);
});

test('no console errors (CSP violations included)', () => {
  assert.deepEqual(env.consoleErrors, []);
});
