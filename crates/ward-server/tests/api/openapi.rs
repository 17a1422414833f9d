//! The OpenAPI document (issue 9). CI validates it with `openapi-spec-validator` and runs
//! Schemathesis against a live server (scripts/contract.sh); these are the properties that need no
//! Python: unique operation ids, path parameters that are in their path, problem answers as
//! `application/problem+json`, and a document that lists exactly the routes the router serves.

use serde_json::Value;
use ward_engine::Policy;
use ward_signed::Algorithm;
use ward_testkit::{Method, StatusCode, TestApp};

ward_testkit::store_tests!(every_documented_operation_is_routed_and_no_other_method);

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

fn document() -> Value {
    let policy = Policy::default();
    ward_server::openapi::document(
        &policy,
        &[policy.signing_alg, Algorithm::PasetoV4Public, Algorithm::PasetoV4Local],
    )
}

/// Every (path, method, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                all.push((path.clone(), method.clone(), op.clone()));
            }
        }
    }
    all
}

#[test]
fn operation_ids_are_unique() {
    let doc = document();
    let mut seen = std::collections::BTreeMap::new();
    for (path, method, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        if let Some(other) = seen.insert(id.to_string(), format!("{method} {path}")) {
            panic!("operationId {id:?} is used by {other} and by {method} {path}");
        }
    }
    assert!(seen.len() >= 30, "the document has {} operations", seen.len());
}

#[test]
fn path_parameters_are_exactly_those_of_the_path() {
    let doc = document();
    for (path, method, op) in operations(&doc) {
        let in_template: Vec<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let declared: Vec<&str> =
            params.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(declared, in_template, "{method} {path}: path parameters");
        for p in &params {
            if p["in"] == "path" {
                assert_eq!(p["required"], true, "{method} {path}: path parameter {p} must be required");
            } else if p["in"] == "header" {
                // The headers Ward documents as parameters: a DPoP proof (RFC 9449), and what a
                // gateway tells forward-auth.
                let headers = ["DPoP", "X-Ward-Require-Scopes", "X-Original-URI", "X-Original-Method"];
                assert!(headers.contains(&p["name"].as_str().unwrap()), "{method} {path}: {p}");
                assert_ne!(p["required"], true, "{method} {path}: a proof is optional: {p}");
            } else {
                assert_eq!(p["in"], "query", "{method} {path}: {p}");
            }
        }
    }
}

#[test]
fn problem_answers_are_problem_json_with_real_statuses() {
    let doc = document();
    for (path, method, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        for (status, answer) in responses {
            let Some(content) = answer["content"].as_object() else { continue };
            for (media, body) in content {
                let is_problem = body["schema"]["$ref"] == "#/components/schemas/Problem";
                assert_eq!(
                    is_problem,
                    media == "application/problem+json",
                    "{method} {path} {status}: {media} with schema {}",
                    body["schema"]
                );
            }
        }
        let has = |s: &str| responses.contains_key(s);
        let security = op["security"].as_array().cloned().unwrap_or_default();
        let ward_key = security.iter().any(|r| r.get("bearer").is_some())
            && !security.iter().any(|r| r.get("client_secret_basic").is_some());
        if ward_key {
            assert!(has("401") && has("403") && has("503"), "{method} {path}: 401, 403, 503");
        }
        if op["requestBody"]["content"].get("application/json").is_some() {
            for s in ["400", "408", "413", "415"] {
                assert!(has(s), "{method} {path} takes JSON: {s} is not documented");
            }
        }
        if path.contains("{id}") {
            assert!(has("404"), "{method} {path}: 404");
        }
        assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path}: no success answer");
    }
}

#[test]
fn every_operation_says_who_may_call_it() {
    let doc = document();
    let public = ["getHealth", "getReadiness", "getOpenApi", "listReasons", "getJwks", "getPaserks"];
    for (path, method, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap();
        // Forward-auth is called by a gateway without a Ward key: its `Authorization` is the end
        // user's token, the thing being checked.
        let public_id = id.starts_with("getAuthorizationServerMetadata") || id.starts_with("forwardAuth");
        if public.contains(&id) || public_id {
            assert!(op.get("security").is_none(), "{method} {path} is public");
            continue;
        }
        let security = op["security"].as_array().unwrap_or_else(|| panic!("{method} {path}: no security"));
        for requirement in security {
            if let Some(scopes) = requirement.get("bearer") {
                let scopes = scopes.as_array().unwrap();
                assert_eq!(scopes.len(), 1, "{method} {path}: one least scope, not {scopes:?}");
                assert!(scopes[0].as_str().unwrap().starts_with("ward:"), "{method} {path}: {scopes:?}");
            }
        }
    }
}

/// The route list is `routes::api`, where each route brings its document entry; a bare
/// `.route(…)` there or in `app` would be a route the document does not know.
#[test]
fn routes_are_added_only_with_their_document_entry() {
    for (file, source) in [
        ("routes/mod.rs", include_str!("../../src/routes/mod.rs")),
        ("lib.rs", include_str!("../../src/lib.rs")),
    ] {
        let code: String =
            source.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        assert!(
            !code.contains(".route("),
            "{file} adds a route without its document entry: use .routes(routes!(…))"
        );
        assert!(!code.contains(".nest("), "{file} nests a router the document does not see");
    }
}

/// Every operation of the document reaches a handler (not the 404 or 405 fallback), and every
/// other method on a documented path is a 405 with an `Allow` header (RFC 9110 §15.5.6).
async fn every_documented_operation_is_routed_and_no_other_method(app: TestApp) {
    let doc = app.get("/openapi.json").await;
    let admin = app.admin_token().to_string();
    for (template, method, op) in operations(&doc) {
        let path = template.replace("{id}", "AAAAAAAAAAAAAAAA").replace("{subject}", "nobody");
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let form = op["requestBody"]["content"].get("application/x-www-form-urlencoded").is_some();
        let answer = if form {
            app.call_raw(m, &path, None, Some("application/x-www-form-urlencoded"), "token=x").await
        } else if method == "post" {
            app.call_raw(m, &path, Some(&admin), Some("application/json"), "{}").await
        } else {
            app.call(m, &path, Some(&admin), None).await
        };
        let (status, _, body) = &answer;
        let fallback = *status == StatusCode::METHOD_NOT_ALLOWED
            || (*status == StatusCode::NOT_FOUND
                && body["detail"].as_str().is_some_and(|d| d.starts_with("no route")));
        assert!(!fallback, "{method} {template} is documented but not routed: {status} {body}");
        let documented = op["responses"].get(status.as_str()).is_some();
        assert!(
            documented,
            "{method} {template} answered {status}, which the document does not list: {body}"
        );
    }
    for (template, item) in doc["paths"].as_object().unwrap() {
        let path = template.replace("{id}", "AAAAAAAAAAAAAAAA").replace("{subject}", "nobody");
        for method in METHODS.iter().filter(|m| item.get(**m).is_none()) {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, headers, body) = app.call(m, &path, Some(&admin), None).await;
            assert_eq!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {template} is routed but not documented: {body}"
            );
            assert!(headers.get("allow").is_some(), "{method} {template}: 405 without Allow");
        }
    }
}
