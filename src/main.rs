//! The `customs` binary: parses the command line and hands over to [`customs::cli`].

fn main() -> std::process::ExitCode {
    customs::cli::main()
}
