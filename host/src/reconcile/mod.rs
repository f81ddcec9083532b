//! Reconciliation: per connection, GP customer and currency, what a controller checks at close —
//! Chargebee's net amount due (amount due − unapplied cash − unused credits) against GP's open
//! balance, and the three parts each — with every document that does not match and the
//! Chargebee record behind it. Nothing is written anywhere.
//!
//! - [`chargebee`]: Chargebee read fresh, every record through the tenant's mapper.
//! - [`gp`]: the target's `list-documents` per customer.
//! - [`compare`]: the comparison, pure (unit-tested over expected/held data).
//! - [`output`]: table, JSON, CSV.
//!
//! Documents in GP no Chargebee record maps to (keyed by hand by an AR clerk) are exceptions,
//! shown apart and left out of the comparison — unless [`Options::strict`]. A document whose
//! remainder differs while it, or a document it is applied with, is unposted in GP is an
//! "apply pending" (the connector applies once GP has posted both), not a difference.

pub mod chargebee;
pub mod compare;
pub mod gp;
pub mod model;
pub mod output;

#[cfg(test)]
mod compare_tests;

pub use model::*;
pub use output::Format;

use crate::app::{App, Connection};

/// How to reconcile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Documents in GP no Chargebee record maps to count in GP's totals and as differences.
    pub strict: bool,
}

/// Reconciles with the default options (hand-entered GP documents are exceptions).
pub async fn run(app: &App, conn: &Connection) -> anyhow::Result<Report> {
    run_with(app, conn, &Options::default()).await
}

pub async fn run_with(app: &App, conn: &Connection, options: &Options) -> anyhow::Result<Report> {
    let mut report = Report { strict: options.strict, ..Report::default() };
    let mut walk = chargebee::read(app, conn, &mut report).await?;
    let found = gp::numbers(app, conn, walk.unresolved()).await?;
    walk.numbers.extend(found);
    let customers = walk.resolve();
    let held = gp::read(app, conn, &customers).await?;
    let c = compare::compare(&walk.expected, &held, options.strict);
    report.lines = c.lines;
    report.differences = c.differences;
    report.exceptions = c.exceptions;
    report.clean = report.is_clean();
    Ok(report)
}
#[cfg(test)]
mod chargebee_tests;
