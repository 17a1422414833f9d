//! The OpenAPI 3.1 document (`GET /openapi.json`).
//!
//! The operations come from the one route list ([`crate::routes::api`]): each route registers its
//! handler and that handler's `#[utoipa::path]` entry together, so no route lacks a document
//! entry. This file adds what the operations share, in one place, as [`crate::problem`] is the one
//! place that makes the answers:
//!
//! - the security schemes: `bearer` (a Ward key, with the scope each operation needs) and
//!   `client_secret_basic` (an OAuth client, RFC 6749 §2.3.1; `client_secret_post` is the
//!   `client_id`/`client_secret` pair in the form body, which OpenAPI has no scheme for);
//! - the problem answers (RFC 9457, `application/problem+json`) every operation can get from the
//!   extractors: 400, 408, 413, 415 for a body, 401, 403, 503 for a Ward-key caller, 404 for an id;
//! - the request constraints, taken from the same constants and policy the server checks with, so
//!   a request the document allows is not refused for its shape.

use serde_json::{json, Map, Value};
use utoipa::OpenApi;
use ward_core::guard::{MAX_ALLOWED_NETWORKS, MAX_LIMIT_NAME_LEN, MAX_NAMED_LIMITS};
use ward_core::key::{MAX_SCOPES, MAX_SCOPE_LEN};
use ward_core::onetime::MAX_PURPOSE_LEN;
use ward_core::token::ID_LEN;
use ward_core::RevokeReason;
use ward_engine::replay::{CLIENT_NONCE_LEN, MAX_PURPOSE_LEN as MAX_NONCE_NAME_LEN};
use ward_engine::validate::{MAX_LABEL_LEN, MAX_LIFETIME_SECS, MAX_NOTE_CHARS};
use ward_engine::{Policy, MAX_LIST, MAX_ROTATION_OVERLAP};
use ward_signed::Algorithm;

use crate::problem::{OAuthErrorBody, Problem};
use crate::routes::verify::AnonymousVerifyResponse;

/// The document's fixed part: the operations are merged in by [`document`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ward",
        description = "A token authority whose every rejection explains itself. Errors are RFC 9457 \
            problem documents (`application/problem+json`) with a stable `reason`; a known path asked \
            with a method it does not take is answered 405 with an `Allow` header, an unknown path 404."
    ),
    components(schemas(Problem, OAuthErrorBody, AnonymousVerifyResponse))
)]
struct ApiDoc;

/// The whole document for a deployment running with `policy`, whose key ring signs with
/// `algorithms`.
pub fn document(policy: &Policy, algorithms: &[Algorithm]) -> Value {
    let (_, operations) = crate::routes::api().split_for_parts();
    let mut doc = ApiDoc::openapi();
    doc.merge(operations);
    let mut doc = serde_json::to_value(doc).unwrap_or(Value::Null);
    finish(&mut doc, policy, algorithms);
    doc
}

/// Everything [`document`] adds to what the annotations say.
fn finish(doc: &mut Value, policy: &Policy, algorithms: &[Algorithm]) {
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        components.insert("securitySchemes".into(), security_schemes());
        if let Some(schemas) = components.get_mut("schemas").and_then(Value::as_object_mut) {
            schemas.extend(shared_schemas());
            constrain(schemas, policy, algorithms);
            // Exactly one target, as a string (`null` is absent to serde).
            if let Some(revoke) = schemas.get_mut("RevokeSigned") {
                let one =
                    |name: &str| json!({ "required": [name], "properties": { name: { "type": "string" } } });
                set(revoke, "oneOf", json!([one("token"), one("jti"), one("family")]));
            }
            // A limit counted per address needs the address (`context.client_ip`).
            if let Some(verify) = schemas.get_mut("VerifyRequest") {
                set(
                    verify,
                    "if",
                    json!({
                        "required": ["ratelimit"],
                        "properties": { "ratelimit": {
                            "type": "object",
                            "required": ["per_address"],
                            "properties": { "per_address": { "const": true } }
                        } }
                    }),
                );
                set(
                    verify,
                    "then",
                    json!({
                        "required": ["context"],
                        "properties": { "context": {
                            "type": "object",
                            "required": ["client_ip"],
                            "properties": { "client_ip": { "type": "string" } }
                        } }
                    }),
                );
            }
        }
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for op in item.values_mut() {
            if let Some(op) = op.as_object_mut() {
                attach_shared_schemas(op);
                constrain_parameters(op);
                add_problems(op);
            }
        }
    }
}

/// `v[key] = value` for an object (`Value`'s `IndexMut` would panic on anything else).
fn set(v: &mut Value, key: &str, value: Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_string(), value);
    }
}

fn security_schemes() -> Value {
    json!({
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A Ward API key (`ward_<env>_ak_…`) holding the scope the operation names \
                (`ward:admin` holds every scope)."
        },
        "client_secret_basic": {
            "type": "http",
            "scheme": "basic",
            "description": "An OAuth client: its `client_id` and `client_secret`, each form-urlencoded, \
                as HTTP Basic credentials (RFC 6749 §2.3.1). The alternative, `client_secret_post`, \
                sends them as the `client_id` and `client_secret` form parameters (never both)."
        }
    })
}

// ---------------------------------------------------------------------------------------------
// constraints: the server's own limits
// ---------------------------------------------------------------------------------------------

/// Text the engine's `check_label` accepts: 1 to 256 characters, none of them a control character
/// (Unicode `Cc`: U+0000–U+001F, U+007F–U+009F, what Rust's `char::is_control` means).
fn label() -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": MAX_LABEL_LEN, "pattern": NO_CONTROLS })
}

const NO_CONTROLS: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// A scope name (`valid_scope`): 1 to 128 printable ASCII characters, no spaces.
fn scope() -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": MAX_SCOPE_LEN, "pattern": "^[!-~]*$" })
}

/// An audience (`valid_audience`): 1 to 256 printable ASCII characters, no spaces.
fn audience() -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": 256, "pattern": "^[!-~]*$" })
}

fn scopes(max: Option<usize>) -> Value {
    let mut v = json!({ "type": "array", "items": scope() });
    if let Some(max) = max {
        set(&mut v, "maxItems", json!(max));
    }
    v
}

fn seconds(min: i64, max: i64, nullable: bool) -> Value {
    let ty = if nullable { json!(["integer", "null"]) } else { json!("integer") };
    json!({ "type": ty, "format": "int64", "minimum": min, "maximum": max })
}

fn nullable(mut v: Value) -> Value {
    if let Some(t) = v.get("type").and_then(Value::as_str).map(str::to_string) {
        set(&mut v, "type", json!([t, "null"]));
    }
    v
}

/// A record id in a path (`extract::RecordId`): anything else is answered 404.
fn record_id() -> Value {
    json!({ "type": "string", "pattern": format!("^[A-Za-z0-9]{{{ID_LEN}}}$") })
}

/// Sets `schemas[schema].properties[property]` to `value` (merged into what is there), for every
/// row of the table; a row naming a property that does not exist is a bug the tests catch
/// (`constraints_name_real_properties`).
fn constrain(schemas: &mut Map<String, Value>, policy: &Policy, algorithms: &[Algorithm]) {
    for (schema, property, value) in constraints(policy, algorithms) {
        let Some(slot) =
            schemas.get_mut(schema).and_then(|s| s.get_mut("properties")).and_then(|p| p.get_mut(property))
        else {
            tracing::error!(schema, property, "openapi: a constraint names no property");
            continue;
        };
        // The annotation's description stays; the type and limits are the table's.
        let description = slot.get("description").cloned();
        *slot = value;
        if let (Some(d), Some(slot)) = (description, slot.as_object_mut()) {
            slot.insert("description".into(), d);
        }
    }
}

/// The table: schema, property, the constraint the server enforces.
fn constraints(policy: &Policy, algorithms: &[Algorithm]) -> Vec<(&'static str, &'static str, Value)> {
    let reasons: Vec<Value> = RevokeReason::ALL.iter().map(|r| json!(r.as_str())).collect();
    let mut reasons_or_null = reasons.clone();
    reasons_or_null.push(Value::Null);
    let algs: Vec<Value> = algorithms.iter().map(|a| json!(a.as_str())).chain([Value::Null]).collect();
    let note = json!({ "type": ["string", "null"], "maxLength": MAX_NOTE_CHARS, "pattern": NO_CONTROLS });
    let one_audience = audience();
    vec![
        ("CreateKey", "subject", label()),
        ("CreateKey", "name", nullable(label())),
        ("CreateKey", "scopes", scopes(Some(MAX_SCOPES))),
        ("CreateKey", "expires_in", seconds(1, MAX_LIFETIME_SECS, true)),
        ("CreateKey", "starts_in", seconds(0, MAX_LIFETIME_SECS, true)),
        (
            "CreateKey",
            "uses",
            json!({ "type": ["integer", "null"], "format": "int64", "minimum": 1, "maximum": i64::MAX }),
        ),
        // `null` is absent to serde; anything but an object is refused (`check_object`).
        ("CreateKey", "meta", json!({ "type": ["object", "null"] })),
        ("CreateSession", "claims", json!({ "type": ["object", "null"] })),
        ("RenewRequest", "claims", json!({ "type": ["object", "null"] })),
        ("CreateOneTime", "data", json!({ "type": ["object", "null"] })),
        ("RefillView", "interval", seconds(60, MAX_LIFETIME_SECS, false)),
        (
            "RefillView",
            "amount",
            json!({ "type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX }),
        ),
        ("RevokeRequest", "reason", json!({ "type": ["string", "null"], "enum": reasons_or_null })),
        ("RevokeRequest", "note", note.clone()),
        ("RevokeSigned", "reason", json!({ "type": ["string", "null"], "enum": reasons_or_null })),
        ("RevokeSigned", "note", note),
        ("RevokeSigned", "jti", nullable(scope())),
        ("RevokeSigned", "family", nullable(scope())),
        ("RotateRequest", "overlap_seconds", seconds(0, MAX_ROTATION_OVERLAP, true)),
        ("CreateSession", "subject", label()),
        ("CreateSession", "idle_timeout", seconds(1, policy.session_max_lifetime, true)),
        ("CreateSession", "absolute_timeout", seconds(1, policy.session_max_lifetime, true)),
        ("CreateOneTime", "subject", label()),
        ("CreateOneTime", "purpose", purpose()),
        ("CreateOneTime", "expires_in", seconds(1, policy.one_time_max_ttl, true)),
        ("RedeemRequest", "purpose", purpose()),
        ("CreateClient", "name", label()),
        ("CreateClient", "scopes", scopes(Some(MAX_SCOPES))),
        (
            "CreateClient",
            "audiences",
            json!({ "type": "array", "items": audience(), "minItems": 1, "maxItems": 16 }),
        ),
        ("CreateAccessToken", "subject", label()),
        (
            "CreateAccessToken",
            "audience",
            json!({ "oneOf": [one_audience, { "type": "array", "items": audience(), "minItems": 1 }] }),
        ),
        ("CreateAccessToken", "scopes", scopes(None)),
        ("CreateAccessToken", "expires_in", seconds(1, policy.access_token_max_ttl, true)),
        ("CreateAccessToken", "client_id", nullable(json!({ "type": "string", "minLength": 1 }))),
        ("RotateKeys", "alg", json!({ "type": ["string", "null"], "enum": algs })),
        ("VerifyRequest", "scopes", scopes(None)),
        ("VerifyRequest", "audience", nullable(audience())),
        (
            "VerifyRequest",
            "type",
            json!({ "type": ["string", "null"], "enum": ["api_key", "session", "access_token", null] }),
        ),
        ("NonceRequest", "purpose", nullable(nonce_name())),
        ("NonceRequest", "ttl", seconds(1, policy.guard.nonce_max_ttl, true)),
        // Anything up to 512 characters is answered with a verdict (`malformed`, `tampered`, ...).
        ("ConsumeRequest", "nonce", json!({ "type": "string", "maxLength": 512 })),
        ("ConsumeRequest", "purpose", nullable(nonce_name())),
        (
            "ReplayCheck",
            "nonce",
            json!({ "type": "string", "pattern": format!("^[!-~]{{{},{}}}$", CLIENT_NONCE_LEN.start(), CLIENT_NONCE_LEN.end()) }),
        ),
        ("ReplayCheck", "timestamp", json!({ "type": "integer", "format": "int64" })),
        ("ReplayCheck", "scope", nullable(nonce_name())),
        (
            "UnlockRequest",
            "address",
            json!({ "oneOf": [{ "type": "string", "format": "ipv4" }, { "type": "string", "format": "ipv6" }] }),
        ),
        ("RatelimitRequest", "name", limit_name()),
        ("LimitView", "name", limit_name()),
        (
            "SubjectLimits",
            "ratelimits",
            json!({ "type": "array", "items": { "$ref": "#/components/schemas/LimitView" }, "maxItems": MAX_NAMED_LIMITS }),
        ),
        (
            "CreateKey",
            "allowed_ips",
            json!({ "type": "array", "items": { "type": "string" }, "maxItems": MAX_ALLOWED_NETWORKS }),
        ),
        (
            "CreateKey",
            "ratelimits",
            json!({ "type": "array", "items": { "$ref": "#/components/schemas/LimitView" }, "maxItems": MAX_NAMED_LIMITS }),
        ),
        (
            "VerifyContext",
            "client_ip",
            json!({ "oneOf": [
                { "type": "string", "format": "ipv4" },
                { "type": "string", "format": "ipv6" },
                { "type": "null" }
            ] }),
        ),
    ]
}

/// A nonce's purpose or scope (`replay::check_name`): 1 to 64 printable ASCII characters.
fn nonce_name() -> Value {
    json!({ "type": "string", "pattern": format!("^[!-~]{{1,{MAX_NONCE_NAME_LEN}}}$") })
}

/// A rate limit's name (`guard::valid_limit_name`).
fn limit_name() -> Value {
    json!({ "type": "string", "pattern": format!("^[A-Za-z0-9._:-]{{1,{MAX_LIMIT_NAME_LEN}}}$") })
}

/// A one-time token's purpose (`valid_purpose`).
fn purpose() -> Value {
    json!({ "type": "string", "pattern": format!("^[a-z0-9_.-]{{1,{MAX_PURPOSE_LEN}}}$") })
}

/// Path and query parameters: ids, subjects and listing limits as the extractors check them.
fn constrain_parameters(op: &mut Map<String, Value>) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else { return };
    for p in params.iter_mut() {
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        let schema = match name.as_str() {
            "id" => record_id(),
            "subject" => label(),
            "limit" => json!({ "type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_LIST }),
            // Forward-auth's headers (routes/forward.rs), as it checks them.
            // The length bound is in the pattern: Schemathesis' coverage phase tries a `maxLength`
            // string without the pattern.
            "X-Original-URI" => json!({ "type": "string", "pattern": "^/([!-.0-~][!-~]{0,8190})?$" }),
            "X-Original-Method" => json!({ "type": "string", "pattern": "^[A-Za-z]{1,32}$" }),
            "X-Ward-Require-Scopes" => {
                json!({ "type": "string", "pattern": "^[ ,]*([!-+\\--~]{1,128}[ ,]+){0,31}([!-+\\--~]{1,128})?[ ,]*$" })
            }
            "expiring_within" => {
                json!({ "type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX })
            }
            _ => continue,
        };
        set(p, "schema", schema);
    }
}

/// The form bodies and `json!` answers that have no Rust type, by operation: the schema of its
/// form body, and of its `200` answer.
const UNTYPED: &[(&str, Option<&str>, Option<&str>)] = &[
    ("oauthToken", Some("TokenForm"), None),
    ("oauthIntrospect", Some("IntrospectForm"), None),
    ("oauthRevoke", Some("RevokeForm"), None),
    ("getJwks", None, Some("JwkSet")),
    ("getPaserks", None, Some("PaserkSet")),
    ("getAuthorizationServerMetadata", None, Some("AuthorizationServerMetadata")),
    ("getAuthorizationServerMetadataForPath", None, Some("AuthorizationServerMetadata")),
];

fn attach_shared_schemas(op: &mut Map<String, Value>) {
    let id = op.get("operationId").and_then(Value::as_str).unwrap_or_default();
    let Some((_, form, answer)) = UNTYPED.iter().find(|(op_id, _, _)| *op_id == id) else { return };
    let reference = |name: &str| json!({ "schema": { "$ref": format!("#/components/schemas/{name}") } });
    if let Some(form) = form {
        op.insert(
            "requestBody".into(),
            json!({
                "required": true,
                "description": op.get("requestBody").and_then(|b| b.get("description")).cloned().unwrap_or(json!("")),
                "content": { "application/x-www-form-urlencoded": reference(form) }
            }),
        );
    }
    if let (Some(answer), Some(ok)) = (answer, op.get_mut("responses").and_then(|r| r.get_mut("200"))) {
        set(ok, "content", json!({ "application/json": reference(answer) }));
    }
}

// ---------------------------------------------------------------------------------------------
// problem answers
// ---------------------------------------------------------------------------------------------

const PROBLEM: &str = "application/problem+json";

fn problem_content() -> Value {
    json!({ PROBLEM: { "schema": { "$ref": "#/components/schemas/Problem" } } })
}

fn problem_description(status: &str) -> &'static str {
    match status {
        "400" => "The request is not valid (`invalid_request`); nothing changed",
        "401" => {
            "The caller's Ward key is missing or not valid; `WWW-Authenticate: Bearer` says why (RFC 6750 §3)"
        }
        "403" => "The caller's Ward key lacks the scope (`insufficient_scope`)",
        "404" => "No such record (`not_found`): Ward ids are 16 letters and digits",
        "408" => "The body did not arrive within `body_read_timeout` (`request_timeout`)",
        "413" => "The body is larger than `max_body_bytes` (`payload_too_large`)",
        "415" => "The body is not `application/json` (`unsupported_media_type`)",
        "503" => "The store cannot be reached (`unavailable`): no verdict; retry",
        "200" | "201" => "Success",
        "409" => "The request conflicts with the record's state (`conflict`)",
        "429" => {
            "`rate_limited`: too many failed attempts from the caller's address (the failure throttle); \
             `Retry-After` says when to try again"
        }
        _ => "See the body",
    }
}

fn header(description: &str) -> Value {
    json!({ "required": true, "schema": { "type": "string" }, "description": description })
}

/// Adds the problem answers the extractors give to one operation, and serves every `Problem`
/// answer as `application/problem+json`.
fn add_problems(op: &mut Map<String, Value>) {
    let security = op.get("security").and_then(Value::as_array).cloned().unwrap_or_default();
    // A Ward-key caller (the `Caller` extractor); the OAuth endpoints, which also take client
    // credentials, answer their own errors (RFC 6749 §5.2).
    let bearer = security.iter().any(|r| r.get("bearer").is_some())
        && !security.iter().any(|r| r.get("client_secret_basic").is_some());
    let body_types: Vec<String> = op
        .get("requestBody")
        .and_then(|b| b.get("content"))
        .and_then(Value::as_object)
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default();
    let json_body = body_types.iter().any(|t| t == "application/json");
    let form_body = body_types.iter().any(|t| t == "application/x-www-form-urlencoded");
    let params: Vec<Value> = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
    let at = |p: &Value, key: &str| p.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    let by_id = params.iter().any(|p| at(p, "in") == "path" && at(p, "name") == "id");
    let parsed =
        params.iter().any(|p| at(p, "in") == "query" || (at(p, "in") == "path" && at(p, "name") != "id"));

    let mut wanted: Vec<&str> = Vec::new();
    if json_body || parsed {
        wanted.push("400");
    }
    if json_body {
        wanted.extend(["408", "413", "415"]);
    }
    if form_body {
        wanted.extend(["408", "413"]);
    }
    if bearer {
        // The caller's key is checked by the failure throttle too.
        wanted.extend(["401", "403", "429"]);
    }
    if by_id {
        wanted.push("404");
    }
    if bearer || json_body || form_body {
        wanted.push("503");
    }

    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { return };
    for status in wanted {
        let answer = responses
            .entry(status)
            .or_insert_with(|| json!({ "description": problem_description(status), "content": {} }));
        let content = answer.get_mut("content");
        match content.and_then(Value::as_object_mut) {
            Some(c) => {
                c.entry(PROBLEM)
                    .or_insert_with(|| problem_content().get(PROBLEM).cloned().unwrap_or_default());
            }
            None => set(answer, "content", problem_content()),
        }
    }
    for (status, answer) in responses.iter_mut() {
        if answer.get("description").and_then(Value::as_str).is_some_and(str::is_empty) {
            set(answer, "description", json!(problem_description(status)));
        }
        let Some(content) = answer.get_mut("content").and_then(Value::as_object_mut) else { continue };
        // A `Problem` written as `body = Problem` is utoipa's `application/json`; Ward sends it
        // as `application/problem+json` (problem.rs).
        if content.get("application/json").is_some_and(is_problem) {
            if let Some(v) = content.remove("application/json") {
                content.insert(PROBLEM.into(), v);
            }
        }
        if !content.contains_key(PROBLEM) {
            continue;
        }
        let headers = answer.as_object_mut().map(|a| a.entry("headers").or_insert_with(|| json!({})));
        let Some(headers) = headers.and_then(Value::as_object_mut) else { continue };
        match status.as_str() {
            "401" | "403" if bearer => {
                headers.insert(
                    "WWW-Authenticate".into(),
                    header("`Bearer realm=\"ward\"`, with `error` and `scope` where RFC 6750 §3 has them"),
                );
            }
            "503" => {
                headers.insert("Retry-After".into(), header("Seconds to wait before asking again"));
            }
            _ => {}
        }
        if headers.is_empty() {
            if let Some(a) = answer.as_object_mut() {
                a.remove("headers");
            }
        }
    }
}

fn is_problem(media: &Value) -> bool {
    media.pointer("/schema/$ref").and_then(Value::as_str) == Some("#/components/schemas/Problem")
}

// ---------------------------------------------------------------------------------------------
// schemas for answers and bodies built without a Rust wire type
// ---------------------------------------------------------------------------------------------

/// The OAuth form bodies (RFC 6749, 7662, 7009), the JWKS, the PASERK set and the RFC 8414
/// metadata, which the handlers read or write as forms and `json!` values.
fn shared_schemas() -> Map<String, Value> {
    let client_auth = json!({
        // Empty is absent (RFC 6749 §3.2), so no `minLength`.
        "client_id": { "type": "string", "description": "`client_secret_post`: the client's id (not with Basic credentials)" },
        "client_secret": { "type": "string", "description": "`client_secret_post`: the client's secret" }
    });
    let with_client_auth = |mut props: Value| {
        if let (Some(p), Some(a)) = (props.as_object_mut(), client_auth.as_object()) {
            p.extend(a.clone());
        }
        props
    };
    // Not an enum: a server "MAY ignore" the hint and must search every type it has (RFC 7662
    // §2.1, RFC 7009 §2.1), so an unknown hint is no error.
    let token_hint = json!({ "type": "string", "description": "What the token is, if the caller knows: `access_token` or `refresh_token` (a hint only)" });
    let schemas = json!({
        "TokenForm": {
            "type": "object",
            "description": "RFC 6749 §4.4 (`client_credentials`) and §6 (`refresh_token`); each parameter at most once",
            "required": ["grant_type"],
            "properties": with_client_auth(json!({
                "grant_type": { "type": "string", "enum": ["client_credentials", "refresh_token"] },
                "scope": { "type": "string", "description": "Space-separated scopes, within the client's (or the refresh token's) own" },
                "audience": { "type": "string", "description": "One of the client's audiences (default: all of them)" },
                "resource": { "type": "string", "description": "RFC 8707: the same as `audience`" },
                "refresh_token": { "type": "string", "description": "The refresh token (`refresh_token` grant)" }
            }))
        },
        "IntrospectForm": {
            "type": "object",
            "description": "RFC 7662 §2.1",
            "required": ["token"],
            "properties": with_client_auth(json!({
                "token": { "type": "string", "minLength": 1 },
                "token_type_hint": token_hint.clone()
            }))
        },
        "RevokeForm": {
            "type": "object",
            "description": "RFC 7009 §2.1",
            "required": ["token"],
            "properties": with_client_auth(json!({
                "token": { "type": "string", "minLength": 1 },
                "token_type_hint": token_hint
            }))
        },
        "JwkSet": {
            "type": "object",
            "description": "RFC 7517 §5: the public keys that are pending, active or retiring",
            "required": ["keys"],
            "properties": { "keys": { "type": "array", "items": {
                "type": "object",
                "required": ["kty", "kid", "alg", "use"],
                "properties": {
                    "kty": { "type": "string", "enum": ["OKP", "EC", "RSA"] },
                    "kid": { "type": "string" },
                    "alg": { "type": "string", "enum": ["EdDSA", "ES256", "RS256"] },
                    "use": { "type": "string", "enum": ["sig"] },
                    "crv": { "type": "string" },
                    "x": { "type": "string" },
                    "y": { "type": "string" },
                    "n": { "type": "string" },
                    "e": { "type": "string" }
                }
            } } }
        },
        "PaserkSet": {
            "type": "object",
            "description": "The PASETO v4.public keys as PASERK `k4.public` strings",
            "required": ["keys"],
            "properties": { "keys": { "type": "array", "items": {
                "type": "object",
                "required": ["kid", "paserk", "state"],
                "properties": {
                    "kid": { "type": "string" },
                    "paserk": { "type": "string", "pattern": "^k4\\.public\\." },
                    "state": { "type": "string", "enum": ["pending", "active", "retiring"] }
                }
            } } }
        },
        "AuthorizationServerMetadata": {
            "type": "object",
            "description": "RFC 8414 §2",
            "required": ["issuer", "token_endpoint", "jwks_uri", "response_types_supported"],
            "properties": {
                "issuer": { "type": "string" },
                "token_endpoint": { "type": "string" },
                "jwks_uri": { "type": "string" },
                "introspection_endpoint": { "type": "string" },
                "revocation_endpoint": { "type": "string" },
                "grant_types_supported": { "type": "array", "items": { "type": "string" } },
                "response_types_supported": { "type": "array", "items": { "type": "string" } },
                "token_endpoint_auth_methods_supported": { "type": "array", "items": { "type": "string" } },
                "introspection_endpoint_auth_methods_supported": { "type": "array", "items": { "type": "string" } },
                "revocation_endpoint_auth_methods_supported": { "type": "array", "items": { "type": "string" } },
                "service_documentation": { "type": "string" }
            }
        }
    });
    match schemas {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn doc() -> Value {
        let policy = Policy::default();
        document(&policy, &[policy.signing_alg, Algorithm::PasetoV4Public, Algorithm::PasetoV4Local])
    }

    #[test]
    fn constraints_name_real_properties() {
        let doc = doc();
        let policy = Policy::default();
        for (schema, property, _) in constraints(&policy, &[]) {
            assert!(
                doc["components"]["schemas"][schema]["properties"].get(property).is_some(),
                "the constraint table names {schema}.{property}, which the document lacks"
            );
        }
    }

    #[test]
    fn revocation_reasons_are_the_core_table() {
        let doc = doc();
        let listed = &doc["components"]["schemas"]["RevokeRequest"]["properties"]["reason"]["enum"];
        let codes: Vec<&str> = RevokeReason::ALL.iter().map(|r| r.as_str()).collect();
        let listed: Vec<&str> = listed.as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert_eq!(listed, codes);
    }
}
