//! What `flashgate up` prints once the stack serves: the pages (over https first when the edge
//! has it, with the development CA to trust), the events, the parts and where their logs are.

use std::path::Path;

use sale::Config;

use super::EdgePlace;

/// Everything the banner names.
pub struct Banner<'a> {
    /// The config as the components loaded it.
    pub config: &'a Config,
    /// Where each edge listens.
    pub edges: &'a [EdgePlace],
    /// The config file.
    pub config_path: &'a Path,
    /// The log folder.
    pub log_dir: &'a Path,
    /// The development CA, when `up` made the edge's certificate.
    pub dev_ca: Option<&'a Path>,
}

/// Prints the banner.
pub fn print(banner: &Banner<'_>) {
    let config = banner.config;
    let first = &banner.edges[0];
    let base = match first.https {
        Some(https) => format!("https://{https}"),
        None => format!("http://{}", first.listen),
    };
    println!("flashgate is up");
    for event in &config.events {
        let opens_in = event
            .window
            .starts_at
            .saturating_sub(sale::time::now_millis())
            / 1000;
        println!("  page      {base}/events/{}", event.id);
        println!(
            "  event     {} \"{}\": {} seats, sale opens {} (in {opens_in}s)",
            event.id,
            event.name,
            event.stock,
            sale::time::rfc3339(event.window.starts_at)
        );
    }
    if let Some(ca) = banner.dev_ca {
        println!(
            "  ca.pem    {} (the development CA: trust it in the browser, or pass it to `flashgate rush --ca`)",
            ca.display()
        );
    }
    for origin in &config.origins {
        println!(
            "  origin    {} (weight {})",
            origin.listen,
            origin.weight.get()
        );
    }
    for place in banner.edges {
        let https = place
            .https
            .map(|addr| format!("https://{addr}, "))
            .unwrap_or_default();
        println!(
            "  edge      {https}http://{}, dashboard http://{}/admin/dashboard",
            place.listen, place.admin
        );
    }
    println!("  (sign in to a dashboard with secrets.admin_token)");
    println!("  redis     {}", config.redis.target);
    println!("  logs      {}", banner.log_dir.display());
    println!(
        "  session   flashgate mint-session --config {} --user alice",
        banner.config_path.display()
    );
    println!("Ctrl-C stops everything.");
}
