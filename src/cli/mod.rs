//! The command line: one file per subcommand, this file only dispatches.

mod audit;
mod check;
mod policy;
mod scan;
mod serve;
mod token;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Customs: the compliance checkpoint for enterprise AI traffic.
#[derive(Debug, Parser)]
#[command(name = "customs", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway.
    Serve(serve::ServeArgs),
    /// Mint a development JWT that only the embedded default configuration trusts.
    Token(token::TokenArgs),
    /// Scan text for regulated data (stdin by default).
    Scan(scan::ScanArgs),
    /// Explain offline what Customs would decide for one prompt, caller and model.
    Check(check::CheckArgs),
    /// Policy authoring tools.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// The durable decision log: verify, tail, keygen.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

/// Entry point of the `customs` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Token(args) => token::run(args),
        Command::Scan(args) => scan::run(args),
        Command::Check(args) => check::run(args),
        Command::Policy(command) => policy::run(command),
        Command::Audit(command) => audit::run(command),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("customs: {err:#}");
            ExitCode::from(2)
        }
    }
}
