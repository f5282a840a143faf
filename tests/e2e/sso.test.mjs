// Browser test of signing in with the organization's OpenID Connect provider, against the real
// server and a real provider (tests/peers/oidc-provider.mjs, its login and consent pages HTML
// forms), both on 127.0.0.1 and started by this test. In English and then in French:
//   - an address of a routed domain on the sign-in page shows "Continue with <provider>" (read
//     from the screen); the provider's login and consent pages lead back signed in; signing out
//     ends openseat's session;
//   - an address of a domain that must use its provider is refused the password, in words;
//   - an address the provider has not verified comes back to the sign-in page, said in words;
//   - once, keyboard only: from the address field to the provider and back;
//   - axe finds nothing on openseat's pages along the way.
//
//   cd tests/e2e && npm ci && (cd ../peers && npm ci) && node --test sso.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { axeViolations } from './lib/axe.mjs';
import { startEnvironment, stepper } from './lib/harness.mjs';
import { startProvider } from './lib/oidc.mjs';
import { freePort } from './lib/processes.mjs';
import { sessionApi } from './lib/session.mjs';

const PROVIDER = 'Corp Login';

const WORDS = {
  en: {
    continue: `Continue with ${PROVIDER}`,
    required: 'Your organization asks you to sign in with its sign-in service: choose “Continue with” it.',
    unverified: 'Your organization’s sign-in service has not confirmed your e-mail address. Contact your administrator.',
  },
  fr: {
    continue: `Continuer avec ${PROVIDER}`,
    // French typography: no-break spaces before the colon and inside the guillemets.
    required: 'Votre organisation vous demande de vous connecter avec son service de connexion\u00a0: choisissez «\u00a0Continuer avec\u00a0».',
    unverified: 'Le service de connexion de votre organisation n’a pas confirmé votre adresse e-mail. Contactez la personne qui administre votre compte.',
  },
};

let env;
let page;
let baseUrl;
let provider;
let dir;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'openseat-e2e-sso-'));
  const port = await freePort();
  provider = await startProvider({
    serverPort: port, dir,
    providers: [
      { name: PROVIDER, domains: ['corp.example'] },
      { name: 'Strict Login', domains: ['strict.example'], required: true },
    ],
  });
  env = await startEnvironment({ port, serverArgs: ['--sso-config', provider.configFile, '--sso-allow-private'] });
  ({ page, baseUrl } = env);
});

after(async () => {
  await env?.stop();
  await provider?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

const step = stepper();

/** The sign-in page with `email` typed (the provider is looked up when the field is left).
 * Each address here is another person at the browser: the provider's session of the one
 * before (which signing out of openseat leaves alone, docs/sso.md) is forgotten first. */
async function typeAddress(email, lang) {
  await env.context.clearCookies({ name: /^_session/ });
  await page.goto(`${baseUrl}/signin`);
  await chooseLanguage(lang);
  await page.getByTestId('field-email').fill(email);
  await page.getByTestId('field-email').blur();
}

/** The provider's own pages: its login form, then its consent. */
async function atTheProvider(who) {
  await page.waitForURL((url) => url.origin === provider.issuer);
  await page.getByLabel('E-mail address').fill(who.email);
  await page.getByLabel('Password').fill('provider-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Allow access' }).waitFor();
  await page.getByRole('button', { name: 'Continue' }).click();
}

/** The page in `lang`, chosen with the header's switch when it is not (a guest's choice). */
async function chooseLanguage(lang) {
  if (await page.evaluate(() => document.documentElement.lang) === lang) return;
  await page.getByTestId(`lang-${lang}`).click();
  await page.waitForFunction((want) => document.documentElement.lang === want, lang);
}

async function signedInAs(email, method = 'sso') {
  await page.waitForURL(`${baseUrl}/home`);
  const { body } = await sessionApi(page, baseUrl, 'GET', '/session');
  assert.equal(body.authenticated, true);
  assert.equal(body.user.email, email);
  assert.equal(body.auth_method, method);
}

for (const lang of ['en', 'fr']) {
  const words = WORDS[lang];
  const who = { sub: `sub-${lang}`, email: `dana.${lang}@corp.example`, email_verified: true, name: `Dana ${lang}` };

  step(`${lang}: the routed address shows the provider, whose pages lead back signed in`, async () => {
    await provider.person(who);
    await typeAddress(who.email, lang);
    const button = page.getByTestId('signin-sso-continue');
    assert.equal((await button.textContent()).trim(), words.continue);
    assert.deepEqual(await axeViolations(page), []);
    await page.getByRole('button', { name: words.continue }).click();
    await atTheProvider(who);
    await signedInAs(who.email);
    assert.deepEqual(await axeViolations(page), []);
  });

  step(`${lang}: signing out ends openseat's session`, async () => {
    await page.getByTestId('sign-out').click();
    await page.waitForURL(`${baseUrl}/signin`);
    const { body } = await sessionApi(page, baseUrl, 'GET', '/session');
    assert.equal(body.authenticated, false);
    await page.goto(`${baseUrl}/home`);
    await page.waitForURL((url) => url.pathname === '/signin');
  });

  step(`${lang}: a domain that must use its provider is refused the password, in words`, async () => {
    await typeAddress(`someone.${lang}@strict.example`, lang);
    await page.getByTestId('signin-sso-continue').waitFor();
    await page.getByTestId('field-password').fill('a-password-that-is-not-asked');
    await env.expecting([403], async () => {
      await page.getByTestId('signin-form-submit').click();
      await page.getByText(words.required).waitFor();
    });
    const { body } = await sessionApi(page, baseUrl, 'GET', '/session');
    assert.equal(body.authenticated, false);
    assert.deepEqual(await axeViolations(page), []);
  });

  step(`${lang}: an address the provider has not verified comes back refused, in words`, async () => {
    const unverified = { sub: `sub-unverified-${lang}`, email: `lee.${lang}@corp.example`, email_verified: false, name: 'Lee' };
    await provider.person(unverified);
    await typeAddress(unverified.email, lang);
    await page.getByRole('button', { name: words.continue }).click();
    await atTheProvider(unverified);
    await page.waitForURL((url) => url.pathname === '/signin' && url.searchParams.get('sso_error') === 'sso_email_unverified');
    await page.getByText(words.unverified).waitFor();
    const { body } = await sessionApi(page, baseUrl, 'GET', '/session');
    assert.equal(body.authenticated, false);
    assert.deepEqual(await axeViolations(page), []);
  });
}

step('keyboard only: from the address field through the provider and back', async () => {
  const who = { sub: 'sub-keys', email: 'kim@corp.example', email_verified: true, name: 'Kim' };
  await provider.person(who);
  await env.context.clearCookies({ name: /^_session/ });
  await page.goto(`${baseUrl}/signin`);
  await page.getByTestId('field-email').focus();
  await page.keyboard.type(who.email);
  // Leaving the field looks the provider up; once its button shows, Tab on until it has the focus.
  await page.keyboard.press('Tab');
  await page.getByTestId('signin-sso-continue').waitFor();
  let reached = await page.evaluate(() => document.activeElement?.dataset?.testid === 'signin-sso-continue');
  for (let i = 0; i < 8 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.dataset?.testid === 'signin-sso-continue');
  }
  assert.ok(reached, 'the provider’s button is reached with Tab');
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.origin === provider.issuer);
  await page.keyboard.type(who.email);   // the login field has the focus
  await page.keyboard.press('Tab');
  await page.keyboard.type('provider-password');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Allow access' }).waitFor();
  await page.keyboard.press('Enter');    // the consent's button has the focus
  await signedInAs(who.email);
});

test('no request left 127.0.0.1', () => {
  assert.deepEqual(env.offsite, []);
});

test('no console errors (CSP violations included)', () => {
  assert.deepEqual(env.consoleErrors, []);
});
