//! Entry point: parse the command line, then hand over to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    flashgate::cli::run(flashgate::cli::Cli::parse())
}
