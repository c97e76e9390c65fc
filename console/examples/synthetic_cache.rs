//! Writes a realistic synthetic fleet into the store, for measuring fleetid on the real
//! binary without AWS: `cargo run --release -p fleetid --example synthetic_cache --
//! --devices 1000000`. The cache goes where fleetid reads it (`FLEETID_CACHE`, else the
//! platform data directory), a config.toml with the environment beside it, and the last line
//! printed is the command line that starts fleetid on it: `run: fleetid <global flags>`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, bail};
use fleetid::context::CACHE_ENV;
use fleetid::model::synthetic::realistic::RealisticFleet;
use fleetid::model::{FleetState, UnixTime};
use fleetid::store::{self, Store};

const USAGE: &str = "usage: synthetic_cache [--devices N] [--env NAME]";

fn main() -> anyhow::Result<()> {
    let mut devices = 1_000_000_usize;
    let mut env = "synthetic".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .with_context(|| format!("{arg} needs a value; {USAGE}"))
        };
        match arg.as_str() {
            "--devices" => devices = value()?.parse().context("--devices")?,
            "--env" => env = value()?,
            _ => bail!("unknown argument {arg:?}; {USAGE}"),
        }
    }
    let path = match std::env::var_os(CACHE_ENV) {
        Some(path) => PathBuf::from(path),
        None => store::default_path()?,
    };
    let now = UnixTime::now();
    let started = Instant::now();
    let state = FleetState::from_parts(RealisticFleet { devices, now }.parts());
    let built = started.elapsed();
    let mut store = Store::open(&path)?;
    let started = Instant::now();
    store.save(&env, &state, now)?;
    let saved = started.elapsed();
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    // Beside the store: the environment, read-only and pointed at a port nothing answers
    // on, so even a run without --offline reaches neither AWS nor a lab.
    let config = path.with_file_name(format!("{env}.toml"));
    std::fs::write(
        &config,
        format!(
            "# Written by the synthetic_cache example.\n\
             [environments.{env}]\n\
             region = \"us-east-1\"\n\
             endpoint_url = \"http://127.0.0.1:9\"\n\
             colour = \"magenta\"\n\
             read_only = true\n"
        ),
    )
    .with_context(|| format!("writing {}", config.display()))?;
    println!(
        "{devices} devices (environment {env}) in {}: model {built:.2?}, save {saved:.2?}, file {} MiB",
        path.display(),
        size / (1024 * 1024)
    );
    let cache = std::env::var_os(CACHE_ENV)
        .map(|p| format!("{CACHE_ENV}={} ", p.to_string_lossy()))
        .unwrap_or_default();
    if !cache.is_empty() {
        println!("(the cache is read from {CACHE_ENV}: keep it set)");
    }
    println!(
        "run: fleetid --config {} --env {env} --offline",
        config.display()
    );
    Ok(())
}
