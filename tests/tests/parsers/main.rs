//! Property tests and bounded fuzz loops over the readers of what other systems send us:
//! gp-target's XML reader (GP's SOAP answers, `xml.rs` here) and chargebee-source's JSON readers
//! (records, events, webhook bodies, list pages; `json.rs`), and the host's config reader
//! (`config.rs`). Both plugins run natively.
//!
//! Stable Rust: proptest with a fixed number of cases, a deterministic RNG (CI sees the same
//! inputs every run, so a failure reproduces) and no regression files. Every loop runs on its own
//! thread under a time limit, so a parser that hangs fails the test instead of blocking the
//! suite; outputs are checked against the input's size, so an unbounded allocation shows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod config;
mod json;
mod xml;

use std::fmt::Debug;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// Per property; the slowest (the emulator's records, mutated) takes well under a second in a
/// debug build.
const LIMIT: Duration = Duration::from_secs(30);

/// Runs `cases` cases of `test` over the strategy `make` makes, on a thread of its own (where
/// the strategy is made: proptest's boxed strategies stay on their thread); fails on the first
/// failing case (shrunk), on a panic, or when the loop outlives [`LIMIT`] (a hang).
pub fn check<S, F>(
    what: &str,
    cases: u32,
    make: F,
    test: impl Fn(S::Value) -> Result<(), TestCaseError> + Send + 'static,
) where
    S: Strategy,
    S::Value: Debug,
    F: FnOnce() -> S + Send + 'static,
{
    let what = what.to_string();
    let (tx, rx) = mpsc::channel();
    let name = what.clone();
    let worker = thread::spawn(move || {
        let config = Config { cases, failure_persistence: None, max_shrink_iters: 512, ..Config::default() };
        let mut runner = TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
        let started = Instant::now();
        let result = runner.run(&make(), test);
        let _ = tx.send(started.elapsed());
        if let Err(e) = result {
            panic!("{name}: {e}");
        }
    });
    match rx.recv_timeout(LIMIT) {
        Ok(took) => {
            eprintln!("{what}: {cases} cases in {took:?}");
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        // The worker is left running; the test binary's exit ends it.
        Err(RecvTimeoutError::Timeout) => panic!("{what}: still running after {LIMIT:?} — a parser hangs"),
        Err(RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => panic!("{what}: the loop ended without a result"),
        },
    }
}

/// One edit of a byte string: how real inputs go wrong (flipped bytes, cut-outs, stray markup,
/// repeated runs, truncation).
#[derive(Debug, Clone)]
pub enum Edit {
    Byte(Index, u8),
    Delete(Index, u8),
    Insert(Index, Index),
    Repeat(Index, u8),
    Truncate(Index),
}

pub fn edits(max: usize) -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Edit::Byte(at, b)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, n)| Edit::Delete(at, n)),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(at, token)| Edit::Insert(at, token)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(at, n)| Edit::Repeat(at, n)),
        1 => any::<Index>().prop_map(Edit::Truncate),
    ];
    prop::collection::vec(edit, 1..=max)
}

/// `bytes` with `edits` applied; inserted text comes from `tokens`. Growth is bounded: at most
/// 255 bytes or one token per edit.
pub fn apply(mut bytes: Vec<u8>, edits: &[Edit], tokens: &[&str]) -> Vec<u8> {
    for e in edits {
        let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len + 1) };
        match e {
            Edit::Byte(i, b) if !bytes.is_empty() => {
                let at = i.index(bytes.len());
                bytes[at] = *b;
            }
            Edit::Byte(..) => {}
            Edit::Delete(i, n) => {
                let from = at(i, bytes.len());
                let to = (from + usize::from(*n)).min(bytes.len());
                bytes.drain(from..to);
            }
            Edit::Insert(i, t) => {
                let from = at(i, bytes.len());
                let token = tokens[t.index(tokens.len())].as_bytes();
                bytes.splice(from..from, token.iter().copied());
            }
            Edit::Repeat(i, n) => {
                let from = at(i, bytes.len());
                let to = (from + usize::from(*n)).min(bytes.len());
                let run = bytes[from..to].to_vec();
                bytes.splice(to..to, run);
            }
            Edit::Truncate(i) => bytes.truncate(at(i, bytes.len())),
        }
    }
    bytes
}

/// Text made of markup-significant tokens, `n` of them at most.
pub fn soup(tokens: &'static [&'static str], n: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(tokens), 0..=n).prop_map(|parts| parts.concat())
}
