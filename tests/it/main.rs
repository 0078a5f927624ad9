//! Integration tests against the real stack: a real `redis-server`, origin and edge processes of
//! this very binary, and a real SQLite order file, all on free loopback ports in a private temp
//! folder per test, so tests run in parallel and leave nothing behind.

// A test that cannot get what it needs should stop right there, loudly.
#![allow(clippy::unwrap_used)]

mod admin_lockout;
mod best_available;
mod buy_path;
mod caching;
mod certificates;
mod classic_tokens;
mod cluster;
mod dashboard;
mod docs;
mod failover;
mod fleet;
mod gatekeeping;
mod h2_abuse;
mod harness;
mod https;
mod keep_alive;
mod ledger;
mod lifecycle;
mod monitoring;
mod operator;
mod origin_tls;
mod origin_trust;
mod outage;
mod payment_page;
mod payments;
mod presale;
mod product_page;
mod queue;
mod queue_operations;
mod queue_page;
mod refusals;
mod reload;
mod replica_reads;
mod replication;
mod request_ids;
mod retries;
mod rush;
mod seat_page;
mod seats;
mod stock;
mod ticket_types;
mod typed_page;
mod up_failover;
mod up_reload;
mod venues;
mod webhooks;
