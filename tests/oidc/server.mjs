// A real OAuth 2.0 authorization server for credplug's tests: node-oidc-provider
// (panva), over HTTPS with the test PKI, serving the client credentials grant
// to clients that authenticate with private_key_jwt (RFC 7523 §2.2).
//   node server.mjs CERT KEY PORT_FILE CLIENT_ID=PUBLIC_KEY.pem...
// Each client's public key is registered as its JWKS. The port (any free
// one) is written to PORT_FILE once the server listens; SIGTERM stops it.
import https from 'node:https';
import fs from 'node:fs';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const [certFile, keyFile, portFile, ...clientArgs] = process.argv.slice(2);
const clients = clientArgs.map((arg) => {
  const [clientId, publicKeyFile] = arg.split('=');
  const jwk = crypto.createPublicKey(fs.readFileSync(publicKeyFile)).export({ format: 'jwk' });
  return {
    client_id: clientId,
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    jwks: { keys: [jwk] },
  };
});

const server = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) });
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const provider = new Provider(`https://localhost:${port}`, {
    clients,
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
    clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    ttl: { ClientCredentials: 600 },
  });
  provider.on('grant.error', (ctx, error) => console.error(`grant.error: ${error.message} ${error.error_description ?? ''}`));
  server.on('request', provider.callback());
  fs.writeFileSync(portFile, String(port));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
