//! The OpenAPI 3.1 description of the public API and the operator API, `docs/openapi.json`,
//! built into the binary and served at `GET /api/openapi.json`. Its tests read the routes the
//! edge serves from the routers themselves (the arms of [`Route::parse`](crate::routes::Route)
//! and the admin listener's `.route(...)` calls), so a route added to either without its
//! description fails them, as does a description of a route nobody serves.

use std::sync::LazyLock;

use bytes::Bytes;
use pingora::http::RequestHeader;

use crate::page::Asset;
use crate::respond::Answer;

/// The document, as kept in `docs/`.
pub const DOCUMENT: &[u8] = include_bytes!("../../docs/openapi.json");

/// The document as served: compressed once (it is tens of kilobytes of JSON), with an ETag.
static SERVED: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "openapi.json",
        Bytes::from_static(DOCUMENT),
        "public, max-age=300",
    )
});

/// `GET /api/openapi.json`: the same for everyone, changing only with the binary; 304 when the
/// client's copy is current, brotli or gzip when it accepts them.
pub fn answer(req: &RequestHeader) -> Answer {
    crate::page::answer(&SERVED, req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::Route;
    use http::Method;

    fn document() -> serde_json::Value {
        serde_json::from_slice(DOCUMENT).expect("docs/openapi.json is JSON")
    }

    /// A served route: its method and its path's segments, `None` for a parameter.
    type Served = (&'static str, Vec<Option<String>>);

    /// The routes of the public listener, read from the arms of `Route::parse`: each arm's
    /// patterns (`["api", "events", id, "token"]`) and its method (`only(post, …)`, or a guard
    /// `if get`).
    fn public_routes() -> Vec<Served> {
        let source = include_str!("routes.rs");
        let start = source
            .find("match segments[..count] {")
            .expect("the parser's match");
        let end = start
            + source[start..]
                .find("_ => Route::NotFound")
                .expect("its last arm");
        let mut routes = Vec::new();
        let mut arms: Vec<(Vec<&str>, String)> = Vec::new();
        for line in source[start..end].lines().skip(1) {
            let line = line.trim();
            if line.starts_with('[') {
                let (head, body) = line.split_once("=>").expect("an arm");
                let (patterns, guard) = head.split_once(" if ").unwrap_or((head, ""));
                let method = if guard.trim() == "get" { "get" } else { "" };
                arms.push((patterns.split(" | ").collect(), format!("{method} {body}")));
            } else if let Some((_, body)) = arms.last_mut() {
                body.push_str(line);
            }
        }
        for (patterns, body) in arms {
            let method = if body.starts_with("get ") || body.contains("only(get") {
                "get"
            } else if body.contains("only(post") {
                "post"
            } else {
                panic!("no method in the arm {patterns:?} => {body}");
            };
            for pattern in patterns {
                let segments = pattern
                    .trim()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .split(',')
                    .map(|segment| {
                        let segment = segment.trim();
                        segment
                            .strip_prefix('"')
                            .map(|literal| literal.trim_end_matches('"').to_owned())
                    })
                    .collect();
                routes.push((method, segments));
            }
        }
        routes
    }

    /// The operator API's routes, read from the admin listener's `.route("PATH", METHOD(…))`
    /// calls (the dashboard's pages, in their own file, are for browsers).
    fn operator_routes() -> Vec<Served> {
        let source = include_str!("admin.rs");
        source
            .split(".route(")
            .skip(1)
            .map(|call| {
                let call = call.trim_start();
                let path = call[1..].split('"').next().expect("a path literal");
                let after = call[path.len() + 2..].trim_start_matches([',', ' ', '\n']);
                let method = after.split('(').next().expect("a method").trim();
                let method = if method == "get" { "get" } else { "post" };
                let segments = path
                    .split('/')
                    .skip(1)
                    .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                    .collect();
                (method, segments)
            })
            .collect()
    }

    /// Whether the OpenAPI `template` describes a path of `segments`.
    fn describes(template: &str, segments: &[Option<String>]) -> bool {
        let parts: Vec<&str> = template.split('/').skip(1).collect();
        let root = parts == [""] && segments == [Some(String::new())];
        root || (parts.len() == segments.len()
            && parts
                .iter()
                .zip(segments)
                .all(|(part, segment)| match segment {
                    Some(literal) => part == literal,
                    None => part.starts_with('{'),
                }))
    }

    fn described(doc: &serde_json::Value, method: &str, segments: &[Option<String>]) -> bool {
        doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .any(|(template, item)| describes(template, segments) && item[method].is_object())
    }

    #[test]
    fn the_routers_are_read_whole() {
        let public = public_routes();
        assert!(public.len() >= 20, "{public:?}");
        assert!(public.contains(&(
            "post",
            vec![
                Some("api".to_owned()),
                Some("events".to_owned()),
                None,
                Some("token".to_owned()),
            ]
        )));
        let operator = operator_routes();
        assert!(operator.contains(&("get", vec![Some("metrics".to_owned())])));
        assert!(operator.len() >= 7, "{operator:?}");
        // What was read is what is served.
        for (method, segments) in &public {
            let path: Vec<&str> = segments
                .iter()
                .map(|s| s.as_deref().unwrap_or("x1"))
                .collect();
            let path = format!("/{}", path.join("/"));
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let route = Route::parse(&method, &path);
            assert!(
                !matches!(route, Route::NotFound | Route::MethodNotAllowed),
                "{path}"
            );
        }
    }

    #[test]
    fn every_served_route_is_described() {
        let doc = document();
        for (method, segments) in public_routes().iter().chain(&operator_routes()) {
            assert!(
                described(&doc, method, segments),
                "{method} {segments:?} is served but not in docs/openapi.json"
            );
        }
    }

    #[test]
    fn every_described_route_is_served() {
        let doc = document();
        let served: Vec<Served> = public_routes()
            .into_iter()
            .chain(operator_routes())
            .collect();
        for (template, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                assert!(
                    served
                        .iter()
                        .any(|(m, segments)| m == method && describes(template, segments)),
                    "{method} {template} is described but not served"
                );
            }
        }
    }

    #[test]
    fn every_answer_has_a_default_and_names_known_codes() {
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
