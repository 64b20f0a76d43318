//! `ddb-autoscaler`: the command line of ddb-autoscaler.
//!
//! A small clap dispatcher: each subcommand lives in its own module with its own arguments.
//! Simulation: `simulate`, `bench`; against an account (or the local emulator): `status`,
//! `plan`, `backtest`, `advise`, `cost` (what ddb-autoscaler itself costs, also from flags or
//! traces), `boost` (the one that changes something: a boost tag), and `demo` (emulator only).
//! Shared pieces: [`common`] (model and trace options, trace loading, the error type),
//! [`account`] (AWS options, configuration and the errors it can meet), [`output`] (tables,
//! cells, JSON, plots), and the stages of a table's history that `backtest` and `advise` chain:
//! [`history`] (fetch from CloudWatch), [`demand`] (the demand trace) and [`replay`] (through
//! the simulator). The account commands read the standard AWS
//! configuration (`--profile`/`AWS_PROFILE`, `--region`/`AWS_REGION`, `AWS_ENDPOINT_URL`...)
//! and the deployment's `AUTOSCALER_*` variables; they print a message and exit with status 1
//! on any error.

mod account;
mod advise;
mod backtest;
mod bench;
mod boost;
mod common;
mod cost;
mod demand;
mod demo;
mod history;
mod output;
mod plan;
mod replay;
mod simulate;
mod status;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// DynamoDB provisioned-capacity autoscaler: status, plan, backtest and advise on an account;
/// simulate and benchmark policies.
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
    /// Every opted-in table and GSI: capacity, consumption, throttling, decrease quota, and what
    /// scale-up and scale-down would decide now.
    Status(status::Args),
    /// What the scale-up and/or scale-down function would do now (their pipeline, dry-run).
    Plan(plan::Args),
    /// Replay a table's CloudWatch history through the simulator: ours, AWS target tracking and
    /// on-demand against what it actually cost and throttled.
    Backtest(backtest::Args),
    /// Announce an event on a table (a timed capacity floor, kept as a tag), list or remove
    /// boosts: what the management API's /tables/{name}/boosts does.
    Boost(boost::Args),
    /// Per table, the cheapest way to run it from its own traffic replayed through the
    /// simulator: capacity mode and table class, scale-down times, reserved capacity.
    Advise(advise::Args),
    /// What ddb-autoscaler itself costs to run a month (CloudWatch metrics, Lambda) for the
    /// account's tables, a fleet given by flags, or traces; next to polling every minute and to
    /// AWS target tracking's alarms.
    Cost(cost::Args),
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
        Command::Status(args) => block_on(status::run(args)),
        Command::Plan(args) => block_on(plan::run(args)),
        Command::Backtest(args) => block_on(backtest::run(args)),
        Command::Boost(args) => block_on(boost::run(args)),
        Command::Advise(args) => block_on(advise::run(args)),
        Command::Cost(args) => block_on(cost::run(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ddb-autoscaler: {e}");
            ExitCode::FAILURE
        }
    }
}
