// An OpenID Connect provider for the API tests: the `oidc-provider` package (a certified
// implementation) on 127.0.0.1, with one client for openseat and a person the test chooses.
//
//   node oidc-provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI [pages]
//
// Beside the provider's own routes:
//   POST /control/account  {sub, email, email_verified, name}  who signs in next
//   POST /control/forge    {mode, claims?, header?}            the next token response's ID token
//                          is replaced once: "resign" (claims and header merged over the real
//                          ones, signed with the provider's real key), "foreign" (signed with a
//                          key the provider never published, under the real kid), "tamper" (the
//                          payload changed, the signature kept), "none" (alg none, no signature), "hs256" (HMAC keyed with the public key),
//                          "retired" (signed with the key the last rotation retired, under its kid)
//   POST /control/rotate   {}                                  the provider rotates its signing key: a new
//                          key under a new kid signs every ID token from now on, and the key set
//                          (jwks_uri) publishes it alone
//   GET  /control/stats                                        {jwks_fetches}: how often the key set was read
// The login and consent pages answer by themselves for the chosen person (the API tests drive
// the protocol) — or, with `pages`, they are HTML forms a browser fills in, as a person does at
// a real provider: the login page takes the chosen person's address and password
// ("provider-password" unless /control/account gives `password`), the consent page a
// "Continue". Both are plain, self-contained pages on 127.0.0.1.
import http from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const [port, clientId, clientSecret, redirectUri, mode] = process.argv.slice(2);
const pages = mode === 'pages';
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
const foreign = (await jose.generateKeyPair('RS256', { extractable: true })).privateKey;
// The key that signs now and the one before it. Until a rotation it is the provider's own
// (which it signs and publishes itself); after one, the tokens are signed again here and the
// key set is answered here.
let signing = { privateKey, kid: 'k1' };
let retired = null;
let rotations = 0;
let published = null;
let jwksFetches = 0;

async function rotate() {
  rotations += 1;
  const next = await jose.generateKeyPair('RS256', { extractable: true });
  retired = signing;
  signing = { privateKey: next.privateKey, kid: `k${rotations + 1}` };
  published = { keys: [{ ...(await jose.exportJWK(next.publicKey)), kid: signing.kid, alg: 'RS256', use: 'sig' }] };
}

let account = { sub: 'person-1', email: 'person@sso.example', email_verified: true, name: 'Sam Person' };
let forge = null;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'client_secret_post', grant_types: ['authorization_code'], response_types: ['code'],
  }],
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['openseat-tests-only'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false,
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ ...account, sub }) }),
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

async function forged(real) {
  const [h, p, s] = real.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  const f = forge;
  forge = null;
  if (f.mode === 'tamper') return `${h}.${b64({ ...claims, ...(f.claims || { email: 'someone-else@sso.example' }) })}.${s}`;
  if (f.mode === 'none') return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, ...(f.claims || {}) })}.`;
  if (f.mode === 'hs256') {
    // The classic confusion: HMAC keyed with the provider's public key, which anyone has.
    const pub = new TextEncoder().encode(JSON.stringify({ kty: signingJwk.kty, n: signingJwk.n, e: signingJwk.e }));
    return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ ...header, alg: 'HS256' })
      .sign(pub);
  }
  const by = f.mode === 'retired' ? retired : signing;
  const key = f.mode === 'foreign' ? foreign : by.privateKey;
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify({ ...claims, ...(f.claims || {}) })))
    .setProtectedHeader({ ...header, kid: by.kid, ...(f.header || {}) })
    .sign(key);
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/jwks') jwksFetches += 1;
  await next();
  if (ctx.path === '/jwks' && published) ctx.body = published;
  if (ctx.path === '/token' && ctx.body && ctx.body.id_token) {
    if (!forge && rotations) forge = { mode: 'resign' };   // signed with the current key
    if (forge) ctx.body = { ...ctx.body, id_token: await forged(ctx.body.id_token) };
  }
});

const handler = provider.callback();

function text(req) {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c) => { s += c; });
    req.on('end', () => resolve(s));
  });
}

async function body(req) {
  const s = await text(req);
  return s ? JSON.parse(s) : {};
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, title, inner) {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} – Test Provider</title>
<style>body{font-family:sans-serif;max-width:24rem;margin:3rem auto}label,input,button{display:block;margin:.5rem 0}
.error{color:#a00}</style></head>
<body><main><h1>${esc(title)}</h1>${inner}</main></body></html>`);
}

// The provider's own pages (with `pages`): login, then consent, each a form posted back here.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const action = `/interaction/${esc(details.uid)}`;
  if (req.method === 'POST') {
    const form = new URLSearchParams(await text(req));
    if (details.prompt.name === 'login') {
      const who = (form.get('login') || '').trim().toLowerCase();
      if (who !== account.email.toLowerCase() || form.get('password') !== (account.password || 'provider-password')) {
        return page(res, 'Sign in', `<p class="error" role="alert">Unknown user or wrong password.</p>${loginForm(action)}`);
      }
      return provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
    }
    const grant = new provider.Grant({ accountId: account.sub, clientId: details.params.client_id });
    grant.addOIDCScope('openid email profile');
    return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true });
  }
  if (details.prompt.name === 'login') return page(res, 'Sign in', loginForm(action));
  return page(res, 'Allow access', `<p>openseat asks for your name and e-mail address.</p>
<form method="post" action="${action}"><button type="submit" autofocus>Continue</button></form>`);
}

function loginForm(action) {
  return `<form method="post" action="${action}">
<label for="login">E-mail address</label><input id="login" name="login" type="email" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`;
}

http.createServer(async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/control/account') {
      account = await body(req);
      res.writeHead(204).end();
    } else if (req.method === 'POST' && req.url === '/control/forge') {
      forge = await body(req);
      res.writeHead(204).end();
    } else if (req.method === 'POST' && req.url === '/control/rotate') {
      await body(req);
      await rotate();
      res.writeHead(204).end();
    } else if (req.method === 'GET' && req.url === '/control/stats') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ jwks_fetches: jwksFetches }));
    } else if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
    } else if (pages && req.url.startsWith('/interaction/')) {
      await interaction(req, res);
    } else if (req.url.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(req, res);
      const grant = new provider.Grant({ accountId: account.sub, clientId: details.params.client_id });
      grant.addOIDCScope('openid email profile');
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId: account.sub }, consent: { grantId } },
        { mergeWithLastSubmission: false });
    } else {
      handler(req, res);
    }
  } catch (e) {
    console.error(e);
    if (!res.headersSent) res.writeHead(500).end(String(e));
  }
}).listen(Number(port), '127.0.0.1', () => console.log(`oidc provider on ${issuer}`));
