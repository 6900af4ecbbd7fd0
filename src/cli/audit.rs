//! `customs audit verify DIR`, `customs audit tail DIR [-n N] [--follow]` and
//! `customs audit keygen`: the operator's tools for the durable decision log
//! ([`crate::audit::log`]). `verify` names the log by its id (the `service.instance.id`
//! its forwarded records carry), exits 1 on any problem and names the segment, line
//! and sequence number of each; `tail` prints decision events and policy changes (told
//! apart by `"event": "policy_change"`), one JSON object per line.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::audit::log::checkpoint::Signer;
use crate::audit::log::segment::{self, Reader};
use crate::audit::log::verify::verify;

/// `customs audit …`
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the log for gaps, reordering, changed bytes and bad checkpoint signatures.
    Verify {
        /// The log directory (`[audit] dir`).
        dir: PathBuf,
        /// The expected checkpoint public key (64 hex digits, or a file holding them).
        #[arg(long)]
        public_key: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print decision events and policy changes, one JSON object per line.
    Tail {
        /// The log directory.
        dir: PathBuf,
        /// How many of the latest events (decisions and policy changes) to print first.
        #[arg(short = 'n', long, default_value_t = 10)]
        lines: usize,
        /// Keep printing events as they are appended.
        #[arg(short, long)]
        follow: bool,
    },
    /// Generate a checkpoint signing key: writes the seed to FILE (mode 0600) and prints
    /// the public key to pin with `verify --public-key`.
    Keygen {
        /// Where to write the private seed.
        out: PathBuf,
    },
}

/// Runs `customs audit …`.
pub fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify {
            dir,
            public_key,
            json,
        } => run_verify(dir, public_key, json),
        AuditCommand::Tail { dir, lines, follow } => run_tail(dir, lines, follow),
        AuditCommand::Keygen { out } => run_keygen(out),
    }
}

fn run_verify(dir: PathBuf, public_key: Option<String>, json: bool) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        anyhow::bail!("{} is not a directory", dir.display());
    }
    let pinned = match public_key {
        Some(key) if std::path::Path::new(&key).is_file() => {
            Some(std::fs::read_to_string(&key)?.trim().to_owned())
        }
        other => other,
    };
    let report = verify(&dir, pinned.as_deref())?;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        for problem in &report.problems {
            writeln!(out, "FAIL {problem}")?;
        }
        for note in &report.notes {
            writeln!(out, "note: {note}")?;
        }
        let range = match report.first_seq {
            Some(first) => format!("seq {first}..{}", report.last_seq),
            None => "empty".to_owned(),
        };
        let log = match &report.instance_id {
            Some(id) => format!("log {id}"),
            None => "log without id".to_owned(),
        };
        writeln!(
            out,
            "{}: {log}, {} segment(s), {} record(s) ({range}), {} event(s), {} policy change(s), {} stream end(s), {} checkpoint(s) verified, {} problem(s)",
            if report.ok() { "ok" } else { "NOT INTACT" },
            report.segments,
            report.records,
            report.events,
            report.policy_changes,
            report.stream_ends,
            report.checkpoints,
            report.problems.len()
        )?;
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run_tail(dir: PathBuf, lines: usize, follow: bool) -> anyhow::Result<ExitCode> {
    // Find where the last `lines` events start: count back from the end.
    let mut all = Reader::new(&dir, 1);
    let mut last_seqs: std::collections::VecDeque<u64> = std::collections::VecDeque::new();
    loop {
        let batch = all.read(4096, u64::MAX)?;
        if batch.is_empty() {
            break;
        }
        for record in batch.iter().filter(|r| r.kind.is_event()) {
            last_seqs.push_back(record.seq);
            if last_seqs.len() > lines {
                last_seqs.pop_front();
            }
        }
    }
    let start = last_seqs.front().copied().unwrap_or(all.next_seq());
    let mut reader = Reader::new(&dir, start);
    let mut out = std::io::stdout().lock();
    loop {
        let batch = reader.read(4096, u64::MAX)?;
        for record in batch.iter().filter(|r| r.kind.is_event()) {
            out.write_all(&record.body)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        if !follow {
            return Ok(ExitCode::SUCCESS);
        }
        if batch.is_empty() {
            std::thread::sleep(Duration::from_millis(200));
            if segment::list(&dir)?.is_empty() {
                continue;
            }
        }
    }
}

fn run_keygen(out: PathBuf) -> anyhow::Result<ExitCode> {
    let signer = Signer::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&out).map_err(|e| {
        anyhow::anyhow!(
            "cannot create {} (it must not exist yet): {e}",
            out.display()
        )
    })?;
    writeln!(file, "{}", signer.seed_hex()?)?;
    writeln!(std::io::stdout().lock(), "{}", signer.public_hex())?;
    Ok(ExitCode::SUCCESS)
}
