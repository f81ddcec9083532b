//! A seeded, deterministic generator of billing history: customers, invoices with realistic
//! lines (plans, add-on seats, one-off charges, ad-hoc hours; quantities, item discounts,
//! tax by the currency's usual rate), payments (some partial), adjustment credit notes,
//! refunds, and the daily due-date job — spread over a past date range and applied in time
//! order through the same mutations [`crate::Control`] uses, so events and
//! `resource_version`s are consistent with the data.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::model::minor_unit_exponent;
use crate::store::*;

/// What to generate. Same spec (with `until` set) → same data.
#[derive(Debug, Clone)]
pub struct SeedSpec {
    pub customers: usize,
    pub invoices_per_customer: usize,
    /// Picked per customer; each must be one the sandbox knows (USD, EUR, GBP, AUD, JPY, …).
    pub currencies: Vec<String>,
    pub seed: u64,
    /// Share of invoices that get paid (some of them only partly).
    pub payment_rate: f64,
    /// Share of payments that cover only part of the invoice.
    pub partial_payment_rate: f64,
    /// Share of invoices that get an adjustment credit note.
    pub credit_note_rate: f64,
    /// Share of paid invoices that get (partly) refunded.
    pub refund_rate: f64,
    /// Length of the history in days, ending at `until`.
    pub days: u32,
    /// End of the history, Unix seconds; `None` → now.
    pub until: Option<i64>,
    /// Share of invoices voided soon after they are issued (instead of being paid or
    /// credited): `invoice_updated` with status `voided`. 0 (default) leaves the data as it was.
    pub void_rate: f64,
    /// Share of invoices that get a failed payment attempt before anything else happens to
    /// them: a `failure` transaction and `payment_failed`. 0 (default) leaves the data as it was.
    pub failed_payment_rate: f64,
    /// Share of (unrefunded) payments undone within days: card payments fail late
    /// (`late_failure`, `payment_failed`), others are voided (`voided`, `transaction_updated`);
    /// their invoices are due again. 0 (default) leaves the data as it was.
    pub voided_payment_rate: f64,
}

impl Default for SeedSpec {
    fn default() -> Self {
        SeedSpec {
            customers: 20,
            invoices_per_customer: 5,
            currencies: ["USD", "EUR", "GBP", "AUD", "JPY"].map(String::from).to_vec(),
            seed: 42,
            payment_rate: 0.7,
            partial_payment_rate: 0.15,
            credit_note_rate: 0.1,
            refund_rate: 0.05,
            days: 180,
            until: None,
            void_rate: 0.0,
            failed_payment_rate: 0.0,
            voided_payment_rate: 0.0,
        }
    }
}

/// What a seed run created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedSummary {
    pub customers: usize,
    pub invoices: usize,
    pub payments: usize,
    pub credit_notes: usize,
    pub refunds: usize,
    pub status_changes: usize,
    pub events: usize,
    /// Planned steps the data no longer allowed when their time came (e.g. a credit note
    /// larger than what was still due); deterministic like the rest.
    pub skipped: usize,
    pub voided_invoices: usize,
    pub failed_payments: usize,
    /// Payments voided or failed late (`voided_payment_rate`).
    pub voided_payments: usize,
}

const FIRST: &[&str] = &[
    "Ava", "Liam", "Mia", "Noah", "Emma", "Oliver", "Sophia", "Lucas", "Isla", "Hugo", "Yuki", "Chloe", "Mateo",
    "Freya", "Aarav", "Lena",
];
const LAST: &[&str] = &[
    "Smith", "Müller", "Tanaka", "Brown", "Rossi", "Dubois", "Nguyen", "Kowalski", "García", "Jones", "Schmidt",
    "Wilson", "Sato", "O'Brien",
];
const COMPANY: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Wonka",
    "Aperture",
];
const SUFFIX: &[&str] = &["Ltd", "GmbH", "Inc.", "Pty Ltd", "K.K.", "SAS", "LLC", "BV"];

/// (description, entity_type, entity_id, price in US cents, max quantity)
const CATALOG: &[(&str, &str, &str, i64, i32)] = &[
    ("Starter plan (monthly)", "plan_item_price", "starter-monthly", 2_900, 1),
    ("Pro plan (monthly)", "plan_item_price", "pro-monthly", 9_900, 1),
    ("Enterprise plan (annual)", "plan_item_price", "enterprise-annual", 499_000, 1),
    ("Additional seats", "addon_item_price", "extra-seat", 1_200, 25),
    ("API overage (per 10k calls)", "addon_item_price", "api-overage", 450, 40),
    ("Onboarding package", "charge_item_price", "onboarding", 75_000, 1),
    ("Consulting hours", "adhoc", "", 15_000, 12),
];

/// (code, price factor numerator, denominator vs USD, tax name, tax rates in basis points)
fn currency_profile(code: &str) -> (i64, i64, &'static str, &'static [u32]) {
    match code {
        "EUR" => (92, 100, "VAT", &[1900, 2000, 2100]),
        "GBP" => (79, 100, "VAT", &[2000]),
        "AUD" => (152, 100, "GST", &[1000]),
        "JPY" => (150, 1, "JCT", &[1000]),
        "CAD" => (137, 100, "GST/HST", &[500, 1300]),
        _ => (1, 1, "Sales tax", &[0, 725, 825, 1025]),
    }
}

/// US cents → the currency's minor units, rounded to a whole major unit for prices ≥ 100 major.
fn price_in(currency: &str, usd_cents: i64) -> i64 {
    let exp = minor_unit_exponent(currency).unwrap_or(2);
    let (num, den, _, _) = currency_profile(currency);
    let minor = usd_cents * num * 10i64.pow(exp) / (den * 100);
    let major = 10i64.pow(exp);
    if minor >= 100 * major { minor / major * major } else { minor.max(1) }
}

#[derive(Debug, Clone)]
enum Step {
    Customer { c: usize },
    Invoice { c: usize, inv: usize },
    Payment { inv: usize, partial: Option<u32> },
    CreditNote { inv: usize, percent: u32, reason: &'static str },
    Refund { inv: usize, percent: u32 },
    DueDate { inv: usize },
    Void { inv: usize },
    FailedPayment { inv: usize },
    ReversePayment { inv: usize },
}

/// The whole history before it is applied: inputs, and the timed steps that use them.
#[derive(Default)]
struct History {
    customers: Vec<CustomerInput>,
    invoices: Vec<InvoiceInput>,
    steps: Vec<(i64, Step)>,
}

/// The time range the history spans, Unix seconds.
struct Span {
    start: i64,
    until: i64,
}

/// A planned customer's terms that its invoices follow.
struct Terms {
    currency: String,
    net_term_days: i32,
    created: i64,
}

fn check_spec(spec: &SeedSpec) -> Result<(), SandboxError> {
    for c in &spec.currencies {
        if minor_unit_exponent(c).is_none() {
            return Err(SandboxError::Invalid(format!("seed currency {c:?} is not one the sandbox knows")));
        }
    }
    if spec.currencies.is_empty() {
        return Err(SandboxError::Invalid("a seed needs at least one currency".into()));
    }
    Ok(())
}

pub(crate) fn apply(data: &mut SiteData, spec: &SeedSpec, now_ms: i64) -> Result<SeedSummary, SandboxError> {
    check_spec(spec)?;
    let until = spec.until.unwrap_or(now_ms.div_euclid(1000));
    let span = Span { start: until - i64::from(spec.days.max(1)) * 86_400, until };
    let mut history = plan(spec, &span);
    // Stable sort: equal times keep plan order, which puts a customer before its invoices.
    history.steps.sort_by_key(|(t, _)| *t);

    let events_before = data.events.len();
    let source_before = data.event_source.clone();
    let mut replay = Replay {
        customer_ids: vec![None; history.customers.len()],
        invoice_ids: vec![None; history.invoices.len()],
        summary: SeedSummary::default(),
    };
    for (i, (t, step)) in std::mem::take(&mut history.steps).into_iter().enumerate() {
        // Millisecond jitter from the step index keeps versions distinct and deterministic.
        let at_ms = t * 1000 + (i as i64 % 1000);
        data.event_source = "api".into();
        if replay.step(data, &history, step, at_ms).is_err() {
            replay.summary.skipped += 1;
        }
    }
    data.event_source = source_before;
    replay.summary.events = data.events.len() - events_before;
    Ok(replay.summary)
}

/// Draws the customers, their invoices and what happens to each invoice, in plan order.
fn plan(spec: &SeedSpec, span: &Span) -> History {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut history = History::default();
    for c in 0..spec.customers {
        let (input, terms) = plan_customer(&mut rng, spec, span, c);
        history.customers.push(input);
        history.steps.push((terms.created, Step::Customer { c }));
        let (_, _, tax_name, rates) = currency_profile(&terms.currency);
        let tax_bp = rates[rng.random_range(0..rates.len())];
        for _ in 0..spec.invoices_per_customer {
            let date = terms.created + 60 + rng.random_range(0..(span.until - terms.created - 60).max(1));
            let lines = plan_lines(&mut rng, &terms.currency, tax_bp);
            let inv = history.invoices.len();
            history.invoices.push(InvoiceInput {
                customer_id: String::new(),
                currency_code: Some(terms.currency.clone()),
                date: Some(date),
                net_term_days: None,
                po_number: rng.random_bool(0.3).then(|| format!("PO-{}", rng.random_range(10_000..99_999))),
                tax_name: tax_name.into(),
                recurring: lines.iter().any(|l| l.entity_type == "plan_item_price"),
                lines,
            });
            history.steps.push((date, Step::Invoice { c, inv }));
            plan_invoice_fate(&mut rng, spec, span, &terms, inv, date, &mut history.steps);
        }
    }
    history
}

fn city_of(country: &str) -> &'static str {
    match country {
        "DE" => "Berlin",
        "FR" => "Paris",
        "NL" => "Amsterdam",
        "IE" => "Dublin",
        "GB" => "London",
        "AU" => "Sydney",
        "JP" => "Tokyo",
        "CA" => "Toronto",
        _ => "San Francisco",
    }
}

fn plan_customer(rng: &mut StdRng, spec: &SeedSpec, span: &Span, c: usize) -> (CustomerInput, Terms) {
    let first = FIRST[rng.random_range(0..FIRST.len())];
    let last = LAST[rng.random_range(0..LAST.len())];
    let company =
        format!("{} {}", COMPANY[rng.random_range(0..COMPANY.len())], SUFFIX[rng.random_range(0..SUFFIX.len())]);
    let currency = spec.currencies[rng.random_range(0..spec.currencies.len())].clone();
    let country = match currency.as_str() {
        "EUR" => ["DE", "FR", "NL", "IE"][rng.random_range(0..4)],
        "GBP" => "GB",
        "AUD" => "AU",
        "JPY" => "JP",
        "CAD" => "CA",
        _ => "US",
    };
    let net_term_days = [0, 15, 30, 30, 45][rng.random_range(0..5)];
    let created = span.start + rng.random_range(0..(span.until - span.start) / 2);
    let email_user: String = first.chars().filter(char::is_ascii_alphabetic).collect();
    let (phone, custom_fields) = contact_fields(c, country, &company);
    let input = CustomerInput {
        phone,
        custom_fields,
        id: None,
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        email: Some(format!("{}.{}@example.com", email_user.to_lowercase(), c + 1)),
        company: Some(company.clone()),
        preferred_currency_code: Some(currency.clone()),
        net_term_days,
        auto_collection: rng.random_bool(0.5),
        billing_address: Some(crate::model::BillingAddress {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            company: Some(company),
            line1: Some(format!("{} Market Street", rng.random_range(1..400))),
            city: Some(city_of(country).into()),
            state_code: (country == "US").then(|| "CA".into()),
            country: Some(country.into()),
            zip: Some(format!("{:05}", rng.random_range(1000..99999))),
            ..Default::default()
        }),
    };
    (input, Terms { currency, net_term_days, created })
}

/// A customer's phone (every fourth has none) and custom fields: `cf_account_manager`, and
/// `cf_gp_number`, a GP customer number (≤ 15 of 0-9 A-Z) from the company and the index.
/// Derived from the index, not drawn, so adding them left the rest of the seeded data as it was.
fn contact_fields(
    c: usize,
    country: &str,
    company: &str,
) -> (Option<String>, std::collections::BTreeMap<String, String>) {
    let calling = match country {
        "DE" => "+49 30",
        "FR" => "+33 1",
        "NL" => "+31 20",
        "IE" => "+353 1",
        "GB" => "+44 20",
        "AU" => "+61 2",
        "JP" => "+81 3",
        "CA" => "+1 416",
        _ => "+1 415",
    };
    let phone = (c % 4 != 3).then(|| format!("{calling} 555 {:04}", (c * 7919) % 10_000));
    let stem: String = company
        .split_whitespace()
        .next()
        .unwrap_or("CUST")
        .chars()
        .filter(char::is_ascii_alphabetic)
        .take(10)
        .collect();
    let mut fields = std::collections::BTreeMap::new();
    fields.insert("cf_account_manager".to_string(), FIRST[(c * 5) % FIRST.len()].to_string());
    fields.insert("cf_gp_number".to_string(), format!("{}{:04}", stem.to_ascii_uppercase(), c + 1));
    (phone, fields)
}

/// 1–4 catalog lines priced in the currency; one in five discounted 10 or 15 %.
fn plan_lines(rng: &mut StdRng, currency: &str, tax_bp: u32) -> Vec<LineInput> {
    let n_lines = rng.random_range(1..=4);
    (0..n_lines)
        .map(|_| {
            let (desc, entity_type, entity_id, usd, max_qty) = CATALOG[rng.random_range(0..CATALOG.len())];
            let unit = price_in(currency, usd);
            let quantity = rng.random_range(1..=max_qty);
            let amount = unit * i64::from(quantity);
            let discount = if rng.random_bool(0.2) { amount * [10, 15][rng.random_range(0..2)] / 100 } else { 0 };
            LineInput {
                description: desc.into(),
                entity_type: entity_type.into(),
                entity_id: (!entity_id.is_empty()).then(|| format!("{entity_id}-{currency}")),
                unit_amount: unit,
                quantity,
                discount_amount: discount,
                tax_rate_bp: tax_bp,
            }
        })
        .collect()
}

/// What happens to an invoice after it is issued: its due date, maybe a (partial) payment
/// and a refund of it, maybe an adjustment credit note — each only if before `until`.
fn plan_invoice_fate(
    rng: &mut StdRng,
    spec: &SeedSpec,
    span: &Span,
    terms: &Terms,
    inv: usize,
    date: i64,
    steps: &mut Vec<(i64, Step)>,
) {
    let until = span.until;
    // Drawn only when the rates are set, so the default (0) leaves every other draw as it was.
    if spec.void_rate > 0.0 && rng.random_bool(spec.void_rate.clamp(0.0, 1.0)) {
        let at = date + rng.random_range(600..2 * 86_400);
        if at < until {
            steps.push((at, Step::Void { inv }));
            return;
        }
    }
    if spec.failed_payment_rate > 0.0 && rng.random_bool(spec.failed_payment_rate.clamp(0.0, 1.0)) {
        let at = date + rng.random_range(60..3_600);
        if at < until {
            steps.push((at, Step::FailedPayment { inv }));
        }
    }
    let due = date + i64::from(terms.net_term_days) * 86_400;
    if due > date && due < until {
        steps.push((due, Step::DueDate { inv }));
    }
    let paid = rng.random_bool(spec.payment_rate.clamp(0.0, 1.0));
    let partial = rng.random_bool(spec.partial_payment_rate.clamp(0.0, 1.0));
    let pay_at = date + rng.random_range(3_600..(i64::from(terms.net_term_days) + 10) * 86_400);
    if paid && pay_at < until {
        let partial = partial.then(|| rng.random_range(20..80));
        steps.push((pay_at, Step::Payment { inv, partial }));
        // Drawn only when set, like the void and failure rates above.
        if spec.voided_payment_rate > 0.0 && rng.random_bool(spec.voided_payment_rate.clamp(0.0, 1.0)) {
            let at = pay_at + rng.random_range(3_600..5 * 86_400);
            if at < until {
                steps.push((at, Step::ReversePayment { inv }));
            }
        }
        if rng.random_bool(spec.refund_rate.clamp(0.0, 1.0)) {
            let at = pay_at + rng.random_range(86_400..20 * 86_400);
            if at < until {
                let percent = [100, 50, 25][rng.random_range(0..3)];
                steps.push((at, Step::Refund { inv, percent }));
            }
        }
    }
    if rng.random_bool(spec.credit_note_rate.clamp(0.0, 1.0)) {
        let at = date + rng.random_range(3_600..15 * 86_400);
        if at < until {
            let reason = ["product_unsatisfactory", "service_unsatisfactory", "order_change", "write_off", "other"]
                [rng.random_range(0..5)];
            steps.push((at, Step::CreditNote { inv, percent: rng.random_range(5..40), reason }));
        }
    }
}

/// Applies planned steps through the site's mutations, mapping plan indices to the ids the
/// mutations gave out.
struct Replay {
    customer_ids: Vec<Option<String>>,
    invoice_ids: Vec<Option<String>>,
    summary: SeedSummary,
}

impl Replay {
    fn step(&mut self, data: &mut SiteData, history: &History, step: Step, at_ms: i64) -> Result<(), SandboxError> {
        let summary = &mut self.summary;
        match step {
            Step::Customer { c } => data.create_customer(history.customers[c].clone(), at_ms).map(|cu| {
                self.customer_ids[c] = Some(cu.id);
                summary.customers += 1;
            }),
            Step::Invoice { c, inv } => {
                let mut input = history.invoices[inv].clone();
                input.customer_id = self.customer_ids[c].clone().unwrap_or_default();
                data.create_invoice(input, at_ms).map(|i| {
                    self.invoice_ids[inv] = Some(i.id);
                    summary.invoices += 1;
                })
            }
            Step::Payment { inv, partial } => with_invoice(data, &self.invoice_ids[inv], |data, id, due, _| {
                pay(data, id, due, partial, at_ms).map(|_| summary.payments += 1)
            }),
            Step::CreditNote { inv, percent, reason } => {
                with_invoice(data, &self.invoice_ids[inv], |data, id, due, total| {
                    credit(data, id, (total * i64::from(percent) / 100).min(due), reason, at_ms)
                        .map(|_| summary.credit_notes += 1)
                })
            }
            Step::Refund { inv, percent } => with_invoice(data, &self.invoice_ids[inv], |data, id, _, _| {
                refund(data, id, percent, at_ms).map(|_| summary.refunds += 1)
            }),
            Step::Void { inv } => with_invoice(data, &self.invoice_ids[inv], |data, id, _, _| {
                data.void_invoice(id, at_ms).map(|_| summary.voided_invoices += 1)
            }),
            Step::FailedPayment { inv } => with_invoice(data, &self.invoice_ids[inv], |data, id, due, _| {
                let method = ["card", "direct_debit"][(at_ms as usize / 1000) % 2];
                data.record_failed_payment(id, due, method, at_ms).map(|_| summary.failed_payments += 1)
            }),
            Step::ReversePayment { inv } => with_invoice(data, &self.invoice_ids[inv], |data, id, _, _| {
                reverse(data, id, at_ms).map(|_| summary.voided_payments += 1)
            }),
            Step::DueDate { inv } => {
                data.event_source = "scheduled_job".into();
                with_invoice(data, &self.invoice_ids[inv], |data, id, _, _| {
                    data.refresh_invoice_status(id, at_ms).map(|changed| {
                        if changed.is_some() {
                            summary.status_changes += 1;
                        }
                    })
                })
            }
        }
    }
}

/// An offline payment of all that is due, or `partial` percent of it.
fn pay(data: &mut SiteData, id: &str, due: i64, partial: Option<u32>, at_ms: i64) -> Result<(), SandboxError> {
    let amount = match partial {
        Some(p) => (due * i64::from(p) / 100).max(1),
        None => due,
    };
    if due <= 0 {
        return Err(SandboxError::Invalid("nothing due".into()));
    }
    let method = ["bank_transfer", "check", "cash", "card", "other"][(at_ms as usize / 1000) % 5];
    let mut input = PaymentInput::single(id, amount);
    input.payment_method = method.into();
    input.reference_number = Some(format!("REF-{}", at_ms / 1000 % 1_000_000));
    input.date = Some(at_ms / 1000);
    data.record_payment(input, at_ms).map(|_| ())
}

fn credit(data: &mut SiteData, id: &str, amount: i64, reason: &str, at_ms: i64) -> Result<(), SandboxError> {
    if amount <= 0 {
        return Err(SandboxError::Invalid("nothing left to credit".into()));
    }
    let input = CreditNoteInput {
        reference_invoice_id: id.into(),
        kind: CreditNoteKind::Adjustment,
        reason_code: reason.into(),
        total: amount,
        date: Some(at_ms / 1000),
    };
    data.create_credit_note(input, at_ms).map(|_| ())
}

fn refund(data: &mut SiteData, id: &str, percent: u32, at_ms: i64) -> Result<(), SandboxError> {
    let paid = data.find(Kind::Invoice, id).map(|i| data.invoices[i].amount_paid).unwrap_or(0);
    let amount = (paid * i64::from(percent) / 100).max(1);
    let input = RefundInput {
        invoice_id: id.into(),
        amount,
        reason_code: "product_unsatisfactory".into(),
        date: Some(at_ms / 1000),
    };
    data.refund(input, at_ms).map(|_| ())
}

/// Undoes the invoice's latest payment: a card payment fails late, any other is voided.
fn reverse(data: &mut SiteData, invoice_id: &str, at_ms: i64) -> Result<(), SandboxError> {
    let ix = data
        .find(Kind::Invoice, invoice_id)
        .ok_or_else(|| SandboxError::NotFound { kind: "invoice", id: invoice_id.into() })?;
    let Some(txn_id) = data.invoices[ix].linked_payments.last().map(|p| p.txn_id.clone()) else {
        return Err(SandboxError::Invalid(format!("invoice {invoice_id} has no payment to undo")));
    };
    let card = data.find(Kind::Transaction, &txn_id).is_some_and(|t| data.transactions[t].payment_method == "card");
    let how = if card { PaymentReversal::LateFailure } else { PaymentReversal::Void };
    data.reverse_payment(&txn_id, how, at_ms).map(|_| ())
}

/// Runs `f(data, id, amount_due, total)` for a planned invoice that was created.
fn with_invoice(
    data: &mut SiteData,
    id: &Option<String>,
    f: impl FnOnce(&mut SiteData, &str, i64, i64) -> Result<(), SandboxError>,
) -> Result<(), SandboxError> {
    let Some(id) = id else {
        return Err(SandboxError::Invalid("planned invoice was not created".into()));
    };
    let ix = data.find(Kind::Invoice, id).ok_or_else(|| SandboxError::NotFound { kind: "invoice", id: id.clone() })?;
    let (due, total) = (data.invoices[ix].amount_due, data.invoices[ix].total);
    f(data, id, due, total)
}
