//! The `flashgate` command: one binary for every component (`edge`, `origin`), the whole stack on
//! one machine (`up`), and the operator tools (`check-config`, `mint-session`). The binary's
//! `main` only parses the command line and calls into here.

pub mod audit;
pub mod bench_origin;
pub mod bench_requests;
pub mod cli;
pub mod commands;
pub mod dev_tls;
pub mod rush;
pub mod signals;
pub mod stack;
pub mod up;
