//! eConnect XML documents (docs/econnect.md): `RMCustomerMasterType`, `RMTransactionType`
//! (after an `SMTransactionBatchType` batch header when the GL posting date is not the document
//! date), `RMCashReceiptsType`, and the settle step's `RMApplyType` and `RMVoidTransactionType`. Nodes and their elements in eConnect.xsd's order,
//! children before their header; amounts in major units with 5 decimals (`numeric(19,5)`),
//! dates `YYYY-MM-DD`. Element order is eConnect.xsd's (the tests check it against
//! `sandbox/gp/wsdl/eConnect.xsd`; e.g. TAXSCHID comes before CSTPONBR). Every value goes through `xml::escape` (via `xml::el`).

use ml_connector_sdk::money::{exponent, to_decimal};

use crate::books::Batch;
use crate::model::{Doc, DocKind, Owned, Party};
use crate::settle::{Applied, Apply, Void};
use crate::xml::el;

/// The address id the connector writes (GP's customary primary address).
pub const PRIMARY: &str = "PRIMARY";

/// An amount as `numeric(19,5)` text: major units, 5 decimals.
pub fn amount(minor: i64, currency: &str) -> String {
    let text = to_decimal(minor, currency);
    let pad = 5usize.saturating_sub(exponent(currency) as usize);
    let dot = if exponent(currency) == 0 { "." } else { "" };
    format!("{text}{dot}{}", "0".repeat(pad))
}

/// A rate as sent (decimal text, ≤ 7 places); an error when it is not one.
pub fn rate(text: &str) -> Result<String, String> {
    let t = text.trim();
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty() || frac.len() > 7 || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return Err(format!("exchange rate {text:?} is not a decimal with at most 7 places"));
    }
    Ok(t.to_string())
}

/// GP's char(30) descriptions: longer texts are cut (GP would refuse them).
fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn opt(name: &str, v: &Option<String>) -> String {
    v.as_deref().map(|v| el(name, v)).unwrap_or_default()
}

fn wrap(kind: &str, inner: &str) -> String {
    format!("<eConnect><{kind}>{inner}</{kind}></eConnect>")
}

/// Create (`update` false: every owned field, `UpdateIfExists` 0) or update (`UpdateIfExists`
/// 1 with the number and only the owned fields in `changes`: eConnect keeps what is not sent).
pub fn customer(c: &Party, update: bool, changes: &[Owned]) -> String {
    let all = [Owned::Name, Owned::Class, Owned::Address, Owned::Phone, Owned::Terms, Owned::Currency, Owned::Email];
    let changes: &[Owned] = if update { changes } else { &all };
    let has = |o: Owned| changes.contains(&o);
    let mut x = el("CUSTNMBR", &c.id);
    if has(Owned::Name) {
        x += &el("CUSTNAME", &c.name);
    }
    if !update {
        x += &opt("SHRTNAME", &c.short_name);
    }
    if has(Owned::Class) {
        x += &opt("CUSTCLAS", &c.class_id);
    }
    let address = c.address.clone().filter(|_| has(Owned::Address));
    let phone = c.phone.clone().filter(|_| has(Owned::Phone));
    if address.is_some() || phone.is_some() {
        x += &el("ADRSCODE", PRIMARY);
    }
    if let Some(a) = &address {
        let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
        x += &el("ADDRESS1", &or_empty(&a.line1));
        x += &el("ADDRESS2", &or_empty(&a.line2));
        x += &el("CITY", &or_empty(&a.city));
        x += &el("STATE", &or_empty(&a.state));
        x += &el("ZIPCODE", &or_empty(&a.zip));
        x += &el("COUNTRY", &or_empty(&a.country));
    }
    x += &opt("PHNUMBR1", &phone);
    if has(Owned::Terms) {
        x += &opt("PYMTRMID", &c.payment_terms);
    }
    if has(Owned::Currency) && !c.currency_id.is_empty() {
        x += &el("CURNCYID", &c.currency_id);
    }
    if !update && c.class_id.is_some() {
        x += &el("UseCustomerClass", "1");
    }
    x += &el("UpdateIfExists", if update { "1" } else { "0" });
    let mut inner = format!("<taUpdateCreateCustomerRcd>{x}</taUpdateCreateCustomerRcd>");
    if let Some(email) = c.email.as_ref().filter(|_| has(Owned::Email)) {
        inner += &format!(
            "<taCreateInternetAddresses_Items><taCreateInternetAddresses>{}{}{}{}</taCreateInternetAddresses></taCreateInternetAddresses_Items>",
            el("Master_Type", "CUS"),
            el("Master_ID", &c.id),
            el("ADRSCODE", PRIMARY),
            el("INET1", email)
        );
    }
    wrap("RMCustomerMasterType", &inner)
}

/// `taRMDistribution_Items` of a document (empty when it has none: GP builds them).
fn distributions(d: &Doc) -> String {
    if d.distributions.is_empty() {
        return String::new();
    }
    let rows: String = d
        .distributions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "<taRMDistribution>{}{}{}{}{}{}{}{}{}</taRMDistribution>",
                el("RMDTYPAL", &d.kind.rmdtypal().to_string()),
                el("DOCNUMBR", &d.number),
                el("CUSTNMBR", &d.customer),
                el("SEQNUMBR", &((i + 1) * 16384).to_string()),
                el("DISTTYPE", &r.kind.disttype_on(d.kind).to_string()),
                opt("DistRef", &r.reference.as_deref().map(|t| cut(t, 30))),
                el("ACTNUMST", &r.account),
                el("DEBITAMT", &amount(r.debit, &d.currency)),
                el("CRDTAMNT", &amount(r.credit, &d.currency)),
            )
        })
        .collect();
    format!("<taRMDistribution_Items>{rows}</taRMDistribution_Items>")
}

fn taxes(d: &Doc) -> String {
    if d.taxes.is_empty() {
        return String::new();
    }
    let rows: String = d
        .taxes
        .iter()
        .map(|t| {
            format!(
                "<taRMTransactionTaxInsert>{}{}{}{}{}{}{}{}{}</taRMTransactionTaxInsert>",
                el("CUSTNMBR", &d.customer),
                el("DOCNUMBR", &d.number),
                el("RMDTYPAL", &d.kind.rmdtypal().to_string()),
                el("BACHNUMB", &d.batch),
                el("TAXDTLID", &t.id),
                el("TAXAMNT", &amount(t.amount, &d.currency)),
                el("STAXAMNT", &amount(t.amount, &d.currency)),
                el("TAXDTSLS", &amount(t.taxable, &d.currency)),
                opt("ACTNUMST", &t.account),
            )
        })
        .collect();
    format!("<taRMTransactionTaxInsert_Items>{rows}</taRMTransactionTaxInsert_Items>")
}

/// CURNCYID, XCHGRATE, RATETPID, EXCHDATE (when the document carries a rate), CREATEDIST.
fn currency_and_dist(d: &Doc) -> Result<String, String> {
    let mut x = String::new();
    if !d.currency_id.is_empty() {
        x += &el("CURNCYID", &d.currency_id);
    }
    if let Some(e) = &d.exchange {
        x += &el("XCHGRATE", &rate(&e.rate)?);
        x += &opt("RATETPID", &e.rate_type);
        x += &el("EXCHDATE", &e.date);
    }
    Ok(x + &el("CREATEDIST", if d.distributions.is_empty() { "1" } else { "0" }))
}

/// An invoice, debit memo or credit memo: `RMTransactionType` (taxes, distributions, then the
/// header). taRMTransaction has no GLPOSTDT: the batch's is used (see [`document`]).
fn transaction(d: &Doc) -> Result<String, String> {
    let cur = &d.currency;
    let mut x = el("RMDTYPAL", &d.kind.rmdtypal().to_string());
    x += &el("DOCNUMBR", &d.number);
    x += &el("DOCDATE", &d.date);
    x += &el("BACHNUMB", &d.batch);
    x += &el("CUSTNMBR", &d.customer);
    x += &el("DOCAMNT", &amount(d.total, cur));
    x += &el("SLSAMNT", &amount(d.sales, cur));
    x += &opt("DOCDESCR", &d.description.as_deref().map(|t| cut(t, 30)));
    x += &opt("TAXSCHID", &d.tax_schedule);
    x += &opt("CSTPONBR", &d.po);
    x += &el("TRDISAMT", &amount(d.discount, cur));
    if d.kind.is_debit() {
        x += &el("FRTAMNT", &amount(d.freight, cur));
    }
    x += &el("MISCAMNT", &amount(d.misc, cur));
    x += &el("TAXAMNT", &amount(d.tax, cur));
    x += &currency_and_dist(d)?;
    let inner = format!("{}{}<taRMTransaction>{x}</taRMTransaction>", taxes(d), distributions(d));
    Ok(wrap("RMTransactionType", &inner))
}

/// CSHRCTYP: 0 check, 1 cash, 2 payment card (the WSDL's names, as the model carries them).
pub fn receipt_type(t: &str) -> &'static str {
    match t {
        "Check" => "0",
        "Payment Card" => "2",
        _ => "1",
    }
}

fn cash_receipt(d: &Doc) -> Result<String, String> {
    let mut x = el("CUSTNMBR", &d.customer);
    x += &el("DOCNUMBR", &d.number);
    x += &el("DOCDATE", &d.date);
    x += &el("ORTRXAMT", &amount(d.total, &d.currency));
    x += &el("GLPOSTDT", d.posting_date());
    x += &el("BACHNUMB", &d.batch);
    x += &el("CSHRCTYP", receipt_type(&d.receipt_type));
    x += &opt("CHEKBKID", &d.checkbook);
    x += &opt("CHEKNMBR", &d.check_number);
    if d.receipt_type == "Payment Card" {
        x += &opt("CRCARDID", &d.card_name);
    }
    x += &opt("TRXDSCRN", &d.description.as_deref().map(|t| cut(t, 30)));
    x += &currency_and_dist(d)?;
    let inner = format!("{}<taRMCashReceiptInsert>{x}</taRMCashReceiptInsert>", distributions(d));
    Ok(wrap("RMCashReceiptsType", &inner))
}

/// The document's eConnect XML, unapplied (applies are the settle step's, [`apply`]). An
/// invoice or memo whose GL posting date was moved (`gl_date`) goes after a batch header
/// (`taCreateUpdateBatchHeaderRcd`, SERIES 3 Sales, ORIGIN 1) carrying that GLPOSTDT, its totals
/// as GP holds them (`existing`, the `batch` query; none: a new batch) so the header changes
/// nothing but the date. An error when a value cannot be written (a rate that is no decimal).
pub fn document(d: &Doc, existing: Option<&Batch>) -> Result<String, String> {
    match d.kind {
        DocKind::CashReceipt => cash_receipt(d),
        _ => {
            let xml = transaction(d)?;
            Ok(match (&d.gl_date, xml.strip_prefix("<eConnect>")) {
                (Some(gl), Some(rest)) => format!("<eConnect>{}{rest}", batch_header(&d.batch, gl, existing)),
                _ => xml,
            })
        }
    }
}

/// `SMTransactionBatchType` for an `RM_Sales` batch posting on `gl_date`.
fn batch_header(id: &str, gl_date: &str, existing: Option<&Batch>) -> String {
    let (count, total) = existing.map_or((0, "0.00000".to_string()), |b| (b.documents, b.total.clone()));
    format!(
        "<SMTransactionBatchType><taCreateUpdateBatchHeaderRcd>{}{}{}{}{}{}{}</taCreateUpdateBatchHeaderRcd></SMTransactionBatchType>",
        el("BACHNUMB", id),
        el("SERIES", "3"),
        el("GLPOSTDT", gl_date),
        el("BCHSOURC", DocKind::Invoice.batch_source()),
        el("DOCAMT", &total),
        el("ORIGIN", "1"),
        el("NUMOFTRX", &count.to_string()),
    )
}

/// `RMApplyType`: `diff` of `a` (APPTOAMT, WROFAMNT — what GP does not hold yet), applied on
/// `a.date`, posted on `gl_date`.
pub fn apply(a: &Apply, diff: Applied, gl_date: &str) -> String {
    let x = [
        el("APTODCNM", &a.to_number),
        el("APFRDCNM", &a.from_number),
        el("APPTOAMT", &amount(diff.amount, &a.currency)),
        el("APFRDCTY", &a.from.rmdtypal().to_string()),
        el("APTODCTY", &a.to.rmdtypal().to_string()),
        el("WROFAMNT", &amount(diff.write_off, &a.currency)),
        el("APPLYDATE", &a.date),
        el("GLPOSTDT", gl_date),
    ]
    .concat();
    wrap("RMApplyType", &format!("<taRMApply>{x}</taRMApply>"))
}

/// `RMVoidTransactionType`: VOIDSTTS 1 (void) of a posted receipt or credit memo of `customer`.
pub fn void(v: &Void, customer: &str, gl_date: &str) -> String {
    let x = [
        el("CUSTNMBR", customer),
        el("DOCNUMBR", &v.number),
        el("VOIDSTTS", "1"),
        el("RMDTYPAL", &v.kind.rmdtypal().to_string()),
        el("VOIDDATE", &v.date),
        el("GLPOSTDT", gl_date),
    ]
    .concat();
    wrap("RMVoidTransactionType", &format!("<taRMVoidTransaction>{x}</taRMVoidTransaction>"))
}
