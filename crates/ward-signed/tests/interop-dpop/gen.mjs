// Makes DPoP proofs (RFC 9449) with implementations independent of Ward, one JSON object a line:
// {maker, alg, proof, htm, htu, access_token?, nonce?, jkt}. `jkt` is jose's RFC 7638 thumbprint.
//
// maker "dpop": panva's `dpop` package, `generateProof` (it sends `alg: Ed25519`, RFC 9864).
// maker "jose": jose's `SignJWT` with the header and claims RFC 9449 §4.2 lists (`alg: EdDSA`).
// Run by ward-signed's `dpop::interop_with_panva_dpop` test: `npm ci && node gen.mjs`.
import { generateProof } from 'dpop';
import { generateKeyPair, exportJWK, calculateJwkThumbprint, SignJWT, base64url } from 'jose';
import { createHash, randomUUID } from 'node:crypto';

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const cases = [
  { htm: 'POST', htu: 'https://server.example.com/token' },
  { htm: 'GET', htu: 'https://resource.example.org/protected?x=1', access_token: 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU', nonce: 'eyJ7S_zG.eyJH0-Z.HX4w-7v' },
  { htm: 'PUT', htu: 'https://ward.example:8443/v1/things/42', nonce: 'n-0S6_WzA2Mj' },
];

for (const alg of ['ES256', 'EdDSA', 'RS256']) {
  const keys = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(keys.publicKey);
  const jkt = await calculateJwkThumbprint(jwk, 'sha256');
  for (const c of cases) {
    const proof = await generateProof(keys, c.htu, c.htm, c.nonce, c.access_token);
    out({ maker: 'dpop', alg, proof, ...c, jkt });
  }
  // The same request signed by jose directly.
  const c = cases[1];
  const ath = base64url.encode(createHash('sha256').update(c.access_token).digest());
  const proof = await new SignJWT({ jti: randomUUID(), htm: c.htm, htu: c.htu, ath, nonce: c.nonce })
    .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk })
    .setIssuedAt()
    .sign(keys.privateKey);
  out({ maker: 'jose', alg, proof, ...c, jkt });
}
