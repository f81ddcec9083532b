//! The report as a table (people), JSON (every detail, amounts in minor units) or CSV (one row
//! per line, amounts in major units, for a spreadsheet). See README, "Reconciliation".

use std::io::Write;

use ml_connector_sdk::money::to_decimal;
use serde::Serialize;

use super::model::{Line, LineStatus, Report};

/// How `reconcile` prints its report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
}

impl Report {
    /// The table on stdout.
    pub fn print(&self) {
        let mut out = std::io::stdout().lock();
        // A closed stdout (a pipe into `head`) is not worth a panic or an error here.
        let _ = self.write_table(&mut out);
    }

    pub fn write(&self, format: Format, out: &mut impl Write) -> anyhow::Result<()> {
        match format {
            Format::Table => self.write_table(out)?,
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, self)?;
                writeln!(out)?;
            }
            Format::Csv => self.write_csv(out)?,
        }
        Ok(())
    }

    pub fn write_table(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{:<15} {:<3} {:<9} {:>14} {:>14} {:>14} {:>14} {:>8} {:>12}  status",
            "GP customer",
            "cur",
            "side",
            "amount due",
            "unapplied cash",
            "credits",
            "net / open",
            "unposted",
            "hand-entered"
        )?;
        for l in &self.lines {
            write_line(out, l)?;
        }
        if !self.differences.is_empty() {
            let pending = self.differences.len() - self.real_differences();
            writeln!(out, "\ndifferences ({}, {pending} of them pending GP's posting):", self.differences.len())?;
            for d in &self.differences {
                let record = d.record.as_deref().unwrap_or("none");
                let (doc, number) = (d.doc_type.name(), &d.number);
                writeln!(out, "  {} {} {doc} {number}: {} (record {record})", d.customer, d.currency, d.what)?;
            }
        }
        if !self.exceptions.is_empty() {
            let how = if self.strict { "compared: --strict" } else { "not compared" };
            writeln!(out, "\nexceptions: in GP, no Chargebee record maps to them ({how}):")?;
            for e in &self.exceptions {
                let money = |v| to_decimal(v, &e.currency);
                let state = match (e.voided, e.posted) {
                    (true, _) => "voided",
                    (false, true) => "posted",
                    (false, false) => "unposted",
                };
                writeln!(
                    out,
                    "  {} {} {} {}: {}, remaining {}, {state}",
                    e.customer,
                    e.currency,
                    e.doc_type.name(),
                    e.number,
                    money(e.amount),
                    money(e.remaining)
                )?;
            }
        }
        for u in &self.unmappable {
            writeln!(out, "  not mappable: {}: {}", u.record, u.why)?;
        }
        Ok(())
    }

    /// One row per (GP customer, currency); differences and exceptions are in the JSON only.
    pub fn write_csv(&self, out: &mut impl Write) -> anyhow::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        for l in &self.lines {
            w.serialize(CsvRow::of(l))?;
        }
        if self.lines.is_empty() {
            w.write_record(CSV_HEADER)?;
        }
        w.flush()?;
        Ok(())
    }
}

/// Two rows per line: Chargebee's figures, then GP's with the line's status.
fn write_line(out: &mut impl Write, l: &Line) -> std::io::Result<()> {
    let money = |v: i64| to_decimal(v, &l.currency);
    let (c, g) = (&l.chargebee, &l.gp);
    writeln!(
        out,
        "{:<15} {:<3} {:<9} {:>14} {:>14} {:>14} {:>14}",
        l.customer,
        l.currency,
        "Chargebee",
        money(c.amount_due),
        money(c.unapplied_cash),
        money(c.unused_credits),
        money(c.net_due)
    )?;
    let hand = if l.exceptions.count == 0 {
        "-".to_string()
    } else {
        format!("{} ({})", money(l.exceptions.open_balance), l.exceptions.count)
    };
    writeln!(
        out,
        "{:<15} {:<3} {:<9} {:>14} {:>14} {:>14} {:>14} {:>8} {:>12}  {}",
        "",
        "",
        "GP",
        money(g.amount_due),
        money(g.unapplied_cash),
        money(g.unapplied_credits),
        money(g.open_balance),
        g.unposted,
        hand,
        l.status.label()
    )
}

/// The CSV's columns, in order (also written alone when there is no line).
pub const CSV_HEADER: [&str; 15] = [
    "customer",
    "currency",
    "status",
    "cb_amount_due",
    "cb_unapplied_cash",
    "cb_unused_credits",
    "cb_net_due",
    "gp_amount_due",
    "gp_unapplied_cash",
    "gp_unapplied_credits",
    "gp_open_balance",
    "difference",
    "gp_unposted",
    "exceptions",
    "exceptions_open_balance",
];

/// One CSV row; field names are `CSV_HEADER` (a test checks they agree).
#[derive(Serialize)]
struct CsvRow<'a> {
    customer: &'a str,
    currency: &'a str,
    status: &'a str,
    cb_amount_due: String,
    cb_unapplied_cash: String,
    cb_unused_credits: String,
    cb_net_due: String,
    gp_amount_due: String,
    gp_unapplied_cash: String,
    gp_unapplied_credits: String,
    gp_open_balance: String,
    difference: String,
    gp_unposted: usize,
    exceptions: usize,
    exceptions_open_balance: String,
}

impl<'a> CsvRow<'a> {
    fn of(l: &'a Line) -> CsvRow<'a> {
        let money = |v: i64| to_decimal(v, &l.currency);
        let (c, g) = (&l.chargebee, &l.gp);
        CsvRow {
            customer: &l.customer,
            currency: &l.currency,
            status: match l.status {
                LineStatus::Ok => "ok",
                LineStatus::Pending => "pending",
                LineStatus::Differs => "differs",
            },
            cb_amount_due: money(c.amount_due),
            cb_unapplied_cash: money(c.unapplied_cash),
            cb_unused_credits: money(c.unused_credits),
            cb_net_due: money(c.net_due),
            gp_amount_due: money(g.amount_due),
            gp_unapplied_cash: money(g.unapplied_cash),
            gp_unapplied_credits: money(g.unapplied_credits),
            gp_open_balance: money(g.open_balance),
            difference: money(l.difference),
            gp_unposted: g.unposted,
            exceptions: l.exceptions.count,
            exceptions_open_balance: money(l.exceptions.open_balance),
        }
    }
}
