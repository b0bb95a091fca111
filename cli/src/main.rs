//! `bindery`: runs an app locally with every binding live (`run`), serves
//! daprd's output API alone (`sidecar`), and calls (`invoke`), checks
//! (`validate`) or samples (`events`) bindings from the shell, writes the
//! SAM template that deploys them (`infra`), and looks into and replays
//! their dead-letter queues (`dlq`).
//!
//! Every failure ends in one clear line on stderr and a non-zero exit.

mod args;
mod dlq;
mod events;
mod infra;
mod invoke;
mod load;
mod ports;
mod run;
mod sidecar;
mod validate;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// A command's failure: the line to print, and the exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: 1 }
    }

    pub(crate) fn with_code(mut self, code: u8) -> Self {
        self.code = code;
        self
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // `run` shows every event on its console, so its logs default to errors only.
    let default_level = if matches!(cli.command, Command::Run(_)) { "error" } else { "warn" };
    init_logging(cli.log_level.as_deref().unwrap_or(default_level));
    let result = match cli.command {
        // The SQS batch delivery is single-threaded (as in the function), so
        // `run` drives its pollers on a LocalSet.
        Command::Run(args) => tokio::task::LocalSet::new().run_until(run::run(args)).await,
        Command::Sidecar(args) => sidecar::sidecar(args).await,
        Command::Invoke(args) => invoke::invoke(args).await,
        Command::Validate(args) => validate::validate(args).await,
        Command::Events(args) => events::events(args),
        Command::Infra(args) => infra::infra(args),
        Command::Dlq(args) => dlq::dlq(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            stderr_line(format_args!("bindery: {}", failure.message.trim_end()));
            ExitCode::from(failure.code)
        }
    }
}

/// Field errors of one component as one line: `field: message; …`.
pub(crate) fn field_problems(errors: Vec<bindery::component::FieldError>) -> String {
    bindery::component::FieldError::summary(&errors)
}

/// Writes one line to stderr in a single write. `eprintln!` writes each
/// piece of its format on its own (stderr is unbuffered), so where stdout and
/// stderr meet in one pipe, a line could be split by the other's output.
pub(crate) fn stderr_line(line: std::fmt::Arguments) {
    let mut line = line.to_string();
    line.push('\n');
    // Nowhere left to report a failure to write a diagnostic.
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// bindery's own diagnostics go to stderr, at `level` unless `RUST_LOG` says otherwise.
fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}
