//! The end-to-end tests, one module per part of bindery, in one test binary:
//! each binary links the whole AWS SDK, so one binary instead of seventeen
//! saves CI most of its link time and many GB of disk.
//! (`output_s3_memory` keeps a binary of its own: it measures its process's
//! peak memory.)
//!
//! Run one part with `cargo test -p bindery-e2e --test e2e webhook_auth::`.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

mod body_limits;
mod cargo_lambda;
mod cargo_lambda_deploy;
mod colocated;
mod colocated_process;
mod cron;
mod dapr_conventions;
mod demo;
mod dlq;
mod dynamodb_streams;
mod extension;
mod faults;
mod harness;
mod idempotency;
mod idempotent_sources;
mod infra;
mod kinesis;
mod lambda_zips;
mod local_only;

mod metadata_limits;
mod output_default_chain;
mod output_dynamodb;
mod output_kinesis;
mod output_limits;
mod output_s3;
mod output_ses;
mod output_sns;
mod output_sqs;
mod python_sdk;
mod run;
mod run_dashboard;
mod run_dynamodb;
mod run_kinesis;
mod run_sqs;
mod s3_events;
mod sam_cli;
mod secret_ids;
mod secret_stores;
mod sns;
mod sqs;
mod startup;
mod stopping;
mod task_api;
mod telemetry;
mod token_compare;
mod traces;
mod webhook;
mod webhook_auth;
