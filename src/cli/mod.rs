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
    // A panic's message can quote the data it failed on (a string-slicing panic quotes
    // the string), which may be prompt text: report where it happened, never what it
    // said. Panics in the request path are caught and refuse the request.
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "customs: internal error (panic) on thread {} at {location}; its message is withheld since it may quote request content",
            thread.name().unwrap_or("unnamed"),
        );
    }));
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
