// An OpenID Connect provider for the API tests: the `oidc-provider` package (a certified
// implementation) on 127.0.0.1, with one client for openseat and a person the test chooses.
//
//   node oidc-provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
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
// The login and consent pages answer by themselves for the chosen person: the tests drive the
// protocol, the browser test the pages of openseat.
import http from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
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

function body(req) {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c) => { s += c; });
    req.on('end', () => resolve(s ? JSON.parse(s) : {}));
  });
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
