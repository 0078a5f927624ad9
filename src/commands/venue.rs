//! `flashgate venue check FILE`: validate a venue file and print its seats per category; a
//! non-zero exit on any problem, each named.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use sale::venue::Venue;

/// Venue files.
#[derive(Debug, Args)]
pub struct VenueArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: VenueAction,
}

/// What `flashgate venue` does.
#[derive(Debug, Subcommand)]
pub enum VenueAction {
    /// Validate a venue file (JSON) and print its seats per category.
    Check {
        /// The venue file.
        file: PathBuf,
    },
}

impl VenueArgs {
    /// Runs the action.
    pub fn run(self) -> Result<()> {
        let VenueAction::Check { file } = self.action;
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        match Venue::parse(&text) {
            Ok(venue) => {
                println!(
                    "{}: venue {}, {} seats in {} rows",
                    file.display(),
                    venue.id,
                    venue.seats.len(),
                    venue.rows.len()
                );
                for (category, seats) in venue.categories() {
                    println!("  {category}: {seats} seats");
                }
                Ok(())
            }
            Err(problems) => {
                for problem in &problems {
                    println!("{}: {problem}", file.display());
                }
                bail!("{} problem(s) in {}", problems.len(), file.display())
            }
        }
    }
}
