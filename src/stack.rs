//! Running flashgate's processes on one machine: a private `redis-server` or Redis Cluster, origin and edge
//! processes (this same binary), readiness probes, and teardown. `flashgate up` and the
//! integration tests both build their stacks from these pieces.

pub mod origin_health;
pub mod process;
pub mod ready;
pub mod redis_cluster;
pub mod redis_server;
pub mod running;

pub use process::Component;
pub use redis_cluster::RedisCluster;
pub use redis_server::RedisServer;
