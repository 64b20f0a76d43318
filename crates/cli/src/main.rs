//! `ddb-autoscaler`: the command line of ddb-autoscaler.
//!
//! A small clap dispatcher: each subcommand lives in its own module with its own arguments
//! (`simulate`, `bench`, `demo`; `status`, `plan` and `backtest` are to come). Shared pieces:
//! [`common`] (model and trace options, loading) and [`output`] (table, JSON, plots).

mod bench;
mod common;
mod demo;
mod output;
mod simulate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// DynamoDB provisioned-capacity autoscaler: run the pipeline locally, simulate and benchmark policies.
#[derive(Debug, Parser)]
#[command(name = "ddb-autoscaler", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay one traffic trace through the capacity model under some policies.
    Simulate(simulate::Args),
    /// Run every policy on every trace (.csv) under a folder and compare them.
    Bench(bench::Args),
    /// The real scale-up and scale-down pipeline against a local emulator (see scripts/demo).
    Demo,
}

/// Runs an async subcommand on a small runtime (the simulator commands need none).
fn block_on<F: std::future::Future<Output = Result<(), common::Error>>>(
    future: F,
) -> Result<(), common::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(future)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(args) => simulate::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Demo => block_on(demo::demo()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ddb-autoscaler: {e}");
            ExitCode::FAILURE
        }
    }
}
