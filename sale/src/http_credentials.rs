//! Reading credentials from HTTP headers, the same way on every listener: a bearer token in
//! `Authorization`, or a named cookie.

use axum::http::{HeaderMap, header};

/// The token of an `Authorization: Bearer TOKEN` header, if the request carries one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The value of the cookie called `name`, if the request carries one.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, value.parse().unwrap());
        headers
    }

    #[test]
    fn bearer_tokens_and_cookies_are_found_by_name() {
        assert_eq!(
            bearer(&headers(header::AUTHORIZATION, "Bearer xyz")),
            Some("xyz")
        );
        assert_eq!(bearer(&headers(header::AUTHORIZATION, "Basic xyz")), None);
        let jar = headers(header::COOKIE, "a=1; fg_session=s; b=2");
        assert_eq!(cookie(&jar, "fg_session"), Some("s"));
        assert_eq!(cookie(&jar, "missing"), None);
    }
}
