//! The environment of a `fleetid` started by a test against the in-process lab: a private
//! HOME, config and cache in `dir`, the lab's credentials and no others (no shared AWS files,
//! no profile, session token, endpoint override or instance metadata).

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Sets that environment on `command`.
pub fn lab_environment<'a>(command: &'a mut Command, dir: &Path) -> &'a mut Command {
    command
        .env("FLEETID_CACHE", dir.join("cache.sqlite3"))
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("AWS_ACCESS_KEY_ID", fleetid_lab::api::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", fleetid_lab::api::SECRET_ACCESS_KEY)
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_IOT")
}
