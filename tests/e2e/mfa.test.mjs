// Browser test of two-step sign-in, against the real server with the demo data:
//   - Olivia (English) turns it on from her account page: the key is read from the page and
//     Debian's oathtool makes the app's code from it; the recovery codes are shown once;
//   - from her password-only session, requiring strong sign-in on Northwind is refused, the
//     message on the box;
//   - she signs out and in again: the password, then the code step (its field focused, a wrong
//     code said on the field), then the right code; then once more with a recovery code, after
//     which the card counts one code less, and she turns it off with her password and a code;
//   - Camille (French), set up through the API, signs in in French with a code;
//   - axe finds nothing on the card's views and the code step, in both languages.
// Codes are made for distinct 30-second steps (the server takes each step once, ±1 step of now).
//
//   cd tests/e2e && npm ci && node --test mfa.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { axeViolations } from './lib/axe.mjs';
import { demoEnvironment, stepper } from './lib/harness.mjs';
import { sessionApi, signIn as signInAs, signOut } from './lib/session.mjs';

const OLIVIA = { email: 'olivia@northwind.example', password: 'demo-password-1' };
const CAMILLE = { email: 'camille@contoso.example', password: 'demo-password-1' };

let env;
let page;
let baseUrl;
let key;
let codes;

before(async () => {
  env = await demoEnvironment();
  ({ page, baseUrl } = env);
});

after(() => env?.stop());

const step = stepper();
const status = () => page.getByTestId('status');
const focused = () => page.evaluate(() => document.activeElement?.dataset?.testid || document.activeElement?.tagName);

/** The app's code for `secret` (spaces allowed), `offset` seconds from now. */
function totp(secret, offset = 0) {
  const when = `now ${offset < 0 ? '-' : '+'} ${Math.abs(offset)} seconds`;
  return execFileSync('oathtool', ['--totp', '-b', '-N', when, secret.replace(/\s+/g, '')], { encoding: 'utf8' }).trim();
}

/** The password step from the sign-in page, which then asks for the code. */
async function passwordStep(who) {
  await page.goto(`${baseUrl}/signin`);
  await page.getByTestId('field-email').fill(who.email);
  await page.getByTestId('field-password').fill(who.password);
  await page.getByTestId('signin-form-submit').click();
  await page.getByTestId('signin-mfa-form').waitFor();
}

step('the account page turns two-step sign-in on, showing the key and then the recovery codes', async () => {
  await signInAs(page, baseUrl, OLIVIA);
  await page.goto(`${baseUrl}/account`);
  const card = page.getByTestId('account-mfa');
  await card.getByTestId('mfa-off').waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await card.getByRole('button', { name: 'Turn on' }).click();
  key = (await card.getByTestId('mfa-key').textContent()).trim();
  assert.match(key, /^([A-Z2-7]{4} )*[A-Z2-7]{1,4}$/, 'the key comes in groups of four');
  assert.match(await card.getByTestId('mfa-uri').inputValue(), /^otpauth:\/\/totp\//);
  assert.deepEqual(await axeViolations(page), []);

  const field = card.getByLabel('Code from your app');
  await env.expecting([422], async () => {
    await field.fill('000000');
    await card.getByRole('button', { name: 'Confirm and turn on' }).click();
    await card.getByText('This code is not right, or was used already').waitFor();
  });
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  await field.fill(totp(key, -30));
  await card.getByRole('button', { name: 'Confirm and turn on' }).click();
  await card.getByTestId('mfa-codes-warning').waitFor();
  codes = (await card.getByTestId('mfa-codes').locator('li').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  assert.equal(await focused(), 'H3', 'the focus goes to the codes heading');
  assert.deepEqual(await axeViolations(page), []);
  await card.getByRole('button', { name: 'I have kept them' }).click();
  await card.getByTestId('mfa-codes-left').filter({ hasText: 'You have 10 recovery codes left.' }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
});

step('a password-only session cannot require strong sign-in; the box says why', async () => {
  const { body } = await sessionApi(page, baseUrl, 'GET', '/agreements');
  const license = body.agreements.find((a) => a.customer?.name?.startsWith('Northwind')).license_number;
  await page.goto(`${baseUrl}/agreements/${license}/preferences`);
  const box = page.getByTestId('field-require_strong_auth');
  await box.check();
  await env.expecting([422], async () => {
    await page.getByTestId('preferences-form-submit').click();
    await page.getByTestId('error-require_strong_auth')
      .filter({ hasText: 'Sign in with two-step sign-in or your company’s provider before requiring it.' }).waitFor();
  });
  assert.equal(await focused(), 'field-require_strong_auth');
});

step('signing in asks for the code after the password', async () => {
  await signOut(page, baseUrl);
  await passwordStep(OLIVIA);
  const field = page.getByLabel('Code from your app');
  assert.equal(await focused(), 'field-code', 'the code field takes the focus');
  assert.equal(await field.getAttribute('autocomplete'), 'one-time-code');
  assert.equal(await field.getAttribute('inputmode'), 'numeric');
  assert.deepEqual(await axeViolations(page), []);
  await env.expecting([401], async () => {
    await field.fill('123456' === totp(key) ? '654321' : '123456');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('error-code').filter({ hasText: 'This code is not right' }).waitFor();
  });
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  await field.fill(totp(key));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${baseUrl}/home`);
  const { body } = await sessionApi(page, baseUrl, 'GET', '/session');
  assert.equal(body.auth_method, 'mfa');
});

step('a recovery code signs in instead, once', async () => {
  await signOut(page, baseUrl);
  await passwordStep(OLIVIA);
  await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
  const field = page.getByLabel('Recovery code');
  assert.equal(await focused(), 'field-recovery_code');
  assert.deepEqual(await axeViolations(page), []);
  await field.fill(codes[0]);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${baseUrl}/home`);
  await page.goto(`${baseUrl}/account`);
  await page.getByTestId('mfa-codes-left').filter({ hasText: 'You have 9 recovery codes left.' }).waitFor();
});

step('turning it off takes the password and a code', async () => {
  const card = page.getByTestId('account-mfa');
  await card.getByTestId('mfa-off-form').getByLabel('Password').fill(OLIVIA.password);
  await card.getByLabel('Code from your app or recovery code').fill(codes[1]);
  await card.getByRole('button', { name: 'Turn off' }).click();
  await card.getByTestId('mfa-off').waitFor();
  await status().filter({ hasText: 'Two-step sign-in is off.' }).waitFor();
  await signOut(page, baseUrl);
  await signInAs(page, baseUrl, OLIVIA); // the password alone again
});

step('in French: the code step of Camille’s sign-in', async () => {
  await signOut(page, baseUrl);
  await signInAs(page, baseUrl, CAMILLE);
  const begun = await sessionApi(page, baseUrl, 'POST', '/account/mfa');
  assert.equal(begun.status, 200);
  const confirmed = await sessionApi(page, baseUrl, 'POST', '/account/mfa/confirm', { code: totp(begun.body.secret, -30) });
  assert.equal(confirmed.status, 200);
  await page.getByTestId('sign-out').click();
  await page.waitForURL(`${baseUrl}/signin`);
  await page.getByRole('button', { name: 'Français' }).click();
  await page.getByTestId('field-email').fill(CAMILLE.email);
  await page.getByTestId('field-password').fill(CAMILLE.password);
  await page.getByTestId('signin-form-submit').click();
  await page.getByRole('heading', { name: 'Connexion en deux étapes' }).waitFor();
  assert.equal(await focused(), 'field-code');
  await page.getByRole('button', { name: 'Utiliser plutôt un code de secours' }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await page.getByLabel('Code de votre application').fill(totp(begun.body.secret));
  await page.getByRole('button', { name: 'Continuer' }).click();
  await page.waitForURL(`${baseUrl}/home`);
  await page.goto(`${baseUrl}/account`);
  await page.getByTestId('mfa-codes-left').filter({ hasText: 'Il vous reste 10 codes de secours.' }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
});

test('no request left 127.0.0.1', () => {
  assert.deepEqual(env.offsite, []);
});

test('no console errors (CSP violations included)', () => {
  assert.deepEqual(env.consoleErrors, []);
});
