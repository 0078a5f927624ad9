//! Free loopback ports for the servers a test starts, below the kernel's ephemeral range (which
//! the tests' own client sockets draw from) and never the same twice in one run, so tests run in
//! parallel.

use std::net::{SocketAddr, TcpListener};

fn ephemeral_low() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

/// Where single servers' ports end and Redis Cluster nodes' ports begin (their cluster bus ports
/// are 10000 above theirs, so both stay out of the single servers' range).
const CLUSTER_PORTS: u32 = 20_000;

/// A loopback port nobody listens on, for a server a test starts. Picked below the kernel's
/// ephemeral range, which the tests' own client sockets draw from (a port the kernel handed out
/// and took back could go to a client before the server binds it), below the cluster nodes'
/// range, and never twice in one run.
pub fn free_addr() -> SocketAddr {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let top = ephemeral_low().min(CLUSTER_PORTS);
    let (low, span) = (10_000, top.saturating_sub(10_000).max(1));
    // Parallel test runs on one machine start at different places.
    let start = std::process::id() * 7_919 % span;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(n < span, "no free port left below the ephemeral range");
        let port = u16::try_from(low + (start + n) % span).expect("ports fit in u16");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if TcpListener::bind(addr).is_ok() {
            return addr;
        }
    }
}

/// The first of `count` consecutive free loopback ports (for Redis Cluster nodes, or an edge
/// fleet's listeners), whose ports 10000 above (a cluster node's bus) are free too, all below the
/// ephemeral range; never twice in one run.
pub fn free_cluster_ports(count: u16) -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let count = u32::from(count);
    let slots = ephemeral_low().saturating_sub(CLUSTER_PORTS + 10_000) / count;
    assert!(
        slots > 0,
        "no room for cluster ports below the ephemeral range"
    );
    let start = std::process::id() % slots;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(n < slots, "no free cluster ports left");
        let first = CLUSTER_PORTS + (start + n) % slots * count;
        let free = (first..first + count).all(|port| {
            [port, port + 10_000].iter().all(|p| {
                let p = u16::try_from(*p).expect("ports fit in u16");
                TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], p))).is_ok()
            })
        });
        if free {
            return u16::try_from(first).expect("ports fit in u16");
        }
    }
}
