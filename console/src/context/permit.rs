//! The read-only guard: every mutation needs a [`MutationPermit`], and the only way to get one
//! is [`super::Context::mutation_permit`], which refuses when `--read-only` is given or the
//! environment is configured read-only. The refusal happens before any call is made.

use crate::config::Environment;

/// Proof that mutations are allowed in this session. It cannot be built outside this module;
/// a clone is the same proof, handed to the tasks of one apply.
#[derive(Debug, Clone)]
pub struct MutationPermit {
    environment: String,
}

impl MutationPermit {
    /// The environment the permit is for.
    #[must_use]
    pub fn environment(&self) -> &str {
        &self.environment
    }
}

/// A mutation was refused because the session is read-only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refused: environment {environment:?} is read-only (--read-only or read_only = true in config.toml); nothing was changed"
)]
pub struct ReadOnlyRefusal {
    /// The environment.
    pub environment: String,
}

/// A permit for mutations in `environment`, unless it is read-only. Only the context calls
/// it.
///
/// # Errors
/// [`ReadOnlyRefusal`] when read-only.
pub(super) fn mutation_permit(
    environment: &Environment,
) -> Result<MutationPermit, ReadOnlyRefusal> {
    if environment.settings.read_only {
        return Err(ReadOnlyRefusal {
            environment: environment.name.clone(),
        });
    }
    Ok(MutationPermit {
        environment: environment.name.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::GlobalArgs;
    use crate::config::{Config, resolve_environment};

    #[test]
    fn read_only_sessions_get_no_permit() {
        let config = Config::default();
        let args = GlobalArgs {
            read_only: true,
            ..GlobalArgs::default()
        };
        let env = resolve_environment(&config, &args).unwrap();
        let refusal = mutation_permit(&env).unwrap_err();
        assert!(refusal.to_string().contains("read-only"));

        let env = resolve_environment(&config, &GlobalArgs::default()).unwrap();
        assert_eq!(mutation_permit(&env).unwrap().environment(), "default");
    }
}
