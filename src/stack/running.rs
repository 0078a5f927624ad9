//! What `flashgate up` runs right now, for the tools an operator runs beside it (`rush`,
//! `reconcile`, `mint-session`): while `up --redis-cluster` runs, it leaves the cluster's seed
//! nodes in `var/redis-cluster/seeds`, and while `up --stock N` runs, that stock in `var/stock`;
//! these tools then see the cluster and the stock the components `up` started see, not the
//! file's `redis.url` and stocks. The files go when `up` stops.

use std::path::{Path, PathBuf};

use sale::Config;
use sale::config::Environment;

/// Where `up` leaves the seeds of the cluster it runs.
pub fn seeds_file(var_dir: &Path) -> PathBuf {
    var_dir.join("redis-cluster").join("seeds")
}

/// Where `up --stock` leaves the stock every event of the running stack sells.
pub fn stock_file(var_dir: &Path) -> PathBuf {
    var_dir.join("stock")
}

/// This process's environment, plus the Redis Cluster and the stock `up` runs for the config at
/// `path`, if any (an explicit `FLASHGATE_REDIS_CLUSTER` or `FLASHGATE_EVENT_STOCK` wins).
pub fn environment(path: &Path) -> Environment {
    let mut env = Environment::from_process();
    let Ok(config) = Config::load(path, &env) else {
        return env;
    };
    let var_dir = &config.up.var_dir;
    for (var, file) in [
        (Environment::REDIS_CLUSTER_VAR, seeds_file(var_dir)),
        (Environment::STOCK_VAR, stock_file(var_dir)),
    ] {
        if env.vars.contains_key(var) {
            continue;
        }
        if let Ok(value) = std::fs::read_to_string(file) {
            env.vars.insert(var.into(), value.trim().into());
        }
    }
    env
}
