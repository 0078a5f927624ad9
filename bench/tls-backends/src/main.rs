//! A/B of Pingora's TLS backends (scripts/bench-tls-backends): the same tiny HTTPS server, a
//! constant 410, one worker thread, built once with each backend; only the TLS library differs.
use async_trait::async_trait;
use http::Response;
use pingora_core::apps::http_app::{HttpServer, ServeHttp};
use pingora_core::protocols::http::ServerSession;
use pingora_core::server::configuration::ServerConf;
use pingora_core::server::Server;
use pingora_core::services::listening::Service;

struct Refuse;

#[async_trait]
impl ServeHttp for Refuse {
    async fn response(&self, _session: &mut ServerSession) -> Response<Vec<u8>> {
        let body = br#"{"code":"sold_out","message":"Sold out."}"#.to_vec();
        Response::builder()
            .status(410)
            .header("content-type", "application/json")
            .header("content-length", body.len())
            .body(body)
            .unwrap()
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap();
    let cert = args.next().unwrap();
    let key = args.next().unwrap();
    let conf = ServerConf { threads: 1, ..ServerConf::default() };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let mut service = Service::new("ab".to_owned(), HttpServer::new_app(Refuse));
    service.add_tls(&addr, &cert, &key).unwrap();
    server.add_service(service);
    server.run_forever();
}
