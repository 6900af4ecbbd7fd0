//! `customs policy validate [DIR]`: loads a policy directory exactly as `customs serve`
//! would (schema, strict validation, catalog, classifiers) and reports every error with
//! its file, line and column. Exit 0 when valid, 1 when not.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::policy::{Bundle, PolicySource};

/// `customs policy …`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy directory (default: the bundled policies).
    Validate {
        /// Policy directory (`*.cedar`, `catalog.toml`, `classifiers/`).
        dir: Option<PathBuf>,
    },
}

/// Runs `customs policy …`.
pub fn run(command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Validate { dir } => {
            let source = match &dir {
                Some(dir) => PolicySource::from_dir(dir)?,
                None => PolicySource::bundled(),
            };
            match Bundle::load(&source) {
                Ok(bundle) => {
                    eprintln!(
                        "ok: {} policies, {} deployments, version {} ({})",
                        bundle.policy_count(),
                        bundle.catalog().deployments().count(),
                        bundle.version(),
                        bundle.origin()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(errors) => {
                    for error in &errors.0 {
                        eprintln!("error: {error}");
                    }
                    eprintln!("{} error(s) in {}", errors.0.len(), source.origin);
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
