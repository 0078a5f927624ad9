//! The OpenAPI 3.1 description of the public API and the operator API, `docs/openapi.json`,
//! built into the binary and served at `GET /api/openapi.json`, and the table of the public
//! listener's routes that its tests hold it to: every route the edge serves is described, and
//! every described route is served.

use bytes::Bytes;

use crate::respond::Answer;

/// The document, as kept in `docs/`.
pub const DOCUMENT: &[u8] = include_bytes!("../../docs/openapi.json");

/// Every route of the public listener, as (method, OpenAPI path template).
pub const PUBLIC_ROUTES: [(&str, &str); 23] = [
    ("get", "/"),
    ("get", "/events/{id}"),
    ("get", "/static/{file}"),
    ("get", "/api/openapi.json"),
    ("get", "/api/events/{id}"),
    ("post", "/api/events/{id}/token"),
    ("post", "/api/events/{id}/buy/{token}"),
    ("get", "/api/events/{id}/orders"),
    ("get", "/api/orders/{order_id}"),
    ("post", "/api/orders/{order_id}/pay"),
    ("post", "/api/orders/{order_id}/cancel"),
    ("post", "/api/payments/webhook"),
    ("get", "/api/events/{id}/queue"),
    ("post", "/api/events/{id}/queue"),
    ("get", "/api/events/{id}/queue/challenge"),
    ("get", "/api/events/{id}/fairness"),
    ("get", "/api/events/{id}/fairness/entrants"),
    ("get", "/api/events/{id}/seats"),
    ("get", "/api/venues/{venue}"),
    ("post", "/api/dev/session"),
    ("get", "/dev/checkout/{payment_id}"),
    ("post", "/api/dev/payments/sign"),
    ("head", "/"),
];

/// `GET /api/openapi.json`: the same for everyone, changing only with the binary.
pub fn answer() -> Answer {
    Answer::Raw {
        status: 200,
        content_type: "application/json",
        body: Bytes::from_static(DOCUMENT),
        headers: vec![("cache-control", "public, max-age=300".to_owned())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::Route;
    use http::Method;

    fn document() -> serde_json::Value {
        serde_json::from_slice(DOCUMENT).expect("docs/openapi.json is JSON")
    }

    /// `template` with each `{parameter}` filled in.
    fn instance(template: &str) -> String {
        template
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "x1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    #[test]
    fn every_public_route_is_served_and_described() {
        let doc = document();
        for (method, template) in PUBLIC_ROUTES {
            let parsed_method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let path = instance(template);
            let route = Route::parse(&parsed_method, &path);
            assert!(
                !matches!(route, Route::NotFound | Route::MethodNotAllowed),
                "{method} {path} is not served"
            );
            // HEAD is GET without the body; OpenAPI describes the GET.
            let described = if method == "head" { "get" } else { method };
            assert!(
                doc["paths"][template][described].is_object(),
                "{method} {template} is served but not in docs/openapi.json"
            );
        }
    }

    #[test]
    fn every_described_route_is_served() {
        let doc = document();
        let operator = crate::admin::OPERATOR_ROUTES;
        for (template, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let pair = (method.as_str(), template.as_str());
                assert!(
                    PUBLIC_ROUTES.contains(&pair) || operator.contains(&pair),
                    "{method} {template} is described but not served"
                );
            }
        }
        for (method, template) in operator {
            assert!(
                doc["paths"][template][method].is_object(),
                "{method} {template} is served but not in docs/openapi.json"
            );
        }
    }

    #[test]
    fn every_refusal_answer_is_the_refusal_schema_with_a_known_code() {
        let doc = document();
        let mut codes: Vec<&str> = sale::Refusal::ALL.iter().map(|r| r.code()).collect();
        // The operator API's own answers beside the contract's refusals.
        codes.extend(["not_seeded", "invalid_config"]);
        for (template, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let responses = operation["responses"].as_object().unwrap();
                assert!(
                    responses.contains_key("default"),
                    "{method} {template} has no default answer"
                );
                for (status, answer) in responses {
                    let Some(description) = answer["description"].as_str() else {
                        panic!("{method} {template} {status} has no description");
                    };
                    for code in description.split('`').skip(1).step_by(2) {
                        assert!(codes.contains(&code), "{method} {template}: {code}");
                    }
                }
            }
        }
    }
}
