//! `flashgate codes issue` (an access code bound to one user, computed, nothing stored) and
//! `flashgate codes generate` (shared codes with a number of uses, stored hashed in Redis).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use sale::access_code;
use sale::config::EventConfig;
use sale::redis_keys::EventKeys;

/// Access codes for presale phases.
#[derive(Debug, Args)]
pub struct CodesArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: CodesAction,
}

/// What `flashgate codes` does.
#[derive(Debug, Subcommand)]
pub enum CodesAction {
    /// Print the access code bound to a user for a channel of an event (useless to anyone else).
    Issue {
        /// The config file (for the token keys).
        #[arg(long)]
        config: PathBuf,
        /// The event.
        #[arg(long)]
        event: String,
        /// The channel (a phase's `channel`).
        #[arg(long)]
        channel: String,
        /// The user the code is for.
        #[arg(long)]
        user: String,
    },
    /// Create shared codes for a channel, stored hashed in Redis; print them one per line.
    Generate {
        /// The config file (for Redis).
        #[arg(long)]
        config: PathBuf,
        /// The event.
        #[arg(long)]
        event: String,
        /// The channel (a phase's `channel`).
        #[arg(long)]
        channel: String,
        /// How many codes.
        #[arg(long)]
        count: u32,
        /// Reservations each code may make (a use comes back if its order is canceled or expires).
        #[arg(long, default_value_t = 1)]
        uses: u32,
    },
}

/// The event `id` of `config`, which must sell through `channel`.
fn channel_of<'a>(config: &'a sale::Config, id: &str, channel: &str) -> Result<&'a EventConfig> {
    let event = config
        .event(id)
        .with_context(|| format!("no event {id:?} in the config"))?;
    if !event.channels().any(|c| c == channel) {
        bail!("event {id} has no phase with channel {channel:?}");
    }
    Ok(event)
}

impl CodesArgs {
    /// Runs the action.
    pub fn run(self) -> Result<()> {
        match self.action {
            CodesAction::Issue {
                config,
                event,
                channel,
                user,
            } => {
                let config = super::load(&config)?;
                let event = channel_of(&config, &event, &channel)?;
                let user =
                    sale::UserId::parse(&user).map_err(|e| anyhow::anyhow!("--user: {e}"))?;
                println!(
                    "{}",
                    access_code::issue(
                        &config.secrets.token_keys,
                        event.id.as_str(),
                        &channel,
                        user.as_str()
                    )
                );
                Ok(())
            }
            CodesAction::Generate {
                config,
                event,
                channel,
                count,
                uses,
            } => {
                if count == 0 || uses == 0 {
                    bail!("--count and --uses must be at least 1");
                }
                let config = super::load(&config)?;
                let event = channel_of(&config, &event, &channel)?;
                let codes: Vec<String> = (0..count).map(|_| access_code::generate()).collect();
                let runtime =
                    tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
                runtime.block_on(async {
                    let mut redis = crate::stack::ready::batch_redis(&config.redis.target)
                        .await
                        .context("cannot reach Redis")?;
                    store_shared(&mut redis, event, &channel, &codes, uses).await
                })?;
                for code in codes {
                    println!("{code}");
                }
                Ok(())
            }
        }
    }
}

/// Stores shared `codes` of `channel` for `event`, each with `uses`: hashed, never in clear
/// (`HASH` → uses left, `HASH:c` → channel, `HASH:n` → uses issued, for the rush's check).
pub async fn store_shared(
    redis: &mut sale::redis_link::RedisLink,
    event: &EventConfig,
    channel: &str,
    codes: &[String],
    uses: u32,
) -> Result<()> {
    let key = EventKeys::new(&event.id).codes;
    for code in codes {
        let hash = access_code::stored_hash(code);
        let fields = [
            (hash.clone(), uses.to_string()),
            (format!("{hash}:c"), channel.to_owned()),
            (format!("{hash}:n"), uses.to_string()),
        ];
        let _: () = redis::AsyncCommands::hset_multiple(redis, &key, &fields)
            .await
            .context("cannot store the codes")?;
    }
    Ok(())
}
