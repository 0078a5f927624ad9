//! Entry point: parse the command line, then hand over to the library.

use clap::Parser;

/// mimalloc: measured faster than the system allocator on the edge's many small per-request
/// allocations (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    flashgate::cli::run(flashgate::cli::Cli::parse())
}
