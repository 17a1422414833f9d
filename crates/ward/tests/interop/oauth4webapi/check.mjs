// Ward's OAuth surface through oauth4webapi, a strict independent client: RFC 8414 discovery,
// RFC 6749 client credentials (Basic and post), RFC 9068 JWT access-token validation from the
// JWKS, RFC 7662 introspection and RFC 7009 revocation, RFC 9449 DPoP. Usage: node check.mjs URL ADMIN_KEY.
// Every step fails loudly; the last line says what passed.
import * as oauth from 'oauth4webapi';

const [url, admin] = process.argv.slice(2);
const insecure = { [oauth.allowInsecureRequests]: true }; // loopback http in CI only
const passed = [];

async function ward(path, body) {
  const r = await fetch(new URL(path, url), {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (r.status !== 201) throw new Error(`${path} answered ${r.status}: ${await r.text()}`);
  return r.json();
}

const registered = await ward('/v1/clients', { name: 'oauth4webapi', scopes: ['read'], audiences: ['api'] });
const client = { client_id: registered.client_id };
const basic = oauth.ClientSecretBasic(registered.client_secret);
const post = oauth.ClientSecretPost(registered.client_secret);

const issuer = new URL(JSON.parse(await (await fetch(new URL('/.well-known/oauth-authorization-server', url))).text()).issuer);
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
passed.push('discovery (RFC 8414)');

async function grant(auth) {
  const params = new URLSearchParams({ scope: 'read' });
  const resp = await oauth.clientCredentialsGrantRequest(as, client, auth, params, insecure);
  return oauth.processClientCredentialsResponse(as, client, resp);
}
const tokens = await grant(basic);
if (tokens.token_type.toLowerCase() !== 'bearer') throw new Error(`token_type ${tokens.token_type}`);
await grant(post);
passed.push('client_credentials with client_secret_basic and client_secret_post (RFC 6749 §4.4)');

const request = new Request(new URL('/resource', url), { headers: { authorization: `Bearer ${tokens.access_token}` } });
const claims = await oauth.validateJwtAccessToken(as, request, 'api', insecure);
if (claims.client_id !== client.client_id) throw new Error(`client_id claim ${claims.client_id}`);
passed.push('JWT access token validated from the JWKS (RFC 9068)');

async function introspect(token) {
  const resp = await oauth.introspectionRequest(as, client, basic, token, insecure);
  return oauth.processIntrospectionResponse(as, client, resp);
}
const live = await introspect(tokens.access_token);
if (live.active !== true || live.client_id !== client.client_id) throw new Error(`introspection: ${JSON.stringify(live)}`);
passed.push('introspection (RFC 7662)');

await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, basic, tokens.access_token, insecure));
const dead = await introspect(tokens.access_token);
if (dead.active !== false) throw new Error(`revoked token still active: ${JSON.stringify(dead)}`);
passed.push('revocation (RFC 7009), then inactive');

// DPoP (RFC 9449): oauth4webapi makes the proofs, Ward binds and checks them, and oauth4webapi
// validates Ward's bound token with the proof it made for a resource request.
const keyPair = await oauth.generateKeyPair('ES256');
const DPoP = oauth.DPoP(client, keyPair);
const bound = await oauth.processClientCredentialsResponse(as, client,
  await oauth.clientCredentialsGrantRequest(as, client, basic, new URLSearchParams({ scope: 'read' }), { ...insecure, DPoP }));
if (bound.token_type.toLowerCase() !== 'dpop') throw new Error(`DPoP token_type ${bound.token_type}`);
passed.push('client_credentials with a DPoP proof: a DPoP-bound token (RFC 9449 §5)');

// A resource request as oauth4webapi would send it, captured instead of sent.
const api = new URL('https://api.example.com/reports');
let sent;
const capture = { [oauth.customFetch]: async (_u, init) => { sent = new Headers(init.headers); return new Response('{}'); } };
await oauth.protectedResourceRequest(bound.access_token, 'GET', api, undefined, undefined, { DPoP, ...capture });
const proof = sent.get('dpop');
if (!proof || !sent.get('authorization').startsWith('DPoP ')) throw new Error('oauth4webapi sent no DPoP request');
const boundClaims = await oauth.validateJwtAccessToken(as, new Request(api, { headers: sent }), 'api', { ...insecure, requireDPoP: true });
if (!boundClaims.cnf || !boundClaims.cnf.jkt) throw new Error(`no cnf.jkt: ${JSON.stringify(boundClaims)}`);
async function verify(dpop) {
  const r = await fetch(new URL('/v1/verify', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ token: bound.access_token, ...(dpop ? { dpop } : {}) }),
  });
  return r.json();
}
const dpopAsk = { proof, htm: 'GET', htu: api.href };
for (const [what, ask, reason] of [['with its proof', dpopAsk, 'valid'], ['the proof again', dpopAsk, 'replayed'], ['as a bearer token', null, 'binding_mismatch']]) {
  const v = await verify(ask);
  if (v.reason !== reason) throw new Error(`verify ${what}: ${JSON.stringify(v)}`);
}
passed.push('the bound token validated by oauth4webapi and verified by Ward with oauth4webapi\'s proof, once (replayed after), never as a bearer token');

console.log(`oauth4webapi: ${passed.length} passed, 0 failed: ${passed.join('; ')}`);
