// A real OpenID provider for the web tests: `oidc-provider` with one confidential client that
// must use PKCE, a login page of its own, and users whose claims look like Keycloak's
// (`realm_access.roles`) plus a `readmit_state` attribute. Configured by the environment:
//   OIDC_PORT, OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI
// Prints "ready <issuer>" on stdout once it listens on 127.0.0.1.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.mjs: ${name} is not set`);
    process.exit(2);
  }
  return value;
};
const port = Number(env('OIDC_PORT'));
const issuer = env('OIDC_ISSUER');

// username -> password and claims
const USERS = {
  'anna.pl': {
    password: 'anna-password',
    claims: { name: 'Anna Nowak', email: 'anna@example.test', realm_access: { roles: ['readmit-officer', 'offline_access'] }, readmit_state: 'PL' },
  },
  'taras.ua': {
    password: 'taras-password',
    claims: { name: 'Taras Melnyk', realm_access: { roles: ['readmit-officer', 'readmit-supervisor'] }, readmit_state: 'UA' },
  },
  'audit.eu': {
    password: 'audit-password',
    claims: { name: 'Eva Audit', realm_access: { roles: ['readmit-auditor'] }, readmit_state: ['PL', 'UA'] },
  },
  'visitor.pl': {
    password: 'visitor-password',
    claims: { name: 'Vera Visitor', realm_access: { roles: ['offline_access'] }, readmit_state: 'PL' },
  },
  'nostate.ua': {
    password: 'nostate-password',
    claims: { name: 'Nadia Nostate', realm_access: { roles: ['readmit-officer'] } },
  },
};

const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [{
    client_id: env('OIDC_CLIENT_ID'),
    client_secret: env('OIDC_CLIENT_SECRET'),
    redirect_uris: [env('OIDC_REDIRECT_URI')],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  jwks: { keys: [{ ...key, kid: `test-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' }] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    readmit: ['realm_access', 'readmit_state'],
  },
  scopes: ['openid', 'profile', 'email', 'readmit'],
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const user = USERS[id];
    if (!user) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, preferred_username: id, ...user.claims }) };
  },
  // a first-party client: what it asks for is granted without a consent page
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    await grant.save();
    return grant;
  },
});

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(res, uid, error = '') {
  res.writeHead(error ? 401 : 200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Test identity provider</title></head>
<body><main><h1>Test identity provider: sign in</h1>${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="username">Username</label> <input id="username" name="username" autocomplete="username">
<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Log in</button></form></main></body></html>`);
}

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    return loginPage(res, details.uid);
  }
  const form = await body(req);
  const username = form.get('username') || '';
  const user = USERS[username];
  if (!user || user.password !== form.get('password')) {
    return loginPage(res, details.uid, 'Wrong username or password.');
  }
  return provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
}

const handle = provider.callback();
const server = createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end(`interaction failed: ${error.message}`);
    });
    return;
  }
  handle(req, res);
});
server.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
