//! DPoP proofs (RFC 9449): proofs built here with Ward's own keys, one test per refusal, the
//! RFC 9449 and RFC 7638 examples, and proofs made by panva's `dpop` and `jose` packages.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Map, Value};
use ward_core::Reason;
use ward_signed::raw::sign_jws;
use ward_signed::{
    access_token_hash, jwk_thumbprint, verify_proof, Algorithm, DpopProof, ProofRequest, ProofWindow,
    SigningKey, DEFAULT_PROOF_WINDOW, MAX_JTI_LEN, MAX_PROOF_LEN, PROOF_ALGORITHMS,
};

use crate::{b64, key, unb64, NOW};

const HTU: &str = "https://server.example.com/token";
const TOKEN: &str = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";

/// The public JWK members of `k`, as a proof header carries them.
fn public_jwk(k: &SigningKey) -> Value {
    let mut jwk = k.verifying_key().to_jwk().unwrap();
    let m = jwk.as_object_mut().unwrap();
    for name in ["kid", "alg", "use"] {
        m.remove(name);
    }
    jwk
}

fn header(k: &SigningKey) -> Value {
    json!({"typ": "dpop+jwt", "alg": k.algorithm().as_str(), "jwk": public_jwk(k)})
}

fn claims() -> Value {
    json!({"jti": "-BwC3ESc6acc2lTc", "htm": "POST", "htu": HTU, "iat": NOW})
}

/// Signs `claims` under exactly `header` with `k`.
fn sign(k: &SigningKey, header: &Value, claims: &Value) -> String {
    let h: Map<String, Value> = header.as_object().unwrap().clone();
    sign_jws(k, &h, &serde_json::to_vec(claims).unwrap()).unwrap()
}

fn proof(k: &SigningKey) -> String {
    sign(k, &header(k), &claims())
}

fn req() -> ProofRequest<'static> {
    ProofRequest::new("POST", HTU)
}

fn ok(p: &str, r: &ProofRequest<'_>) -> DpopProof {
    verify_proof(p, r, NOW, DEFAULT_PROOF_WINDOW).unwrap_or_else(|v| panic!("refused: {v:?}"))
}

/// Asserts a refusal with `reason` whose detail contains every one of `needles`.
fn refused(p: &str, r: &ProofRequest<'_>, now: i64, reason: Reason, needles: &[&str]) {
    let v = verify_proof(p, r, now, DEFAULT_PROOF_WINDOW).unwrap_err();
    assert_eq!(v.reason, reason, "{v:?}");
    let detail = v.detail.as_deref().unwrap_or_default();
    for n in needles {
        assert!(detail.contains(n), "{n:?} not in {detail:?}");
    }
}

fn es256() -> SigningKey {
    key(Algorithm::ES256)
}

fn other_es256() -> SigningKey {
    SigningKey::from_secret_bytes("other", Algorithm::ES256, &[0x24; 32]).unwrap()
}

#[test]
fn good_proofs_pass_for_every_algorithm() {
    for alg in [Algorithm::ES256, Algorithm::EdDSA, Algorithm::RS256] {
        let k = key(alg);
        let jkt = k.verifying_key().thumbprint().unwrap();
        let mut c = claims();
        c["nonce"] = json!("server-nonce-1");
        c["ath"] = json!(access_token_hash(TOKEN));
        let p = sign(&k, &header(&k), &c);
        let got = ok(&p, &req().with_token(TOKEN, &jkt));
        assert_eq!(
            got,
            DpopProof {
                jkt: jkt.clone(),
                alg,
                jti: "-BwC3ESc6acc2lTc".into(),
                iat: NOW,
                nonce: Some("server-nonce-1".into()),
                htm: "POST".into(),
                htu: HTU.into(),
            }
        );
        assert_eq!(jwk_thumbprint(&public_jwk(&k)).unwrap(), jkt, "{alg}");
    }
    assert_eq!(PROOF_ALGORITHMS, ["ES256", "Ed25519", "EdDSA", "RS256"]);
}

#[test]
fn ed25519_is_accepted_under_its_fully_specified_name() {
    let k = key(Algorithm::EdDSA);
    let mut h = header(&k);
    h["alg"] = json!("Ed25519");
    assert_eq!(ok(&sign(&k, &h, &claims()), &req()).alg, Algorithm::EdDSA);
}

#[test]
fn url_equal_after_normalisation_passes() {
    let k = es256();
    let mut c = claims();
    c["htu"] = json!("HTTPS://Server.Example.com:443/token?x=1#frag");
    let p = sign(&k, &header(&k), &c);
    assert_eq!(ok(&p, &req()).htu, "HTTPS://Server.Example.com:443/token?x=1#frag");
    assert_eq!(
        ok(&proof(&k), &ProofRequest::new("POST", "https://SERVER.example.com:443/token?a=b")).jti,
        "-BwC3ESc6acc2lTc"
    );
    // An empty path is `/`.
    c["htu"] = json!("https://server.example.com");
    let p = sign(&k, &header(&k), &c);
    ok(&p, &ProofRequest::new("POST", "https://server.example.com/"));
}

#[test]
fn wrong_method_is_a_binding_mismatch() {
    let k = es256();
    let mut c = claims();
    c["htm"] = json!("GET");
    let p = sign(&k, &header(&k), &c);
    refused(&p, &req(), NOW, Reason::BindingMismatch, &["made for GET, this request is POST"]);
    c["htm"] = json!("post");
    let p = sign(&k, &header(&k), &c);
    refused(&p, &req(), NOW, Reason::BindingMismatch, &["post", "POST"]);
}

#[test]
fn wrong_url_is_a_binding_mismatch() {
    let k = es256();
    for other in [
        "https://server.example.com/token2",
        "http://server.example.com/token",
        "https://server.example.com:8443/token",
        "https://evil.example.com/token",
        "https://server.example.com/Token",
    ] {
        refused(&proof(&k), &ProofRequest::new("POST", other), NOW, Reason::BindingMismatch, &[HTU, other]);
    }
    let mut c = claims();
    c["htu"] = json!("/token");
    refused(&sign(&k, &header(&k), &c), &req(), NOW, Reason::Malformed, &["/token", "absolute"]);
}

#[test]
fn ath_must_match_the_token() {
    let k = es256();
    let jkt = k.verifying_key().thumbprint().unwrap();
    let mut c = claims();
    c["ath"] = json!(access_token_hash("another token"));
    let p = sign(&k, &header(&k), &c);
    refused(&p, &req().with_token(TOKEN, &jkt), NOW, Reason::BindingMismatch, &["`ath`", "not the hash"]);
    // RFC 9449 §7.1's example `ath`.
    assert_eq!(access_token_hash(TOKEN), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
}

#[test]
fn ath_is_required_with_a_token() {
    let k = es256();
    let jkt = k.verifying_key().thumbprint().unwrap();
    refused(&proof(&k), &req().with_token(TOKEN, &jkt), NOW, Reason::BindingMismatch, &["no `ath`"]);
    // Without a token, no `ath` is needed.
    ok(&proof(&k), &ProofRequest { jkt: Some(&jkt), ..req() });
}

#[test]
fn a_proof_by_another_key_is_a_binding_mismatch() {
    let k = es256();
    let bound = other_es256().verifying_key().thumbprint().unwrap();
    let actual = k.verifying_key().thumbprint().unwrap();
    let r = ProofRequest { jkt: Some(&bound), ..req() };
    refused(
        &proof(&k),
        &r,
        NOW,
        Reason::BindingMismatch,
        &[&format!("the token is bound to key {bound}, the DPoP proof is signed by {actual}")],
    );
}

#[test]
fn iat_window_boundaries() {
    let k = es256();
    let w = DEFAULT_PROOF_WINDOW;
    assert_eq!(w, ProofWindow { max_age: 300, leeway: 60 });
    let p = proof(&k);
    // Accepted from iat - leeway to iat + max_age + leeway.
    for now in [NOW - 60, NOW, NOW + 360] {
        verify_proof(&p, &req(), now, w).unwrap();
    }
    refused(&p, &req(), NOW + 423, Reason::Expired, &["made 7 min 3 s ago; proofs are accepted for 5 min"]);
    refused(&p, &req(), NOW + 361, Reason::Expired, &["6 min 1 s ago"]);
    refused(&p, &req(), NOW - 61, Reason::NotYetValid, &["1 min 1 s in the future", "1 min"]);
    refused(&p, &req(), NOW - 3_600, Reason::NotYetValid, &["1 h in the future"]);
}

#[test]
fn typ_must_be_dpop_jwt_exactly() {
    let k = es256();
    for typ in ["JWT", "at+jwt", "DPOP+JWT", "application/dpop+jwt", ""] {
        let mut h = header(&k);
        h["typ"] = json!(typ);
        refused(&sign(&k, &h, &claims()), &req(), NOW, Reason::WrongType, &["dpop+jwt"]);
    }
    let mut h = header(&k);
    h.as_object_mut().unwrap().remove("typ");
    refused(&sign(&k, &h, &claims()), &req(), NOW, Reason::WrongType, &["no `typ`"]);
}

#[test]
fn alg_none_hmac_and_unknown_are_refused() {
    let k = es256();
    let c = claims();
    // `alg: none`, no signature.
    let mut h = header(&k);
    h["alg"] = json!("none");
    let unsigned =
        format!("{}.{}.", b64(serde_json::to_vec(&h).unwrap()), b64(serde_json::to_vec(&c).unwrap()));
    refused(&unsigned, &req(), NOW, Reason::UnsupportedAlgorithm, &["none"]);
    // HS256, with a real HMAC.
    let hs = SigningKey::from_secret_bytes("hs", Algorithm::HS256, &[7; 32]).unwrap();
    h["alg"] = json!("HS256");
    refused(&sign(&hs, &h, &c), &req(), NOW, Reason::UnsupportedAlgorithm, &["HS256", "MAC"]);
    for alg in ["PS256", "ES384", "es256", "RS512", "v4.public"] {
        h["alg"] = json!(alg);
        refused(&sign(&k, &h, &c), &req(), NOW, Reason::UnsupportedAlgorithm, &[alg]);
    }
}

#[test]
fn alg_must_suit_the_jwk() {
    let ed = key(Algorithm::EdDSA);
    let mut h = header(&ed);
    h["alg"] = json!("ES256");
    refused(&sign(&es256(), &h, &claims()), &req(), NOW, Reason::UnsupportedAlgorithm, &["ES256", "OKP"]);
    let mut h = header(&es256());
    h["jwk"]["alg"] = json!("RS256");
    refused(&sign(&es256(), &h, &claims()), &req(), NOW, Reason::UnsupportedAlgorithm, &["RS256"]);
}

#[test]
fn a_jwk_with_private_members_is_refused() {
    let k = es256();
    for member in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        let mut h = header(&k);
        h["jwk"][member] = json!("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
        refused(&sign(&k, &h, &claims()), &req(), NOW, Reason::Malformed, &[&format!("(`{member}`)")]);
        assert_eq!(jwk_thumbprint(&h["jwk"]).unwrap_err().reason, Reason::Malformed);
    }
}

#[test]
fn a_missing_or_broken_jwk_is_refused() {
    let k = es256();
    let mut h = header(&k);
    h.as_object_mut().unwrap().remove("jwk");
    refused(&sign(&k, &h, &claims()), &req(), NOW, Reason::Malformed, &["no `jwk`"]);
    let mut h = header(&k);
    h["jwk"] = json!("a string");
    refused(&sign(&k, &h, &claims()), &req(), NOW, Reason::Malformed, &["a string"]);
    let mut h = header(&k);
    h["jwk"]["crv"] = json!("P-384");
    refused(&sign(&k, &h, &claims()), &req(), NOW, Reason::Malformed, &["P-384"]);
    let mut h = header(&k);
    h["jwk"] = json!({"kty": "oct", "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ"});
    refused(&sign(&k, &h, &claims()), &req(), NOW, Reason::Malformed, &["`k`"]);
    // A point off the curve.
    let mut h = header(&k);
    let mut y = unb64(h["jwk"]["y"].as_str().unwrap());
    y[31] ^= 1;
    h["jwk"]["y"] = json!(b64(y));
    refused(&sign(&k, &h, &claims()), &req(), NOW, Reason::Malformed, &["P-256"]);
    // Other key locators are refused rather than ignored.
    for name in ["jku", "x5u", "x5c", "crit"] {
        let mut h = header(&k);
        h[name] = json!(["x"]);
        refused(&sign(&k, &h, &claims()), &req(), NOW, Reason::Malformed, &[name]);
    }
}

#[test]
fn a_flipped_byte_or_another_signer_is_tampered() {
    let k = es256();
    let p = proof(&k);
    let (signed, sig) = p.rsplit_once('.').unwrap();
    let mut bytes = unb64(sig);
    bytes[10] ^= 0x01;
    refused(&format!("{signed}.{}", b64(&bytes)), &req(), NOW, Reason::Tampered, &["ES256 signature"]);
    refused(&format!("{signed}."), &req(), NOW, Reason::Tampered, &["missing"]);
    // The claims changed after signing.
    let (h, _) = signed.split_once('.').unwrap();
    let mut c = claims();
    c["htm"] = json!("GET");
    let changed = format!("{h}.{}.{sig}", b64(serde_json::to_vec(&c).unwrap()));
    refused(&changed, &ProofRequest::new("GET", HTU), NOW, Reason::Tampered, &[]);
    // Signed by another key than the one in the header.
    let forged = sign(&other_es256(), &header(&k), &claims());
    refused(&forged, &req(), NOW, Reason::Tampered, &[]);
    // Ed25519 and RSA too.
    for alg in [Algorithm::EdDSA, Algorithm::RS256] {
        let k = key(alg);
        let p = proof(&k);
        let (signed, sig) = p.rsplit_once('.').unwrap();
        let mut bytes = unb64(sig);
        bytes[0] ^= 0x80;
        refused(&format!("{signed}.{}", b64(&bytes)), &req(), NOW, Reason::Tampered, &[alg.as_str()]);
    }
}

#[test]
fn required_claims_are_checked() {
    let k = es256();
    for name in ["jti", "htm", "htu", "iat"] {
        let mut c = claims();
        c.as_object_mut().unwrap().remove(name);
        refused(&sign(&k, &header(&k), &c), &req(), NOW, Reason::Malformed, &[&format!("no `{name}`")]);
    }
    for (name, value, needle) in [
        ("jti", json!(""), "empty"),
        ("jti", json!("x".repeat(MAX_JTI_LEN + 1)), "at most 256"),
        ("jti", json!(42), "must be a string"),
        ("htm", json!(["POST"]), "must be a string"),
        ("iat", json!(1_700_000_000.5), "whole seconds"),
        ("iat", json!("1700000000"), "must be a number"),
        ("nonce", json!(1), "must be a string"),
        ("ath", json!(null), "must be a string"),
    ] {
        let mut c = claims();
        c[name] = value;
        refused(&sign(&k, &header(&k), &c), &req(), NOW, Reason::Malformed, &[name, needle]);
    }
    let mut c = claims();
    c["jti"] = json!("x".repeat(MAX_JTI_LEN));
    ok(&sign(&k, &header(&k), &c), &req());
}

#[test]
fn malformed_proofs_are_refused_before_any_work() {
    let k = es256();
    let p = proof(&k);
    let (h, rest) = p.split_once('.').unwrap();
    let dup = b64(br#"{"typ":"dpop+jwt","typ":"dpop+jwt","alg":"ES256"}"#);
    for (bad, needle) in [
        (String::new(), "empty"),
        ("a.b".to_string(), "three parts"),
        (format!("{p}.x"), "three parts"),
        (format!("{h}=.{rest}"), "padding"),
        (format!("{dup}.{rest}"), "appears twice"),
        ("x".repeat(MAX_PROOF_LEN + 1), "at most 8192"),
        (format!("{}.{rest}", b64("[1]")), "JSON object"),
    ] {
        refused(&bad, &req(), NOW, Reason::Malformed, &[needle]);
    }
}

/// RFC 7638 §3.1 (RSA), RFC 8037 A.3 (Ed25519), RFC 9449 §6.1 (the P-256 key of its examples).
#[test]
fn thumbprints_match_the_rfc_examples() {
    let rsa = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    });
    assert_eq!(jwk_thumbprint(&rsa).unwrap(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    assert_eq!(jwk_thumbprint(&ed).unwrap(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    let ec = json!({
        "kty": "EC",
        "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
        "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
        "crv": "P-256"
    });
    assert_eq!(jwk_thumbprint(&ec).unwrap(), "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
    // A zero-prefixed modulus would give another thumbprint than other implementations compute.
    let mut padded = rsa.clone();
    let mut n = unb64(rsa["n"].as_str().unwrap());
    n.insert(0, 0);
    padded["n"] = json!(b64(n));
    assert_eq!(jwk_thumbprint(&padded).unwrap_err().reason, Reason::Malformed);
    assert_eq!(jwk_thumbprint(&json!("x")).unwrap_err().reason, Reason::Malformed);
}

/// RFC 9449 §4.1 (a token request) and §7.1 (a resource request with `ath`): the published proofs.
#[test]
fn rfc_9449_example_proofs_verify() {
    const JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
    let token_request = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
    let got =
        verify_proof(token_request, &ProofRequest::new("POST", HTU), 1_562_262_616, DEFAULT_PROOF_WINDOW)
            .unwrap();
    assert_eq!((got.jkt.as_str(), got.jti.as_str(), got.iat), (JKT, "-BwC3ESc6acc2lTc", 1_562_262_616));
    let resource = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA";
    let r = ProofRequest::new("GET", "https://resource.example.org/protectedresource").with_token(TOKEN, JKT);
    assert_eq!(verify_proof(resource, &r, 1_562_262_618, DEFAULT_PROOF_WINDOW).unwrap().jkt, JKT);
    // The same proof with another token, or five years later.
    let other = ProofRequest { access_token: Some("another"), ..r };
    assert_eq!(
        verify_proof(resource, &other, 1_562_262_618, DEFAULT_PROOF_WINDOW).unwrap_err().reason,
        Reason::BindingMismatch
    );
    assert_eq!(verify_proof(resource, &r, NOW, DEFAULT_PROOF_WINDOW).unwrap_err().reason, Reason::Expired);
}

/// Proofs made by panva's `dpop` (and `jose`) under Node: each verifies, and Ward's thumbprint of
/// each key is jose's. Skipped with a note where `node` or `npm` is missing, unless `CI=true`.
#[test]
fn interop_with_panva_dpop() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop-dpop");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let have = |tool: &str| Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    if !have("node") || !have("npm") {
        assert!(!ci, "CI=true: the DPoP interop test needs `node` and `npm` on PATH");
        eprintln!("note: skipping the DPoP interop test: `node` or `npm` is not on PATH");
        return;
    }
    if !dir.join("node_modules/dpop/package.json").exists()
        || !dir.join("node_modules/jose/package.json").exists()
    {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "npm ci: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = Command::new("node").arg("gen.mjs").current_dir(&dir).output().unwrap();
    assert!(out.status.success(), "node gen.mjs: {}", String::from_utf8_lossy(&out.stderr));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 12, "3 algorithms × (3 dpop proofs + 1 jose proof)");
    let mut seen = std::collections::BTreeSet::new();
    for l in &lines {
        let s = |name: &str| l[name].as_str();
        let (proof, htm, htu, jkt) =
            (s("proof").unwrap(), s("htm").unwrap(), s("htu").unwrap(), s("jkt").unwrap());
        let r = ProofRequest { htm, htu, access_token: s("access_token"), jkt: Some(jkt) };
        let got = verify_proof(proof, &r, now, DEFAULT_PROOF_WINDOW)
            .unwrap_or_else(|v| panic!("{} {} proof refused: {v:?}\n{l}", l["maker"], l["alg"]));
        assert_eq!(got.jkt, jkt, "{l}");
        assert_eq!(got.nonce.as_deref(), s("nonce"), "{l}");
        assert_eq!((got.htm.as_str(), got.htu.as_str()), (htm, htu));
        // The header's JWK, thumbprinted alone.
        let header: Value = serde_json::from_slice(&unb64(proof.split('.').next().unwrap())).unwrap();
        assert_eq!(jwk_thumbprint(&header["jwk"]).unwrap(), jkt);
        seen.insert(header["alg"].as_str().unwrap().to_string());
        // And the same proof refused, with the named reason, for another method, URL, token or
        // key, and at a time outside its window.
        let reason = |req: &ProofRequest<'_>, at: i64| {
            verify_proof(proof, req, at, DEFAULT_PROOF_WINDOW).unwrap_err().reason
        };
        assert_eq!(reason(&ProofRequest { htm: "DELETE", ..r }, now), Reason::BindingMismatch, "method: {l}");
        assert_eq!(
            reason(&ProofRequest { htu: "https://other.example/x", ..r }, now),
            Reason::BindingMismatch,
            "URL: {l}"
        );
        assert_eq!(
            reason(&ProofRequest { jkt: Some("not-this-key"), ..r }, now),
            Reason::BindingMismatch,
            "key: {l}"
        );
        if r.access_token.is_some() {
            assert_eq!(
                reason(&ProofRequest { access_token: Some("another-token"), ..r }, now),
                Reason::BindingMismatch,
                "ath: {l}"
            );
        }
        assert_eq!(reason(&r, now + 3600), Reason::Expired, "iat long past: {l}");
        assert_eq!(reason(&r, now - 3600), Reason::NotYetValid, "iat in the future: {l}");
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["ES256", "Ed25519", "EdDSA", "RS256"]);
}
