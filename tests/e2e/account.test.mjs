// Browser test of the account pages against the real server: sign up, confirm the address from
// the mail, sign in, switch language, sign out. Everything runs on 127.0.0.1 and is started and
// stopped here: an SMTP sink that stores mail in a Maildir, the server, and Debian's Chromium.
//
//   cd tests/e2e && npm ci && npm test
//   OPENSEAT_BIN=/path/to/openseat npm test       (default: ../../build/openseat-test)
//   OPENSEAT_WEB_DIR=../../web npm test            (serve web/ from disk instead of the embedded copy)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ARTIFACTS, startEnvironment, stepper } from './lib/harness.mjs';
import { readMaildir, textOf } from './lib/mail.mjs';
import { waitFor } from './lib/processes.mjs';

const USER = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse battery staple' };

let env;
let page;
let baseUrl;

before(async () => {
  env = await startEnvironment();
  ({ page, baseUrl } = env);
});

after(() => env?.stop());

const step = stepper();

const heading = () => page.getByRole('heading', { level: 1 });
const status = () => page.getByTestId('status');

let verifyLink;

/** The link of the newest verification mail to USER, once there are `count` of them. */
async function verificationLink(count) {
  const mails = await waitFor(`verification mail #${count}`, async () => {
    const found = (await readMaildir(env.maildir))
      .filter((m) => (m.headers.get('to') || '').includes(USER.email) && /\/verify\?token=/.test(textOf(m)));
    return found.length >= count && found;
  }, { process: env.server });
  const text = textOf(mails[mails.length - 1]);
  const match = /(https?:\/\/\S+?\/verify\?token=[^\s<>"')\]]+)/.exec(text);
  assert.ok(match, `no verification link in:\n${text}`);
  assert.ok(match[1].startsWith(`${baseUrl}/verify?token=`), `link ${match[1]} does not point at ${baseUrl}`);
  return match[1];
}

/** Runs `fn` while the listed HTTP error statuses are expected in the console. */
const expectingStatuses = (statuses, fn) => env.expecting(statuses, fn);

step('signing up sends a verification mail', async () => {
  await page.goto(`${baseUrl}/signup`);
  await heading().filter({ hasText: 'Create your account' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.setViewportSize({ width: 320, height: 720 });
  await page.screenshot({ path: path.join(ARTIFACTS, 'signup-320.png'), fullPage: true });
  await page.setViewportSize({ width: 1100, height: 760 });

  await page.getByLabel('Name').fill(USER.name);
  await page.getByLabel('E-mail address').fill(USER.email);
  await page.getByLabel('Password').fill(USER.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await heading().filter({ hasText: 'Check your inbox' }).waitFor();

  verifyLink = await verificationLink(1);
});

step('an unconfirmed account cannot sign in, and can have the link sent again', async () => {
  await page.goto(`${baseUrl}/signin`);
  await page.getByLabel('E-mail address').fill(USER.email);
  await page.getByLabel('Password').fill(USER.password);
  await expectingStatuses([403], async () => {
    await page.getByRole('button', { name: 'Sign in' }).click();
    await status().filter({ hasText: 'Please confirm your e-mail address first' }).waitFor();
  });
  await status().getByRole('button', { name: 'Send the link again' }).click();
  await status().filter({ hasText: 'a new link is on its way' }).waitFor();
  verifyLink = await verificationLink(2);
});

step('a wrong password gets the same message as an unknown address', async () => {
  await expectingStatuses([401], async () => {
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await status().filter({ hasText: 'The e-mail address or password is incorrect.' }).waitFor();
    await page.getByLabel('E-mail address').fill('nobody@example.com');
    await Promise.all([
      page.waitForResponse((response) => response.url().endsWith('/api/v1/session') && response.status() === 401),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    await status().filter({ hasText: 'The e-mail address or password is incorrect.' }).waitFor();
  });
  assert.equal(page.url(), `${baseUrl}/signin`);
});

step('the link confirms the address only after a click', async () => {
  await page.goto(verifyLink);
  await heading().filter({ hasText: 'Confirm your e-mail address' }).waitFor();
  await page.getByRole('button', { name: 'Confirm my e-mail address' }).click();
  await page.waitForURL(`${baseUrl}/signin`);
  await status().filter({ hasText: 'Your e-mail address is confirmed' }).waitFor();
  assert.equal(await page.getByLabel('E-mail address').inputValue(), USER.email, 'address is prefilled');
});

step('signing in shows the home page; no agreement knows the address yet', async () => {
  await page.getByLabel('Password').fill(USER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/home`);
  await heading().filter({ hasText: 'You are not a recognized user' }).waitFor();
  await page.getByText(`No agreement lists ${USER.email} as an administrator or a partner`).waitFor();
  // In no partner organization yet: a reseller's new employee registers their organization
  // with the order's numbers; the page says so, beside the way for a customer's colleague.
  assert.equal(await page.getByTestId('registration').count(), 1);
  await page.getByLabel('Your partner organization’s name').waitFor();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
});

step('switching to French translates the page without reloading it', async () => {
  await page.evaluate(() => { window.sameDocument = true; });
  await page.getByRole('button', { name: 'Français' }).click();
  await heading().filter({ hasText: 'Cette adresse n’est pas reconnue' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal(await page.getByRole('button', { name: 'Français' }).getAttribute('aria-pressed'), 'true');
  await page.getByText(`Aucun contrat n’indique ${USER.email} comme administrateur ou partenaire`).waitFor();
  assert.equal(await page.evaluate(() => window.sameDocument), true, 'the page was not reloaded');
});

step('French is kept after a reload', async () => {
  await page.reload();
  await heading().filter({ hasText: 'Cette adresse n’est pas reconnue' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal(await page.evaluate(() => localStorage.getItem('openseat.lang')), 'fr');
  await page.screenshot({ path: path.join(ARTIFACTS, 'home-fr.png'), fullPage: true });
});

step('signing out leads back to the sign-in page', async () => {
  await page.getByRole('button', { name: 'Se déconnecter' }).click();
  await page.waitForURL(`${baseUrl}/signin`);
  await status().filter({ hasText: 'Votre session est fermée.' }).waitFor();
  await page.goto(`${baseUrl}/home`);
  await page.waitForURL(`${baseUrl}/signin`); // /home needs a session
  await page.setViewportSize({ width: 320, height: 720 });
  await page.screenshot({ path: path.join(ARTIFACTS, 'signin-fr-320.png'), fullPage: true });
});

test('no request left 127.0.0.1', () => {
  assert.deepEqual(env.offsite, []);
});

test('no console errors (CSP violations included)', () => {
  assert.deepEqual(env.consoleErrors, []);
});
