//! The list of problems validation collects, and the checks every section shares (durations,
//! secrets that may come from the environment, key rings), so each section's validator records
//! into one list without depending on another section's.

use std::time::Duration;

use super::Environment;
use super::Problem;
use super::raw::RawKey;
use super::values::{self, ValueResult};
use crate::key_ring::{KeyId, KeyRing, Secret, SigningKey};

#[derive(Default)]
pub(super) struct Problems(pub(super) Vec<Problem>);

impl Problems {
    pub(super) fn check<T>(
        &mut self,
        field: impl Into<String>,
        result: ValueResult<T>,
    ) -> Option<T> {
        result
            .map_err(|message| {
                self.0.push(Problem {
                    field: field.into(),
                    message,
                })
            })
            .ok()
    }

    pub(super) fn duration(
        &mut self,
        field: &str,
        text: Option<&str>,
        default: &str,
        min: Duration,
        max: Duration,
    ) -> Option<Duration> {
        self.check(field, values::duration(text.unwrap_or(default), min, max))
    }

    /// `text`, or with `env:NAME` the value of that environment variable: how every value that
    /// may hold a secret (keys, tokens, URLs with passwords) is kept out of the file.
    pub(super) fn resolve_env<'a>(
        &mut self,
        field: &str,
        text: &'a str,
        env: &'a Environment,
    ) -> Option<&'a str> {
        match text.strip_prefix("env:") {
            Some(var) => match env.vars.get(var) {
                Some(value) => Some(value.as_str()),
                None => self.check(
                    field,
                    Err(format!(
                        "names environment variable {var}, which is not set"
                    )),
                ),
            },
            None => Some(text),
        }
    }

    pub(super) fn secret(&mut self, field: &str, text: &str, env: &Environment) -> Option<Secret> {
        let text = self.resolve_env(field, text, env)?;
        self.check(field, Secret::parse(text).map_err(|e| e.to_string()))
    }

    pub(super) fn ring(
        &mut self,
        field: &str,
        keys: &[RawKey],
        env: &Environment,
    ) -> Option<KeyRing> {
        let mut ring = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let id = self.check(
                format!("{field}[{i}].id"),
                KeyId::parse(&key.id).map_err(|e| e.to_string()),
            );
            let secret = self.secret(&format!("{field}[{i}].secret"), &key.secret, env);
            if let (Some(id), Some(secret)) = (id, secret) {
                ring.push((SigningKey { id, secret }, key.accept_only));
            }
        }
        if ring.len() != keys.len() {
            return None;
        }
        self.check(field, KeyRing::rotating(ring).map_err(|e| e.to_string()))
    }
}
