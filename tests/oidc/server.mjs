// A real OAuth 2.0 authorization server for credplug's tests: node-oidc-provider
// (panva), over HTTPS with the test PKI.
//   node server.mjs CERT KEY PORT_FILE CLIENT...
// Each CLIENT is one of:
//   ID=PUBLIC_KEY.pem          the client credentials grant, private_key_jwt
//   account:ID=PUBLIC_KEY.pem  a native application connecting people's
//   account:ID:SECRET          accounts (the authorization code grant with
//                              PKCE, loopback redirects on any port, refresh
//                              tokens), private_key_jwt or client_secret_basic
// A client whose ID starts with "refused" has every consent refused. The
// person's login and consent are approved at once (no pages): the rest is
// node-oidc-provider's own, from single-use codes bound to the challenge to
// refresh tokens rotated on every use, whose reuse revokes the whole grant,
// and revocation (RFC 7009) at /token/revocation.
// The port (any free one) is written to PORT_FILE once the server listens;
// SIGTERM stops it.
import https from 'node:https';
import fs from 'node:fs';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const [certFile, keyFile, portFile, ...clientArgs] = process.argv.slice(2);
const publicJwk = (file) => crypto.createPublicKey(fs.readFileSync(file)).export({ format: 'jwk' });
const clients = clientArgs.map((arg) => {
  if (!arg.startsWith('account:')) {
    const [clientId, publicKeyFile] = arg.split('=');
    return {
      client_id: clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      jwks: { keys: [publicJwk(publicKeyFile)] },
    };
  }
  const account = {
    application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
  };
  const spec = arg.slice('account:'.length);
  if (spec.includes('=')) {
    const [clientId, publicKeyFile] = spec.split('=');
    return { ...account, client_id: clientId, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk(publicKeyFile)] } };
  }
  const [clientId, secret] = spec.split(':');
  return { ...account, client_id: clientId, client_secret: secret, token_endpoint_auth_method: 'client_secret_basic' };
});

// The person at the browser: logs in as alice, grants what is asked.
async function approve(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  let result;
  if (params.client_id.startsWith('refused')) {
    result = { error: 'access_denied', error_description: 'the person refused' };
  } else if (prompt.name === 'login') {
    result = { login: { accountId: 'alice' } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {}))
      grant.addResourceScope(indicator, scopes.join(' '));
    result = { consent: { grantId: await grant.save() } };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

const server = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) });
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const provider = new Provider(`https://localhost:${port}`, {
    clients,
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false }, revocation: { enabled: true } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    rotateRefreshToken: true,
    clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    ttl: { ClientCredentials: 600, AccessToken: 600, IdToken: 600, RefreshToken: 86400, Grant: 86400, Session: 3600, Interaction: 600 },
  });
  provider.on('grant.error', (ctx, error) => console.error(`grant.error: ${error.message} ${error.error_description ?? ''} ${error.error_detail ?? ''}`));
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (!/^\/interaction\/[A-Za-z0-9_-]+$/.test(req.url)) return callback(req, res);
    approve(provider, req, res).catch((error) => {
      console.error(`interaction: ${error.message}`);
      res.statusCode = 500;
      res.end();
    });
  });
  fs.writeFileSync(portFile, String(port));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
