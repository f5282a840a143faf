// Checks of the web UI's files that need no server: the message catalogues agree with each other,
// with the code and with the API contract, and nothing in web/ would trip the server's CSP or
// reach outside the site.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const web = path.join(root, 'web');

const catalogues = {
  en: JSON.parse(await fs.readFile(path.join(web, 'i18n/en.json'), 'utf8')),
  fr: JSON.parse(await fs.readFile(path.join(web, 'i18n/fr.json'), 'utf8')),
};
const keys = Object.keys(catalogues.en);
const files = await listFiles(web);
const sources = Object.fromEntries(await Promise.all(
  files.filter((f) => /\.(js|html|css|svg)$/.test(f)).map(async (f) => [f, await fs.readFile(f, 'utf8')]),
));
const scripts = Object.entries(sources).filter(([f]) => f.endsWith('.js'));
const indexHtml = sources[path.join(web, 'index.html')];

// Keys built at run time from API codes or language codes rather than written out (the
// activity log's from audit actions and target types, the webhooks' from event types).
const DYNAMIC_PREFIXES = ['problem.', 'field.', 'lang.', 'activity.label.', 'activity.action.', 'activity.target.', 'webhooks.event.'];

test('both catalogues have the same keys, all non-empty', () => {
  assert.deepEqual(Object.keys(catalogues.fr).sort(), [...keys].sort());
  for (const [lang, messages] of Object.entries(catalogues)) {
    for (const [key, text] of Object.entries(messages)) {
      assert.ok(typeof text === 'string' && text.trim(), `${lang}: ${key} is empty`);
    }
  }
});

test('translations use the same placeholders', () => {
  const placeholders = (text) => (text.match(/\{\w+\}/g) || []).sort();
  for (const key of keys) {
    assert.deepEqual(placeholders(catalogues.fr[key]), placeholders(catalogues.en[key]), key);
  }
});

test('every message key the code uses exists, and every key is used', () => {
  const namespaces = new Set(keys.map((key) => key.split('.')[0]));
  const used = new Set();
  for (const [, source] of scripts) {
    for (const [, key] of source.matchAll(/'([a-z][A-Za-z]*(?:\.[A-Za-z_0-9]+)+)'/g)) {
      if (namespaces.has(key.split('.')[0])) used.add(key);
    }
  }
  for (const [, key] of indexHtml.matchAll(/data-i18n="([^"]+)"/g)) used.add(key);
  for (const [, pairs] of indexHtml.matchAll(/data-i18n-attr="([^"]+)"/g)) {
    for (const pair of pairs.split(' ')) used.add(pair.split(':')[1]);
  }
  const missing = [...used].filter((key) => !Object.hasOwn(catalogues.en, key));
  assert.deepEqual(missing, [], 'keys used in web/ but missing from the catalogues');
  const unused = keys.filter((key) => !used.has(key) && !DYNAMIC_PREFIXES.some((p) => key.startsWith(p)));
  assert.deepEqual(unused, [], 'catalogue keys nothing uses');
});

test('every problem and field error code of the API contract has a message', async () => {
  const contract = await fs.readFile(path.join(root, 'docs/api-contract.md'), 'utf8');
  const problemsLine = contract.slice(contract.indexOf('Problem `code` values'), contract.indexOf('Field error codes'));
  const problemCodes = [...problemsLine.matchAll(/`([a-z_]+)` \d{3}/g)].map((m) => m[1]);
  const fieldLine = contract.slice(contract.indexOf('Field error codes')).split('\n\n')[0];
  const fieldCodes = [...fieldLine.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
  assert.ok(problemCodes.length > 10 && fieldCodes.length > 5, 'could not read the codes from docs/api-contract.md');
  const missing = [
    ...problemCodes.map((code) => `problem.${code}`),
    ...fieldCodes.map((code) => `field.${code}`),
  ].filter((key) => !Object.hasOwn(catalogues.en, key));
  assert.deepEqual(missing, []);
});

test('nothing in web/ needs an inline script or style, or another site', () => {
  for (const [file, source] of Object.entries(sources)) {
    const name = path.relative(root, file);
    assert.doesNotMatch(source, /\sstyle\s*=/i, `${name}: style attribute (blocked by style-src 'self')`);
    assert.doesNotMatch(source, /<[^>]+\son[a-z]+\s*=/i, `${name}: inline event handler (blocked by script-src 'self')`);
    assert.doesNotMatch(source, /\.innerHTML\b|insertAdjacentHTML|document\.write/, `${name}: HTML from strings`);
    assert.doesNotMatch(source, /\beval\(|new Function\(/, `${name}: eval`);
    assert.doesNotMatch(source, /setAttribute\(\s*'style'/, `${name}: style attribute set from script`);
    const urls = [...source.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s'"]*/gi)].map((m) => m[0])
      .filter((url) => url !== 'http://www.w3.org/2000/svg'); // SVG's namespace name, never fetched
    assert.deepEqual(urls, [], `${name}: external URL`);
  }
  for (const [, attrs, body] of indexHtml.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(attrs, /\ssrc="\/js\//, 'scripts are files under /js/');
    assert.equal(body.trim(), '', 'no inline script');
  }
  assert.doesNotMatch(indexHtml, /<style/i, 'no inline stylesheet');
});

test('limits, lists and codes shared with the server come from the generated module', async () => {
  // web/js/constants.js is written by tools/webconst.py from the server's sources (and held to
  // them by tests/api/test_web_constants.py); a name it does not have would be undefined here.
  const file = path.join(web, 'js/constants.js');
  assert.match(sources[file], /^\/\/ GENERATED by tools\/webconst\.py — do not edit/);
  const constants = await import(pathToFileURL(file));
  const usedLimits = new Set();
  for (const [other, source] of scripts) {
    if (other === file) continue;
    const name = path.relative(root, other);
    for (const [, group, key] of source.matchAll(/\b(LIMITS|PROBLEM|FIELD|JOB_STATE)\.([A-Z][A-Z0-9_]*)/g)) {
      assert.ok(Object.hasOwn(constants[group], key), `${name}: ${group}.${key} is not in web/js/constants.js`);
      if (group === 'LIMITS') usedLimits.add(key);
    }
    assert.doesNotMatch(source, /\.(?:code|state)\s*[!=]==?\s*'/, `${name}: a code compared as a string literal (PROBLEM, FIELD, JOB_STATE)`);
  }
  assert.deepEqual(Object.keys(constants.LIMITS).filter((key) => !usedLimits.has(key)), [], 'limits generated that nothing uses');
});

async function listFiles(dir) {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? listFiles(full) : [full];
  }));
  return nested.flat();
}
