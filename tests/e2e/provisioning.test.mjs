// Browser test of the Provisioning page, against the real server with the demo data:
//   - a provisioning token is made for the agreement and the test, as the identity provider,
//     pushes two people and a group through SCIM;
//   - the super admin opens the page from the agreement's tabs, sees the SCIM base URL and the
//     group with its member count, adds a rule, reads the preview (who gains), applies it and
//     finds the seats on the subscribers page; changes the rule's level (who changes level) and
//     removes it with the keyboard alone (who loses);
//   - a plan the members overtook is refused with "Preview again";
//   - the same in English (Olivia, Northwind) and in French (Camille, Contoso), labels read from
//     the screen; axe finds nothing on the page and the dialog.
//
//   cd tests/e2e && npm ci && node --test provisioning.test.mjs

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { axeViolations } from './lib/axe.mjs';
import { demoEnvironment, stepper } from './lib/harness.mjs';
import { sessionApi, signIn, signOut } from './lib/session.mjs';

const OLIVIA = { email: 'olivia@northwind.example', password: 'demo-password-1', customer: 'Northwind', domain: 'northwind.example', lang: 'en' };
const CAMILLE = { email: 'camille@contoso.example', password: 'demo-password-1', customer: 'Contoso', domain: 'contoso.example', lang: 'fr' };

const WORDS = {
  en: { tab: 'Provisioning', add: 'Add a rule', gains: /2 people gain a seat/, apply: 'Apply', changes: /Change level \(2\)/, losses: /Lose a seat \(2\)/, again: 'Preview again', applied: 'The rule is applied.' },
  fr: { tab: 'Provisionnement', add: 'Ajouter une règle', gains: /2 personnes reçoivent une place/, apply: 'Appliquer', changes: /Changent de niveau \(2\)/, losses: /Perdent une place \(2\)/, again: 'Afficher de nouveau l’aperçu', applied: 'La règle est appliquée.' },
};

let env;
let page;
let baseUrl;

before(async () => {
  env = await demoEnvironment();
  ({ page, baseUrl } = env);
});

after(() => env?.stop());

const step = stepper();

async function scim(token, lic, method, path, body) {
  const answer = await fetch(`${baseUrl}/api/v1/agreements/${lic}/scim/v2${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/scim+json', 'Content-Type': 'application/scim+json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await answer.text();
  return { status: answer.status, body: text ? JSON.parse(text) : null };
}

async function tabTo(testid, most = 60) {
  for (let i = 0; i < most; i++) {
    if (await page.evaluate((id) => document.activeElement?.dataset?.testid === id, testid)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${testid}`);
}

function journey(who) {
  const w = WORDS[who.lang];
  let lic;
  let token;
  let people;
  let group;

  step(`${who.lang}: the identity provider pushes two people and a group`, async () => {
    await signIn(page, baseUrl, who);
    const list = await sessionApi(page, baseUrl, 'GET', '/agreements');
    lic = list.body.agreements.find((a) => a.customer?.name?.startsWith(who.customer)).license_number;
    const t = await sessionApi(page, baseUrl, 'POST', '/tokens', { name: 'Entra ID', agreement: lic, capabilities: ['provisioning'] });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    token = t.body.secret;
    people = [];
    for (const name of ['ada', 'grace']) {
      const email = `${name}.${Date.now()}@${who.domain}`;
      const r = await scim(token, lic, 'POST', '/Users', { userName: email, displayName: `${name} ${who.lang}`, emails: [{ value: email, type: 'work' }], active: true });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      people.push(r.body);
    }
    const g = await scim(token, lic, 'POST', '/Groups', { displayName: `Engineering ${who.lang}`, members: people.map((p) => ({ value: p.id })) });
    assert.equal(g.status, 201, JSON.stringify(g.body));
    group = g.body;
  });

  step(`${who.lang}: the page shows the base URL and the group; a rule is added after its preview`, async () => {
    await page.goto(`${baseUrl}/agreements/${lic}/tokens`);
    await page.getByTestId('tab-provisioning').click();
    await page.waitForURL(`${baseUrl}/agreements/${lic}/provisioning`);
    assert.equal((await page.getByTestId('tab-provisioning').textContent()).trim(), w.tab);
    assert.match(await page.getByTestId('provisioning-base-url').textContent(), new RegExp(`/api/v1/agreements/${lic}/scim/v2$`));
    const row = page.getByTestId('provisioning-group').filter({ hasText: group.displayName });
    await row.waitFor();
    assert.match(await row.textContent(), /2/);
    assert.deepEqual(await axeViolations(page), [], 'axe: the page');
    await page.getByRole('button', { name: w.add }).click();
    const dialog = page.getByTestId('provisioning-dialog');
    await dialog.locator('select').first().selectOption(group.id);
    await dialog.getByTestId('provisioning-form-submit').click();
    await dialog.getByTestId('preview-summary').waitFor();
    assert.match(await dialog.getByTestId('preview-summary').textContent(), w.gains);
    for (const p of people) assert.match(await dialog.getByTestId('preview-gains').textContent(), new RegExp(p.userName.replace('.', '\\.')));
    assert.deepEqual(await axeViolations(page), [], 'axe: the preview');
    await dialog.getByRole('button', { name: w.apply }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByTestId('provisioning-rule').filter({ hasText: group.displayName }).waitFor();
    await page.goto(`${baseUrl}/agreements/${lic}`);
    for (const p of people) await page.getByText(p.userName).first().waitFor();
  });

  step(`${who.lang}: a plan the members overtook is refused, previewed again, then the level changes`, async () => {
    await page.goto(`${baseUrl}/agreements/${lic}/provisioning`);
    await page.getByTestId('provisioning-change').first().click();
    const dialog = page.getByTestId('provisioning-dialog');
    const levels = await dialog.locator('select').first().locator('option').evaluateAll((os) => os.map((o) => o.value));
    const current = await dialog.locator('select').first().inputValue();
    const other = levels.find((l) => l !== current);
    await dialog.locator('select').first().selectOption(other);
    await dialog.getByTestId('provisioning-form-submit').click();
    await dialog.getByTestId('preview-changes').waitFor();
    assert.match(await dialog.getByTestId('preview-changes').textContent(), w.changes);
    // Meanwhile, the provider takes grace out of the group: the plan no longer holds.
    const r = await scim(token, lic, 'PATCH', `/Groups/${group.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'remove', path: `members[value eq "${people[1].id}"]` }] });
    assert.equal(r.status, 200);
    await dialog.getByRole('button', { name: w.apply }).click();
    await dialog.getByRole('button', { name: w.again }).waitFor();
    const back = await scim(token, lic, 'PATCH', `/Groups/${group.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: people[1].id }] }] });
    assert.equal(back.status, 200);
    await dialog.getByRole('button', { name: w.again }).click();
    await dialog.getByTestId('preview-changes').waitFor();
    await dialog.getByRole('button', { name: w.apply }).click();
    await dialog.waitFor({ state: 'detached' });
  });

  step(`${who.lang}: the rule is removed with the keyboard alone`, async () => {
    await page.goto(`${baseUrl}/agreements/${lic}/provisioning`);
    await page.getByTestId('provisioning-remove').first().waitFor();
    await page.getByTestId('tab-provisioning').focus();
    await tabTo('provisioning-remove');
    await page.keyboard.press('Enter');
    const dialog = page.getByTestId('provisioning-dialog');
    await dialog.getByTestId('preview-losses').waitFor();
    assert.match(await dialog.getByTestId('preview-losses').textContent(), w.losses);
    await tabTo('provisioning-apply');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await page.getByTestId('provisioning-no-rules').waitFor();
    await signOut(page, baseUrl);
  });
}

journey(OLIVIA);
journey(CAMILLE);
