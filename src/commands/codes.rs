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

/// Whose codes: a channel of an event in a config.
#[derive(Debug, Args)]
pub struct Channel {
    /// The config file (for the token keys and Redis).
    #[arg(long)]
    pub config: PathBuf,
    /// The event.
    #[arg(long)]
    pub event: String,
    /// The channel (a phase's `channel`).
    #[arg(long)]
    pub channel: String,
}

impl Channel {
    /// The config, and the event, which must sell through the channel.
    fn load(&self) -> Result<(sale::Config, EventConfig)> {
        let config = super::load(&self.config)?;
        let event = config
            .event(&self.event)
            .with_context(|| format!("no event {:?} in the config", self.event))?;
        if !event.channels().any(|c| c == self.channel) {
            bail!(
                "event {} has no phase with channel {:?}",
                self.event,
                self.channel
            );
        }
        let event = event.clone();
        Ok((config, event))
    }
}

/// What `flashgate codes` does.
#[derive(Debug, Subcommand)]
pub enum CodesAction {
    /// Print the access code bound to a user for a channel of an event (useless to anyone else).
    Issue {
        /// The channel.
        #[command(flatten)]
        channel: Channel,
        /// The user the code is for.
        #[arg(long)]
        user: String,
    },
    /// Create shared codes for a channel, stored hashed in Redis; print them one per line.
    Generate {
        /// The channel.
        #[command(flatten)]
        channel: Channel,
        /// How many codes.
        #[arg(long)]
        count: u32,
        /// Reservations each code may make (a use comes back if its order is canceled or expires).
        #[arg(long, default_value_t = 1)]
        uses: u32,
    },
}

impl CodesArgs {
    /// Runs the action.
    pub fn run(self) -> Result<()> {
        match self.action {
            CodesAction::Issue { channel, user } => {
                let (config, event) = channel.load()?;
                let user =
                    sale::UserId::parse(&user).map_err(|e| anyhow::anyhow!("--user: {e}"))?;
                println!(
                    "{}",
                    access_code::issue(
                        &config.secrets.token_keys,
                        event.id.as_str(),
                        &channel.channel,
                        user.as_str()
                    )
                );
                Ok(())
            }
            CodesAction::Generate {
                channel,
                count,
                uses,
            } => {
                if count == 0 || uses == 0 {
                    bail!("--count and --uses must be at least 1");
                }
                let (config, event) = channel.load()?;
                let codes: Vec<String> = (0..count).map(|_| access_code::generate()).collect();
                let runtime =
                    tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
                runtime.block_on(async {
                    let mut redis = crate::stack::ready::batch_redis(&config.redis.target)
                        .await
                        .context("cannot reach Redis")?;
                    store_shared(&mut redis, &event, &channel.channel, &codes, uses).await
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
