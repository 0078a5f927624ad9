//! The flashgate edge: the public face of a flash sale, on Pingora. It serves the page from memory,
//! answers event state from its own view, verifies sessions and purchase tokens, enforces the sale
//! window, and forwards only admitted purchase traffic, signed, to the origins.
//!
//! [`run`] builds and runs the whole server; `flashgate edge` only parses arguments and calls it.

pub mod admin;
pub mod client_ip;
pub mod client_timeout;
pub mod discard;
pub mod gate;
pub mod housekeeping;
pub mod identity;
pub mod limits;
pub mod live_config;
pub mod metrics;
pub mod openapi;
pub mod page;
pub mod payments;
pub mod proxy;
pub mod queue;
pub mod redis_handle;
pub mod reload;
pub mod request_body;
pub mod request_shape;
pub mod respond;
pub mod routes;
pub mod tls;
pub mod tokens;
pub mod upstreams;
pub mod view;
pub mod window;

use std::path::Path;
use std::sync::Arc;

use pingora::apps::HttpServerOptions;
use pingora::listeners::{L4BufferSettings, ListenerConfig};
use pingora::proxy::HttpProxy;
use pingora::server::configuration::{Opt, ServerConf};
use pingora::server::{RunArgs, Server};
use pingora::services::background::background_service;
use pingora::services::listening::Service;
use sale::config::Environment;

use crate::admin::{Admin, AdminService};
use crate::client_timeout::ClientTimeout;
use crate::housekeeping::Housekeeping;
use crate::limits::fleet::FleetCaps;
use crate::live_config::{Live, LoadError};
use crate::metrics::EdgeMetrics;
use crate::proxy::Gatekeeper;
use crate::queue::QueueView;
use crate::queue::keeper::QueueKeeper;
use crate::redis_handle::RedisHandle;
use crate::reload::ReloadOnHangup;
use crate::tls::h2_connection::H2Connections;

/// Each listener's write buffer per connection (below TLS on the HTTPS one): a response's head
/// and body leave in one write when they fit (the page and its compressed assets, the event
/// document, a seat map of tens of thousands of seats, every refusal). Pingora's default, 1,460
/// bytes, sends anything larger as two writes. It is allocated per connection, beside Pingora's
/// 64 KiB read buffer.
pub(crate) const WRITE_BUFFER_BYTES: usize = 8 * 1024;
use crate::tokens::stored::StoredTokens;
use crate::tokens::used::UsedTokens;
use crate::view::EventView;
use crate::view::refresher::EventViewRefresher;

/// Requests one client connection may carry before the edge closes it, so per-connection memory
/// is recycled (nginx's `keepalive_requests` default); on h2, the streams one connection may open
/// (which is what bounds a rapid-reset client).
const REQUESTS_PER_CONNECTION: u32 = 1_000;

/// Pingora's own settings, all explicit: its defaults put the pid file and upgrade socket in /tmp
/// (shared by every edge on the machine) and keep draining connections for a minute.
fn server_conf(live: &Live) -> ServerConf {
    let snapshot = live.snapshot();
    let config = &snapshot.config;
    let port = config.edge.listen.port();
    let run_dir = config.up.var_dir.join("run");
    ServerConf {
        // The proxy's threads are its own services (see `run`); the background services need one.
        threads: 1,
        pid_file: run_dir
            .join(format!("edge-{port}.pid"))
            .display()
            .to_string(),
        upgrade_sock: run_dir
            .join(format!("edge-{port}.upgrade.sock"))
            .display()
            .to_string(),
        grace_period_seconds: Some(0),
        graceful_shutdown_timeout_seconds: Some(5),
        upstream_keepalive_pool_size: 1024,
        // One retry per other origin: only connection failures are retried (nothing was sent).
        max_retries: config.origins.len().max(1),
        work_stealing: false,
        ..ServerConf::default()
    }
}

/// The proxy as every listener serves it: h2 connection limits around client timeouts around
/// the gatekeeper.
type ProxyApp = H2Connections<ClientTimeout<HttpProxy<Gatekeeper>>>;

/// One proxy thread: a single-threaded service accepting on the shared listeners. Every
/// connection it accepts lives and is answered on its thread, whose reactor owns the socket; one
/// service of `edge.threads` threads would accept on one thread and hand each connection to a
/// random one, so every readiness would wake a thread across cores (docs/benchmarks.md).
fn proxy_service(
    server: &Server,
    thread: usize,
    gatekeeper: Gatekeeper,
    live: &Arc<Live>,
    tls: Option<&sale::config::TlsConfig>,
) -> Result<Service<ProxyApp>, LoadError> {
    let listen = live.snapshot().config.edge.listen;
    let mut proxy = pingora::proxy::http_proxy(&server.configuration, gatekeeper);
    let mut options = HttpServerOptions::default();
    options.keepalive_request_limit = Some(REQUESTS_PER_CONNECTION);
    proxy.server_options = Some(options);
    let app = H2Connections {
        app: Arc::new(ClientTimeout {
            proxy: Arc::new(proxy),
            live: live.clone(),
        }),
        live: live.clone(),
        streams_per_connection: REQUESTS_PER_CONNECTION as usize,
    };
    let mut service = Service::new(format!("flashgate edge {thread}"), app);
    service.threads = Some(1);
    service.add_listener(
        ListenerConfig::tcp(listen.to_string())
            .l4_buffer(L4BufferSettings::default().write(WRITE_BUFFER_BYTES)),
    );
    if let Some(tls) = tls {
        tls::add_listener(&mut service, tls, live.clone())
            .map_err(|e| LoadError::Listener(e.to_string()))?;
    }
    Ok(service)
}

/// Loads `config_path` and serves until SIGTERM or SIGINT. With `upgrade`, takes over the
/// listening sockets of a running edge (Pingora's graceful upgrade: start the new binary with
/// `--upgrade`, then send SIGQUIT to the old one; no connection is refused in between).
pub fn run(config_path: &Path, env: Environment, upgrade: bool) -> Result<(), LoadError> {
    let live = Arc::new(Live::load(config_path, env)?);
    let conf = server_conf(&live);
    if let Some(run_dir) = Path::new(&conf.pid_file).parent() {
        std::fs::create_dir_all(run_dir).map_err(|source| {
            LoadError::Config(sale::config::ConfigError::Read {
                path: run_dir.to_owned(),
                source,
            })
        })?;
    }
    let options = Opt {
        upgrade,
        ..Opt::default()
    };
    let mut server = Server::new_with_opt_and_conf(Some(options), conf);
    server.bootstrap();

    let balancer = background_service("origins", upstreams::balancer(live.clone()));
    let origins = balancer.task();
    let redis = Arc::new(RedisHandle::new(&live.snapshot().config.redis));
    let view = Arc::new(EventView::default());
    let metrics = Arc::new(EdgeMetrics::new());
    let used = Arc::new(UsedTokens::default());
    let refresher = EventViewRefresher {
        live: live.clone(),
        view: view.clone(),
        redis: redis.clone(),
    };
    let queue = Arc::new(QueueView::default());
    let keeper = QueueKeeper {
        live: live.clone(),
        view: queue.clone(),
        redis: redis.clone(),
    };
    let hangup = ReloadOnHangup {
        live: live.clone(),
        origins: origins.clone(),
    };
    let admin = AdminService(Admin {
        live: live.clone(),
        origins: origins.clone(),
        view: view.clone(),
        metrics: metrics.clone(),
        lockout: Arc::default(),
        redis: redis.clone(),
        queue: queue.clone(),
    });
    let housekeeping = Housekeeping {
        live: live.clone(),
        origins: origins.clone(),
        used: used.clone(),
        metrics: metrics.clone(),
    };

    let listen = live.snapshot().config.edge.listen;
    let tls = live.snapshot().config.edge.tls.clone();
    let threads = live.snapshot().config.edge.threads;
    let gatekeeper = Gatekeeper {
        live: live.clone(),
        origins,
        view,
        used,
        metrics,
        stored: StoredTokens {
            redis: redis.clone(),
        },
        fleet: FleetCaps::new(redis.clone()),
        queue: queue.clone(),
        guesses: Arc::default(),
    };
    for thread in 0..threads {
        let service = proxy_service(&server, thread, gatekeeper.clone(), &live, tls.as_ref())?;
        server.add_service(service);
    }
    if let Some(tls) = &tls {
        tracing::info!(listen = %tls.listen, http2 = tls.http2, "edge serving https");
    }
    server.add_service(balancer);
    server.add_service(background_service("event view", refresher));
    server.add_service(background_service("waiting rooms", keeper));
    server.add_service(background_service("reload on SIGHUP", hangup));
    server.add_service(background_service("admin", admin));
    server.add_service(background_service("housekeeping", housekeeping));
    tracing::info!(%listen, "edge serving");
    server.run(RunArgs::default());
    Ok(())
}
