//! Connection URLs that may carry a password (`redis://:PASSWORD@host:6379`,
//! `postgres://user:PASSWORD@host/db`, `postgres://host/db?password=PASSWORD`). Every way of
//! showing one (`Display`, `Debug`, so every log line, status answer and refusal message) masks the
//! password; only the code that connects reads it whole, through [`SecretUrl::expose`].

use std::fmt;

/// What a masked password shows as.
const MASK: &str = "***";

/// A connection URL whose password never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// Wraps `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The whole URL, password included: for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password masked.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

impl From<&str> for SecretUrl {
    fn from(url: &str) -> Self {
        Self::new(url)
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({:?})", self.redacted())
    }
}

/// `url` with the password of its user info and any `password` or `pass` query parameter masked.
/// A password must be percent-encoded as URLs require: an unencoded `/`, `?` or `#` in it would
/// end the user info early, for the masking as for the client that connects.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:{MASK}@{host}"),
            None => format!("{user_info}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    // `password` (libpq), `pass` (redis-rs on a unix socket).
                    Some((key, _))
                        if key.eq_ignore_ascii_case("password")
                            || key.eq_ignore_ascii_case("pass") =>
                    {
                        format!("{key}={MASK}")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{authority}{tail}"),
        None => format!("{authority}{tail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        for (url, shown) in [
            (
                "redis://:s3cret@10.0.0.1:6379/0",
                "redis://:***@10.0.0.1:6379/0",
            ),
            ("redis://app:s3cret@host:6379", "redis://app:***@host:6379"),
            ("rediss://app:s3:cr@et@host", "rediss://app:***@host"),
            (
                "postgres://flashgate:s3cret@db:5432/orders",
                "postgres://flashgate:***@db:5432/orders",
            ),
            (
                "postgres://db/orders?user=a&password=s3cret&sslmode=require",
                "postgres://db/orders?user=a&password=***&sslmode=require",
            ),
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            (
                "unix:///run/redis.sock?db=1&pass=s3cret",
                "unix:///run/redis.sock?db=1&pass=***",
            ),
            ("postgres://user@db/orders", "postgres://user@db/orders"),
        ] {
            let secret = SecretUrl::new(url);
            assert_eq!(secret.to_string(), shown, "{url}");
            assert!(!format!("{secret:?}").contains("s3cret"), "{url}");
            assert_eq!(secret.expose(), url);
        }
    }
}
