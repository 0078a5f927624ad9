//! What `flashgate up` runs right now, for the tools an operator runs beside it (`rush`,
//! `reconcile`, `mint-session`): while `up --redis-cluster` runs, it leaves the cluster's seed
//! nodes in `var/redis-cluster/seeds`, and these tools use that cluster instead of the file's
//! `redis.url`, exactly as the components `up` started do. The file goes when `up` stops.

use std::path::{Path, PathBuf};

use sale::Config;
use sale::config::Environment;

/// Where `up` leaves the seeds of the cluster it runs.
pub fn seeds_file(var_dir: &Path) -> PathBuf {
    var_dir.join("redis-cluster").join("seeds")
}

/// This process's environment, plus the Redis Cluster `up` runs for the config at `path`, if any
/// (an explicit `FLASHGATE_REDIS_CLUSTER` wins).
pub fn environment(path: &Path) -> Environment {
    let mut env = Environment::from_process();
    if env.vars.contains_key(Environment::REDIS_CLUSTER_VAR) {
        return env;
    }
    let Ok(config) = Config::load(path, &env) else {
        return env;
    };
    if let Ok(seeds) = std::fs::read_to_string(seeds_file(&config.up.var_dir)) {
        env.vars
            .insert(Environment::REDIS_CLUSTER_VAR.into(), seeds.trim().into());
    }
    env
}
