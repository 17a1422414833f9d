// DPoP server nonces (RFC 9449 §8) through oauth4webapi, against a Ward with
// `dpop_require_nonce = true`: the first token request is answered `use_dpop_nonce` with a
// `DPoP-Nonce` header, oauth4webapi keeps the nonce, and the retry gets a DPoP-bound token.
// Usage: node nonce.mjs URL ADMIN_KEY.
import * as oauth from 'oauth4webapi';

const [url, admin] = process.argv.slice(2);
const insecure = { [oauth.allowInsecureRequests]: true }; // loopback http in CI only

const r = await fetch(new URL('/v1/clients', url), {
  method: 'POST',
  headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'oauth4webapi-nonce', scopes: ['read'], audiences: ['api'] }),
});
if (r.status !== 201) throw new Error(`/v1/clients answered ${r.status}: ${await r.text()}`);
const registered = await r.json();
const client = { client_id: registered.client_id };
const basic = oauth.ClientSecretBasic(registered.client_secret);
const issuer = new URL(JSON.parse(await (await fetch(new URL('/.well-known/oauth-authorization-server', url))).text()).issuer);
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
const request = () => oauth.clientCredentialsGrantRequest(as, client, basic, new URLSearchParams({ scope: 'read' }), { ...insecure, DPoP });

let demanded = false;
try {
  await oauth.processClientCredentialsResponse(as, client, await request());
} catch (e) {
  if (!oauth.isDPoPNonceError(e)) throw e;
  demanded = true;
}
if (!demanded) throw new Error('a proof without a nonce was accepted');
const tokens = await oauth.processClientCredentialsResponse(as, client, await request());
if (tokens.token_type.toLowerCase() !== 'dpop') throw new Error(`token_type ${tokens.token_type}`);
console.log('oauth4webapi: DPoP nonces: use_dpop_nonce with DPoP-Nonce, then a DPoP-bound token on the retry');
