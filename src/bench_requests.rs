//! `flashgate bench-requests`: writes single-use buy requests for the proxied-buy benchmark, one
//! distinct buyer per line, in two forms: through the edge (public buy URL with a purchase token
//! and a session), and pre-signed for an origin (what a plain reverse proxy such as nginx would
//! forward, having done none of the edge's checks). Both make the origins do the same work.
//!
//! Lines are `PATH<TAB>Header: value<TAB>…`, read by `scripts/wrk/replay.lua` under wrk.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use sale::config::Environment;
use sale::edge_signature::{self, Claims};
use sale::{Config, UserId};

/// Writes `count` edge requests to `edge_file` and `count` origin requests to `origin_file`.
pub fn run(
    config_path: &Path,
    event: &str,
    count: usize,
    edge_file: &Path,
    origin_file: &Path,
) -> Result<()> {
    let config = Config::load(config_path, &Environment::from_process())?;
    let event = config
        .event(event)
        .ok_or_else(|| anyhow!("no event {event:?}"))?
        .clone();
    let now = sale::time::now_millis();
    let valid_until = sale::time::add(now, config.tokens.ttl);
    let session_until = sale::time::add(now, config.tokens.session_ttl);
    let mut edge = BufWriter::new(std::fs::File::create(edge_file).context("edge request file")?);
    let mut origin =
        BufWriter::new(std::fs::File::create(origin_file).context("origin request file")?);
    let internal_path = sale::wire::buy_path(event.id.as_str());
    for i in 0..count {
        let user = UserId::parse(&format!("edge-{i}"))?;
        let (token, _) =
            sale::purchase_token::issue(&config.secrets.token_keys, &event.id, &user, valid_until);
        let session = sale::session::mint(&config.secrets.session_keys, &user, session_until);
        writeln!(
            edge,
            "/api/events/{}/buy/{token}\tAuthorization: Bearer {session}",
            event.id
        )?;

        let claims = Claims {
            user: Some(UserId::parse(&format!("proxy-{i}"))?),
            nonce: Some(format!("bench-nonce-{i}")),
            signed_at: now,
        };
        write!(origin, "{internal_path}")?;
        for (name, value) in edge_signature::sign(
            &config.secrets.internal_keys,
            "POST",
            &internal_path,
            &claims,
        ) {
            write!(origin, "\t{name}: {value}")?;
        }
        writeln!(origin)?;
    }
    edge.flush()?;
    origin.flush()?;
    Ok(())
}
