//! taRMDistribution and taRMTransactionTaxInsert (lines written first, in the document's
//! transaction), then taRMTransaction / taRMCashReceiptInsert (the header: assembles the lines
//! already written and runs the shared checks of [`crate::ledger`]).

use super::Ctx;
use super::customers::stored;
use super::params::Args;
use crate::date::{Date, now_timestamp};
use crate::db::{Db, Tx};
use crate::ledger::{self, DistLine, Exchange, Lines, TaxLine};
use crate::model::{Amounts, Currency, DocType, Document, TxState};
use crate::money::format_minor;
use crate::rules::{self, GpError, len};
use crate::service::{OpError, OpResult, Service};

/// Amount digits of the lines before their header names the currency: eConnect's 5 decimals
/// (the header checks them against the currency when it arrives).
const LINE_DIGITS: u32 = 5;

/// A line amount stored in the document currency's minor units once the header is known;
/// until then it is kept at 5 decimals and rescaled by [`rescale`].
fn rescale(amount: i64, digits: u32) -> Option<i64> {
    let f = 10i64.pow(LINE_DIGITS - digits.min(LINE_DIGITS));
    (amount % f == 0).then_some(amount / f)
}

pub(super) async fn distribution(ctx: &Ctx<'_>, tx: &mut Tx, args: &Args) -> OpResult<()> {
    let mut errors = Vec::new();
    let company = ctx.company.id;
    let rmdtypal = args.int("RMDTYPAL", &mut errors).unwrap_or(0);
    let number = args.text("DOCNUMBR", &mut errors).unwrap_or_default();
    let customer = args.text("CUSTNMBR", &mut errors).unwrap_or_default();
    let account = args.text("ACTNUMST", &mut errors);
    let index = match &account {
        Some(a) => Db::account_index(tx, company, a).await?,
        None => None,
    };
    if index.is_none() && !ctx.service.rules.skip_distribution_checks {
        errors.push(GpError::AccountMissing { account: account.unwrap_or_default() });
    }
    let seq = args.int("SEQNUMBR", &mut errors);
    let line = DistLine {
        seq,
        dist_type: args.int("DISTTYPE", &mut errors).unwrap_or(0),
        account: None,
        account_index: Some(index.unwrap_or(0)),
        debit: args.amount("DEBITAMT", LINE_DIGITS, &mut errors).unwrap_or(0),
        credit: args.amount("CRDTAMNT", LINE_DIGITS, &mut errors).unwrap_or(0),
        reference: args.text("DistRef", &mut errors),
    };
    if !errors.is_empty() {
        return Err(OpError::Rejected(errors));
    }
    let existing = ledger::distribution_rows(tx, company, rmdtypal, &number).await?;
    let seq = seq.unwrap_or(16384 * (existing.len() as i64 + 1));
    sqlx::query(
        "INSERT OR REPLACE INTO rm10101 (company_id, rmdtypal, docnumbr, seqnumbr, disttype, dstindx, debitamt, \
         crdtamnt, distref, custnmbr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(company)
    .bind(rmdtypal)
    .bind(&number)
    .bind(seq)
    .bind(line.dist_type)
    .bind(line.account_index)
    .bind(line.debit)
    .bind(line.credit)
    .bind(&line.reference)
    .bind(&customer)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn tax(ctx: &Ctx<'_>, tx: &mut Tx, args: &Args) -> OpResult<()> {
    let mut errors = Vec::new();
    let company = ctx.company.id;
    let rmdtypal = args.int("RMDTYPAL", &mut errors).unwrap_or(0);
    let number = args.text("DOCNUMBR", &mut errors).unwrap_or_default();
    let customer = args.text("CUSTNMBR", &mut errors).unwrap_or_default();
    let batch = args.text("BACHNUMB", &mut errors);
    let detail_id = args.text("TAXDTLID", &mut errors).unwrap_or_default();
    let detail_account = Db::tax_detail_account(tx, company, &detail_id).await?;
    if detail_account.is_none() && !ctx.service.rules.skip_tax_checks {
        errors.push(GpError::TaxDetailMissing { id: detail_id.clone() });
    }
    let account = match args.text("ACTNUMST", &mut errors) {
        Some(a) => match Db::account_index(tx, company, &a).await? {
            Some(i) => Some(i),
            None => {
                errors.push(GpError::AccountMissing { account: a });
                None
            }
        },
        None => detail_account,
    };
    let line = TaxLine {
        detail_id,
        tax: args.amount("TAXAMNT", LINE_DIGITS, &mut errors).unwrap_or(0),
        sales_tax: args.amount("STAXAMNT", LINE_DIGITS, &mut errors).unwrap_or(0),
        taxable_sales: args.amount("TAXDTSLS", LINE_DIGITS, &mut errors).unwrap_or(0),
        account: None,
    };
    if !errors.is_empty() {
        return Err(OpError::Rejected(errors));
    }
    sqlx::query(
        "INSERT OR REPLACE INTO rm10601 (company_id, rmdtypal, docnumbr, taxdtlid, taxamnt, staxamnt, tdttxsls, \
         actindx, custnmbr, bachnumb) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(company)
    .bind(rmdtypal)
    .bind(&number)
    .bind(&line.detail_id)
    .bind(line.tax)
    .bind(line.sales_tax)
    .bind(line.taxable_sales)
    .bind(account)
    .bind(&customer)
    .bind(&batch)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The header members every document has, read and checked.
struct Header {
    number: String,
    customer: String,
    date: Date,
    batch: String,
    currency: Currency,
}

async fn header(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    args: &Args,
    number_max: usize,
    errors: &mut Vec<GpError>,
) -> OpResult<Option<Header>> {
    let company = ctx.company;
    let number = args.text("DOCNUMBR", errors).unwrap_or_default();
    rules::max_len(errors, "DOCNUMBR", "DOCNUMBR", Some(&number), number_max);
    let customer_id = args.text("CUSTNMBR", errors).unwrap_or_default();
    let customer = stored(tx, company.id, &customer_id).await?;
    if customer.is_none() {
        errors.push(GpError::CustomerMissing { customer: customer_id.clone() });
    }
    let batch = args.text("BACHNUMB", errors).unwrap_or_default();
    rules::max_len(errors, "BACHNUMB", "BACHNUMB", Some(&batch), len::BACHNUMB);
    // The fiscal period is checked in the write, against the GL posting date (ledger::check).
    let date = args.date("DOCDATE", errors).unwrap_or_else(Date::today);
    let currency_id = args
        .text("CURNCYID", errors)
        .or_else(|| customer.and_then(|c| c.currency_id))
        .unwrap_or_else(|| company.functional_currency.clone());
    let Some(currency) = ctx.service.db.currency(company.id, &currency_id).await? else {
        errors.push(GpError::CurrencyMissing { iso: currency_id });
        return Ok(None);
    };
    Ok(Some(Header { number, customer: customer_id, date, batch, currency }))
}

fn exchange(args: &Args, errors: &mut Vec<GpError>) -> Exchange {
    // XCHGRATE 0 (eConnect's default) means "look it up".
    let rate = args.decimal("XCHGRATE").filter(|r| !r.parse::<f64>().is_ok_and(|v| v == 0.0));
    Exchange { rate, rate_type: args.text("RATETPID", errors), date: args.date("EXCHDATE", errors) }
}

/// The distribution and tax rows written earlier in the transaction, in the header's currency;
/// CREATEDIST = 1 (the default) drops sent distributions: GP builds its own.
async fn stored_lines(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    doc: &Document,
    create_dist: bool,
    errors: &mut Vec<GpError>,
) -> OpResult<(Option<Vec<DistLine>>, Vec<TaxLine>)> {
    let (company, rmdtypal) = (ctx.company.id, doc.doc_type.rmdtypal());
    let digits = doc.currency.decimal_digits;
    let mut too_precise = |v: i64| {
        rescale(v, digits).unwrap_or_else(|| {
            let value = format_minor(v, LINE_DIGITS);
            let currency = doc.currency.currency_id.clone();
            errors.push(GpError::TooPrecise { property: "Distributions", value, currency, digits });
            0
        })
    };
    let mut dists = Vec::new();
    for (row, _) in ledger::distribution_rows(tx, company, rmdtypal, &doc.number).await? {
        let mut l = row.line;
        (l.debit, l.credit, l.account) = (too_precise(l.debit), too_precise(l.credit), None);
        dists.push(l);
    }
    let mut taxes = Vec::new();
    for row in ledger::tax_rows(tx, company, rmdtypal, &doc.number).await? {
        let mut l = row.line;
        (l.tax, l.sales_tax, l.taxable_sales) =
            (too_precise(l.tax), too_precise(l.sales_tax), too_precise(l.taxable_sales));
        taxes.push(l);
    }
    for table in ["rm10101", "rm10601"] {
        let sql = format!("DELETE FROM {table} WHERE company_id = ? AND rmdtypal = ? AND docnumbr = ?");
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(company).bind(rmdtypal).bind(&doc.number).execute(&mut **tx).await?;
    }
    if create_dist {
        return Ok((None, taxes));
    }
    if dists.is_empty() {
        errors.push(GpError::DistributionsRequired);
    }
    Ok((Some(dists), taxes))
}

/// Writes a checked document: duplicate number (190), the ledger's checks, batch, rows.
async fn write(ctx: &Ctx<'_>, tx: &mut Tx, doc: &Document, lines: &Lines, mut errors: Vec<GpError>) -> OpResult<()> {
    let rules = &ctx.service.rules;
    // A batch being posted is refused alone (9046): retry once the batch is posted.
    if Service::batch_busy(tx, ctx.company.id, &doc.batch_id, &doc.batch_source).await? {
        return Err(GpError::BatchBusy { id: doc.batch_id.clone() }.into());
    }
    let scope = (!rules.doc_number_unique_across_types).then_some(doc.doc_type);
    if Db::doc_number_taken(tx, ctx.company.id, &doc.number, scope).await? {
        errors.insert(0, GpError::DuplicateDocument { number: doc.number.clone() });
    }
    let (checked, more) = ledger::check(tx, ctx.company, rules, doc, lines).await?;
    errors.extend(more);
    if !errors.is_empty() {
        return Err(OpError::Rejected(errors));
    }
    Db::ensure_batch(tx, ctx.company.id, &doc.batch_id, &doc.batch_source, doc.checkbook_id.as_deref()).await?;
    Db::insert_document(tx, ctx.company.id, doc).await?;
    ledger::store(tx, ctx.company.id, doc, lines, &checked).await?;
    // Touched before the eConnect transaction commits: auto-post waits its quiet time anyway,
    // and a batch that ends up rolled back is simply not found then.
    ctx.service.activity.touch(ctx.company.id, &doc.batch_id, &doc.batch_source);
    ctx.service.counters.document_written();
    Ok(())
}

fn document(doc_type: DocType, h: Header, amounts: Amounts) -> Document {
    let now = now_timestamp();
    Document {
        doc_type,
        number: h.number,
        customer_id: h.customer,
        customer_name: None,
        date: h.date,
        batch_id: h.batch,
        batch_source: doc_type.batch_source().to_string(),
        currency: h.currency,
        amounts,
        remaining: amounts.document,
        description: None,
        po_number: None,
        checkbook_id: None,
        cash_type: None,
        check_number: None,
        distributions: None,
        state: TxState::Work,
        gl_posting_date: None,
        void: None,
        created: now.clone(),
        modified: now,
    }
}

/// taRMTransaction: RMDTYPAL 1 invoice, 3 debit memo, 7 credit memo.
pub(super) async fn transaction(ctx: &Ctx<'_>, tx: &mut Tx, args: &Args) -> OpResult<()> {
    let mut errors = Vec::new();
    let rmdtypal = args.int("RMDTYPAL", &mut errors).unwrap_or(0);
    let doc_type = match DocType::from_rmdtypal(rmdtypal).filter(|t| *t != DocType::CashReceipt) {
        Some(t) => t,
        None => return Err(GpError::DocTypeInvalid { rmdtypal, procedure: "taRMTransaction" }.into()),
    };
    let max = ctx.service.rules.sales_doc_number_max;
    let Some(h) = header(ctx, tx, args, max, &mut errors).await? else {
        return Err(OpError::Rejected(errors));
    };
    let digits = h.currency.decimal_digits;
    let mut amount = |name| args.amount(name, digits, &mut errors).unwrap_or(0);
    let mut amounts = Amounts {
        sales: amount("SLSAMNT"),
        trade_discount: amount("TRDISAMT"),
        freight: amount("FRTAMNT"),
        misc: amount("MISCAMNT"),
        tax: amount("TAXAMNT"),
        cost: 0,
        document: amount("DOCAMNT"),
    };
    if amounts.document != amounts.computed_document() {
        let (expected, got) =
            (format_minor(amounts.computed_document(), digits), format_minor(amounts.document, digits));
        errors.push(GpError::DocumentAmountMismatch { expected, got });
        amounts.document = amounts.computed_document();
    }
    let mut doc = document(doc_type, h, amounts);
    doc.description = args.text("DOCDESCR", &mut errors);
    doc.po_number = args.text("CSTPONBR", &mut errors);
    let create_dist = args.int("CREATEDIST", &mut errors).unwrap_or(1) != 0;
    let (distributions, taxes) = stored_lines(ctx, tx, &doc, create_dist, &mut errors).await?;
    let lines = Lines {
        distributions,
        taxes,
        tax_schedule: args.text("TAXSCHID", &mut errors),
        payment_terms: args.text("PYMTRMID", &mut errors),
        card_name: None,
        exchange: exchange(args, &mut errors),
        glpost_date: None,
    };
    write(ctx, tx, &doc, &lines, errors).await
}

/// taRMCashReceiptInsert: CSHRCTYP 0 check, 1 cash, 2 card (CRCARDID required and set up);
/// the checkbook (named or the company's default) must exist in the receipt's currency.
pub(super) async fn cash_receipt(ctx: &Ctx<'_>, tx: &mut Tx, args: &Args) -> OpResult<()> {
    let mut errors = Vec::new();
    let max = ctx.service.rules.cash_receipt_number_max;
    let Some(h) = header(ctx, tx, args, max, &mut errors).await? else {
        return Err(OpError::Rejected(errors));
    };
    let kind = args.int("CSHRCTYP", &mut errors).unwrap_or(0);
    let cash_type = match kind {
        0 => "Check",
        1 => "Cash",
        2 => "Payment Card",
        value => {
            errors.push(GpError::CashTypeInvalid { value });
            "Check"
        }
    };
    let card = args.text("CRCARDID", &mut errors);
    if kind == 2 && card.is_none() {
        errors.push(GpError::Required { property: "CRCARDID" });
    }
    let checkbook = checkbook(ctx, args, &h.currency, &mut errors).await?;
    let amount = args.amount("ORTRXAMT", h.currency.decimal_digits, &mut errors).unwrap_or(0);
    let mut doc = document(DocType::CashReceipt, h, Amounts { document: amount, ..Amounts::default() });
    doc.description = args.text("TRXDSCRN", &mut errors);
    doc.checkbook_id = checkbook;
    doc.cash_type = Some(cash_type.to_string());
    doc.check_number = args.text("CHEKNMBR", &mut errors);
    let create_dist = args.int("CREATEDIST", &mut errors).unwrap_or(1) != 0;
    let (distributions, _) = stored_lines(ctx, tx, &doc, create_dist, &mut errors).await?;
    let lines = Lines {
        distributions,
        card_name: if kind == 2 { card } else { None },
        exchange: exchange(args, &mut errors),
        glpost_date: args.date("GLPOSTDT", &mut errors),
        ..Lines::default()
    };
    write(ctx, tx, &doc, &lines, errors).await
}

async fn checkbook(
    ctx: &Ctx<'_>,
    args: &Args,
    currency: &Currency,
    errors: &mut Vec<GpError>,
) -> OpResult<Option<String>> {
    let Some(id) = args.text("CHEKBKID", errors).or_else(|| ctx.company.default_checkbook.clone()) else {
        errors.push(GpError::Required { property: "CHEKBKID" });
        return Ok(None);
    };
    match ctx.service.db.checkbook(ctx.company.id, &id).await? {
        None => errors.push(GpError::CheckbookMissing { id: id.clone() }),
        Some(cb) if cb.currency_id != currency.currency_id => errors.push(GpError::CheckbookCurrency {
            id: id.clone(),
            checkbook: cb.currency_id,
            document: currency.currency_id.clone(),
        }),
        Some(_) => {}
    }
    Ok(Some(id))
}
