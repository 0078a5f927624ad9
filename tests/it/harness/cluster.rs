//! Doing to a stack's Redis Cluster what production does to one: a primary killed without
//! warning, and brought back (it rejoins as a replica of the node that took over).

use std::net::SocketAddr;
use std::time::Duration;

use flashgate::stack::ready;

use super::{Stack, TestRedis};

impl Stack {
    fn with_cluster<T>(&self, f: impl FnOnce(&mut flashgate::stack::RedisCluster) -> T) -> T {
        match &mut *self.redis.lock().expect("redis handle") {
            TestRedis::Cluster(cluster) => f(cluster),
            TestRedis::Node(_) => panic!("this test needs a Redis Cluster"),
        }
    }

    /// The primary serving `key` now (none while its slot is failing over).
    pub fn primary_of(&self, key: &str) -> Option<SocketAddr> {
        self.with_cluster(|c| c.primary_of(key))
    }

    /// SIGKILLs the cluster node at `addr`, as a crash would.
    pub fn kill_redis_node(&self, addr: SocketAddr) {
        self.fault();
        self.with_cluster(|c| c.node_mut(addr).expect("a node of the cluster").kill());
    }

    /// Starts the node at `addr` again on its data; it rejoins the cluster (as a replica, if its
    /// slots were failed over meanwhile). Blocks the calling thread; call it from a
    /// multi-threaded runtime.
    pub fn restart_redis_node(&self, addr: SocketAddr) {
        self.fault();
        tokio::task::block_in_place(|| {
            self.with_cluster(|c| {
                let node = c.node_mut(addr).expect("a node of the cluster");
                node.restart().expect("the node restarts");
            })
        });
    }

    /// Waits until every node reports the cluster ok and every primary has its replicas.
    pub fn wait_cluster_healthy(&self) {
        tokio::task::block_in_place(|| {
            self.with_cluster(|c| {
                ready::wait_until("the cluster healthy", Duration::from_secs(60), || {
                    c.healthy()
                })
            })
        })
        .unwrap_or_else(|e| panic!("{e}"));
    }
}
