//! GP's Service Based Architecture (REST/JSON, GP 2015+): every SBA path and JSON shape this
//! target uses, in this one module.
//!
//! INFERRED, not confirmed against a real GP: Microsoft publishes no SBA resource list for
//! receivables, no response envelope and no error body (see `shared/reference/gp-wire-shapes.md`
//! §A and §D). Known from real traffic: the company URL
//! `…/GPService/Tenants(<tenant>)/Companies(<URL-encoded name>)`, `{"Payload": {…}}` bodies with
//! PascalCase members, POST to create (key not in the URL), PATCH to update, the `.json` suffix
//! for JSON. Everything else follows the GP emulator's contract (`sandbox/gp/src/sba.rs` and its
//! README, "SBA"), which derives it from the GP Web Services object model:
//!
//! | call | request |
//! |------|---------|
//! | get customer | `GET  Sales/Customers(<id>).json` |
//! | create customer | `POST Sales/Customers.json` `{"Payload": Customer}` |
//! | update customer | `PATCH Sales/Customers(<id>).json` `{"Payload": Customer}` (members sent replace) |
//! | create document | `POST Sales/ReceivablesInvoices.json` / `Sales/ReceivablesDebitMemos.json` / `Sales/ReceivablesCreditMemos.json` / `Sales/CashReceipts.json` `{"Payload": <WSDL object>}` |
//! | get document | `GET  Sales/<collection>(<number>).json` |
//! | list documents | `GET  Sales/<collection>.json` → `{"Payload": [ReceivablesDocumentSummary]}` (no customer filter: read here) |
//!
//! Members are the WSDL type's members; amounts are `MoneyAmount` objects whose `Value` is a
//! JSON number written with the currency's digits; dates `YYYY-MM-DDT00:00:00`. Documents are
//! written unapplied (SBA has no receivables apply; the settle step applies over eConnect).
//! Answers: `{"Payload": …}` (a bare object is accepted too), errors
//! `{"Error": {"Status", "Message", "ValidationResult": {"Errors": [{"Message", …}]}}}`:
//! 400 validation, 404 not found (with a ValidationResult; without one the route or company is
//! wrong), 409 duplicate key (or a batch being posted, Id 9046: retried), 500 GP's system exception.
//!
//! Keys go in the URL %-encoded; a key containing `/`, `(`, `)` or `;` cannot be addressed (the
//! emulator decodes the path before splitting it, IIS refuses `%2F` by default, and SBA's key
//! syntax has no escape that is known to work). Chargebee-derived numbers never contain them.

mod body;

use ml_connector_sdk::money::from_decimal;
use serde_json::Value;

use crate::model::{Address, Doc, DocKind, Owned, Party, is_batch_busy};
use crate::transport::Theirs;
use crate::wire::{Call, Protocol, Refusal, Status, Summary, Verb, is_system_exception, summary_kind};
use body::{Json, customer_payload, customer_update, document_body};

/// What a key may carry unencoded in a path segment: RFC 3986 unreserved characters.
fn encode_key(k: &str) -> String {
    let mut out = String::with_capacity(k.len());
    for b in k.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn collection(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Invoice => "Sales/ReceivablesInvoices",
        DocKind::CreditMemo => "Sales/ReceivablesCreditMemos",
        DocKind::CashReceipt => "Sales/CashReceipts",
        // INFERRED like the others: the WSDL type's name, plural.
        DocKind::DebitMemo => "Sales/ReceivablesDebitMemos",
    }
}

/// SBA for one company: `company_url` is `…/GPService/Tenants(<tenant>)/Companies(<name>)`
/// (`gp.sba_url`), the name URL-encoded as the host's `sba_company_url` writes it.
pub struct Sba {
    company_url: String,
}

impl Sba {
    pub fn new(company_url: &str) -> Sba {
        Sba { company_url: company_url.trim_end_matches('/').to_string() }
    }

    /// `resource` is `Sales/Customers` or `Sales/Customers(<id>)`; `.json` asks for JSON.
    fn call(&self, verb: Verb, resource: &str, body: Option<Json>, lookup: bool) -> Call {
        let mut headers = vec![("accept".to_string(), "application/json".to_string())];
        if body.is_some() {
            headers.push(("content-type".into(), "application/json; charset=utf-8".into()));
        }
        Call {
            label: format!("SBA {} {resource}", verb.as_str()),
            verb,
            url: format!("{}/{resource}.json", self.company_url),
            headers,
            body: body.map(|b| b.text()),
            lookup,
        }
    }
}

/// The object under `Payload`, or the body itself when GP sends it bare.
fn payload(body: &str) -> Result<Value, String> {
    let mut v: Value = serde_json::from_str(body).map_err(|e| format!("GP's SBA answer is not JSON: {e}"))?;
    Ok(match v.get_mut("Payload") {
        Some(p) => p.take(),
        None => v,
    })
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

fn non_empty(v: Option<&str>) -> Option<String> {
    v.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// A MoneyAmount's `Value` (a JSON number, or a string from a lenient server) in minor units.
fn amount(v: &Value, member: &str, currency: &str) -> Result<i64, String> {
    match v.get(member).and_then(|m| m.get("Value")) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => from_decimal(&n.to_string(), currency).map_err(|e| format!("{member}: {e}")),
        Some(Value::String(t)) if !t.trim().is_empty() => {
            from_decimal(t.trim(), currency).map_err(|e| format!("{member}: {e}"))
        }
        Some(other) => Err(format!("{member}.Value is not an amount: {other}")),
    }
}

/// GP's messages in an SBA error body: each validation error's, else the error's own.
fn error_text(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    let err = v.get("Error")?;
    let msgs: Vec<&str> = err
        .pointer("/ValidationResult/Errors")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|e| e.get("Message")?.as_str()).collect())
        .unwrap_or_default();
    if msgs.is_empty() { err.get("Message")?.as_str().map(str::to_string) } else { Some(msgs.join("; ")) }
}

fn has_validation_result(body: &str) -> bool {
    serde_json::from_str::<Value>(body)
        .ok()
        .is_some_and(|v| v.pointer("/Error/ValidationResult").is_some_and(|r| !r.is_null()))
}

impl Protocol for Sba {
    fn get_customer(&self, id: &str) -> Call {
        self.call(Verb::Get, &format!("Sales/Customers({})", encode_key(id)), None, true)
    }

    fn save_customer(&self, c: &Party, theirs: Option<&Theirs>, changes: &[Owned]) -> Result<Call, String> {
        Ok(match theirs {
            Some(t) => self.call(
                Verb::Patch,
                &format!("Sales/Customers({})", encode_key(&c.id)),
                Some(customer_update(c, t, changes)?),
                false,
            ),
            None => self.call(Verb::Post, "Sales/Customers", Some(customer_payload(c, None)), false),
        })
    }

    fn parse_customer(&self, body: &str) -> Result<Option<Party>, String> {
        let v = payload(body)?;
        let Some(id) = str_at(&v, &["Key", "Id"]) else { return Ok(None) };
        let primary = v.get("Addresses").and_then(Value::as_array).and_then(|list| {
            list.iter()
                .find(|a| str_at(a, &["Key", "Id"]).is_some_and(|id| id.trim() == crate::soap::customer::PRIMARY))
        });
        let at = |path: &[&str]| primary.and_then(|a| non_empty(str_at(a, path)));
        Ok(Some(Party {
            id: id.trim().to_string(),
            name: str_at(&v, &["Name"]).unwrap_or_default().to_string(),
            short_name: non_empty(str_at(&v, &["Shortname"])),
            currency: str_at(&v, &["CurrencyKey", "ISOCode"]).unwrap_or_default().to_string(),
            class_id: non_empty(str_at(&v, &["ClassKey", "Id"])),
            payment_terms: non_empty(str_at(&v, &["PaymentTermsKey", "Id"])),
            email: at(&["InternetAddresses", "EmailToAddress"]),
            phone: at(&["Phone1", "Value"]),
            address: primary.map(|_| Address {
                line1: at(&["Line1"]),
                line2: at(&["Line2"]),
                city: at(&["City"]),
                state: at(&["State"]),
                country: at(&["CountryRegion"]),
                zip: at(&["PostalCode"]),
            }),
            ..Party::default()
        }))
    }

    fn get_document(&self, kind: DocKind, number: &str) -> Call {
        self.call(Verb::Get, &format!("{}({})", collection(kind), encode_key(number)), None, true)
    }

    fn create_document(&self, d: &Doc) -> Call {
        self.call(Verb::Post, collection(d.kind), Some(document_body(d)), false)
    }

    fn parse_document(&self, kind: DocKind, body: &str) -> Result<Option<Doc>, String> {
        let v = payload(body)?;
        let Some(number) = non_empty(str_at(&v, &["Key", "Id"])) else { return Ok(None) };
        let currency = str_at(&v, &["CurrencyKey", "ISOCode"]).unwrap_or_default().to_string();
        let date: String = str_at(&v, &["Date"]).unwrap_or_default().chars().take(10).collect();
        let mut d = Doc {
            description: non_empty(str_at(&v, &["Description"])),
            po: non_empty(str_at(&v, &["CustomerPONumber"])),
            checkbook: non_empty(str_at(&v, &["BankAccountKey", "Id"])),
            receipt_type: str_at(&v, &["Type"]).unwrap_or_default().to_string(),
            check_number: non_empty(str_at(&v, &["CheckCardNumber"])),
            ..Doc::new(
                kind,
                &number,
                str_at(&v, &["CustomerKey", "Id"]).unwrap_or_default().trim(),
                str_at(&v, &["BatchKey", "Id"]).unwrap_or_default().trim(),
                &date,
                &currency,
            )
        };
        match kind {
            DocKind::CashReceipt => d.total = amount(&v, "Amount", &currency)?,
            _ => {
                d.sales = amount(&v, "SalesAmount", &currency)?;
                d.discount = amount(&v, "TradeDiscountAmount", &currency)?;
                d.freight = amount(&v, "FreightAmount", &currency)?;
                d.misc = amount(&v, "MiscellaneousAmount", &currency)?;
                d.tax = amount(&v, "TaxAmount", &currency)?;
                d.total = amount(&v, "DocumentAmount", &currency)?;
            }
        }
        Ok(Some(d))
    }

    fn current_amount(&self, body: &str, currency: &str) -> Option<i64> {
        let v = payload(body).ok()?;
        v.get("CurrentDocumentAmount")?.get("Value")?;
        amount(&v, "CurrentDocumentAmount", currency).ok()
    }

    fn status(&self, body: &str) -> Status {
        let Ok(v) = payload(body) else { return Status::default() };
        let posted = match str_at(&v, &["TransactionState"]) {
            Some("Work") => Some(false),
            Some("Open" | "History") => Some(true),
            _ => non_empty(str_at(&v, &["PostedDate"])).map(|d| !d.starts_with("0001-01-01")),
        };
        Status { posted, voided: v.get("IsVoided").and_then(Value::as_bool).unwrap_or(false) }
    }

    /// One list per collection: SBA has no known filter syntax, so every summary of the
    /// company comes back and the caller keeps the customer's (a cost that grows with the
    /// company, paid by reconciliation only).
    fn list_documents(&self, _customer: &str) -> Vec<Call> {
        [DocKind::Invoice, DocKind::DebitMemo, DocKind::CreditMemo, DocKind::CashReceipt]
            .into_iter()
            .map(|k| self.call(Verb::Get, collection(k), None, false))
            .collect()
    }

    fn parse_document_list(&self, body: &str) -> Result<Vec<Summary>, String> {
        let v = payload(body)?;
        let items = v.as_array().ok_or("GP's SBA document list is not an array")?;
        Ok(items
            .iter()
            .filter_map(|i| {
                Some(Summary {
                    kind: summary_kind(str_at(i, &["Type"])?)?,
                    number: str_at(i, &["Key", "Id"])?.trim().to_string(),
                    customer: str_at(i, &["CustomerKey", "Id"]).unwrap_or_default().trim().to_string(),
                    posted: match str_at(i, &["TransactionState"]) {
                        Some("Work") => Some(false),
                        Some("Open" | "History") => Some(true),
                        _ => None,
                    },
                })
            })
            .collect())
    }

    fn refusal(&self, call: &Call, status: u16, body: &str) -> Refusal {
        let text = error_text(body)
            .unwrap_or_else(|| format!("HTTP {status}: {}", body.chars().take(200).collect::<String>()));
        let labelled = || format!("{}: HTTP {status}: {text}", call.label);
        match status {
            // With a ValidationResult GP looked for the object; without one the route is wrong.
            404 if call.lookup && has_validation_result(body) => Refusal::NotFound(text),
            // 409 is also GP's answer for a batch being posted (Id 9046): a refusal to retry,
            // not a duplicate to look up.
            409 if is_batch_busy(&text) => Refusal::Invalid { text, details: None },
            409 => Refusal::Duplicate(text),
            400 | 422 => Refusal::Invalid { text, details: None },
            401 | 403 | 404 | 405 | 406 | 415 => Refusal::Misconfigured(labelled()),
            _ if is_system_exception(&text) => Refusal::System(text),
            _ => Refusal::System(labelled()),
        }
    }

    fn validation_messages(&self, _body: &str) -> Vec<String> {
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_and_errors_read() {
        let sba = Sba::new("http://gp:1/GPService/Tenants(DefaultTenant)/Companies(Fabrikam%2C%20Inc%2E)/");
        assert_eq!(
            sba.get_customer("ACME CO.").url,
            "http://gp:1/GPService/Tenants(DefaultTenant)/Companies(Fabrikam%2C%20Inc%2E)/Sales/Customers(ACME%20CO.).json"
        );
        let body = r#"{"Error":{"Status":400,"Message":"x","ValidationResult":{"Errors":[{"Message":"The fiscal period that contains the document date is closed."}],"Warnings":[]}}}"#;
        assert_eq!(error_text(body).as_deref(), Some("The fiscal period that contains the document date is closed."));
        let get = sba.get_document(DocKind::Invoice, "INV-1");
        assert!(matches!(
            sba.refusal(&get, 404, r#"{"Error":{"Status":404,"Message":"no SBA resource x"}}"#),
            Refusal::Misconfigured(_)
        ));
        assert!(matches!(sba.refusal(&get, 404, body), Refusal::NotFound(_)));
    }

    #[test]
    fn a_409_for_a_batch_being_posted_is_no_duplicate() {
        let sba = Sba::new("http://gp:1/GPService/Tenants(DefaultTenant)/Companies(F)");
        let create = sba.create_document(&Doc::new(DocKind::Invoice, "INV-1", "ACME", "B", "2025-11-25", "USD"));
        let busy = r#"{"Error":{"Status":409,"Message":"Conflict","ValidationResult":{"Errors":[{"Id":9046,"Message":"Batch is marked for posting by another user."}],"Warnings":[]}}}"#;
        assert!(
            matches!(sba.refusal(&create, 409, busy), Refusal::Invalid { text, .. } if text.contains("marked for posting"))
        );
        let duplicate = r#"{"Error":{"Status":409,"Message":"Conflict","ValidationResult":{"Errors":[{"Id":190,"Message":"Document number (DOCNUMBR) already exists in either RM00401, RM10301, RM20101 or RM30101"}],"Warnings":[]}}}"#;
        assert!(matches!(sba.refusal(&create, 409, duplicate), Refusal::Duplicate(_)));
    }

    #[test]
    fn amounts_read_from_numbers_and_strings() {
        let v: Value =
            serde_json::from_str(r#"{"A":{"Value":270.54},"B":{"Value":"1500"},"C":{"Value":12}}"#).unwrap_or_default();
        assert_eq!(amount(&v, "A", "USD"), Ok(27054));
        assert_eq!(amount(&v, "B", "JPY"), Ok(1500));
        assert_eq!(amount(&v, "C", "EUR"), Ok(1200));
        assert_eq!(amount(&v, "D", "EUR"), Ok(0));
    }
}
