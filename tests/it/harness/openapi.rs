//! Every JSON answer the tests read through [`status_and_json`](super::status_and_json) is
//! checked against `docs/openapi.json`: the answer of the described route and status (or the
//! route's `default`) must validate against its schema, so the description cannot drift from
//! what the edge and the origins answer. Paths the description does not cover (a test's own
//! receiver, a path probed for a 404) are not checked.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

static DOCUMENT: LazyLock<serde_json::Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../../docs/openapi.json"))
        .expect("docs/openapi.json is JSON")
});

/// A described answer: (path template, method, status).
type Answer = (String, String, String);

/// Compiled schemas by answer.
static VALIDATORS: LazyLock<Mutex<HashMap<Answer, jsonschema::Validator>>> =
    LazyLock::new(Mutex::default);

/// The described path template `path` falls under, literal segments matching exactly.
fn template_of(path: &str) -> Option<(&'static str, &'static serde_json::Value)> {
    let segments: Vec<&str> = path.split('/').collect();
    DOCUMENT["paths"]
        .as_object()?
        .iter()
        .find(|(template, _)| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(part, segment)| {
                    part == segment || (part.starts_with('{') && !segment.is_empty())
                })
        })
        .map(|(template, item)| (template.as_str(), item))
}

/// The JSON schema `operation` gives for `status`, with the document's components beside it
/// so its references resolve.
fn schema(operation: &serde_json::Value, status: u16) -> Option<serde_json::Value> {
    let responses = &operation["responses"];
    let answer = responses
        .get(status.to_string())
        .unwrap_or(&responses["default"]);
    let mut schema = answer["content"]["application/json"]["schema"].clone();
    let fields = schema.as_object_mut()?;
    fields.insert("components".to_owned(), DOCUMENT["components"].clone());
    Some(schema)
}

/// Panics unless `body`, answered with `status` at `path`, is what docs/openapi.json says one of
/// that path's operations answers.
pub fn check(path: &str, status: u16, body: &serde_json::Value) {
    let Some((template, item)) = template_of(path) else {
        return;
    };
    let mut validators = VALIDATORS.lock().unwrap_or_else(|e| e.into_inner());
    let mut problems = Vec::new();
    for (method, operation) in item.as_object().into_iter().flatten() {
        let key = (template.to_owned(), method.clone(), status.to_string());
        if !validators.contains_key(&key) {
            let Some(schema) = schema(operation, status) else {
                continue;
            };
            let validator = jsonschema::draft202012::new(&schema)
                .unwrap_or_else(|e| panic!("{method} {template} {status}: bad schema: {e}"));
            validators.insert(key.clone(), validator);
        }
        let validator = &validators[&key];
        if validator.is_valid(body) {
            return;
        }
        let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
        problems.push(format!("{method}: {}", errors.join("; ")));
    }
    assert!(
        problems.is_empty(),
        "{status} at {path} does not match docs/openapi.json ({template}): {problems:?}\n{body}"
    );
}
