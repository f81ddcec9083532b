//! GP Web Services (legacy SOAP endpoint) requests and answers, element names and order as in
//! the real DynamicsGP.wsdl (document/literal wrapped; members in declaration order, base type
//! first). Documents are written unapplied: GP Web Services has no apply operation (the settle
//! step applies over eConnect). [`Soap`] is this protocol for the
//! shared flows; `tests/tests/gp_target.rs` validates every envelope against the WSDL.
//! `customer` (customers, update = read-modify-write), `document` (receivables documents).

pub mod customer;
pub mod document;

use ml_connector_sdk::money::to_decimal;

use crate::model::{Doc, DocKind, Owned, Party};
use crate::transport::Theirs;
use crate::wire::{Call, Protocol, Refusal, Status, Summary, Verb, is_system_exception};
use crate::xml::{Tree, el, escape};
pub use document::{
    create_document, current_amount, document_list, get_document, parse_document, parse_document_list, status,
};

pub const NS_GP: &str = "http://schemas.microsoft.com/dynamics/gp/2006/01";
pub const NS_DYN: &str = "http://schemas.microsoft.com/dynamics/2006/01";
pub(crate) const NULL_DATE: &str = "0001-01-01T00:00:00";

pub fn envelope(operation: &str, inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body><{operation} xmlns="{NS_GP}">{inner}</{operation}></soap:Body></soap:Envelope>"#
    )
}

pub fn soap_action(operation: &str) -> String {
    format!("\"{NS_GP}/{operation}\"")
}

pub(crate) fn context(company: &str) -> String {
    format!(
        r#"<context><OrganizationKey xmlns="{NS_DYN}" xsi:type="CompanyKey"><Id>{}</Id></OrganizationKey><CurrencyType xmlns="{NS_DYN}">Transactional</CurrencyType></context>"#,
        escape(company)
    )
}

/// Create/Update operations need a policy; the default policy's key is the empty GUID.
pub(crate) fn policy() -> &'static str {
    "<policy><Key><Id>00000000-0000-0000-0000-000000000000</Id></Key></policy>"
}

pub(crate) fn money(minor: i64, currency: &str) -> String {
    el("Value", &to_decimal(minor, currency))
        + &el("DecimalDigits", &ml_connector_sdk::money::exponent(currency).to_string())
}

/// A document date as GP's dateTime, escaped: the date is the mapper's text, not ours to trust.
pub(crate) fn date(d: &str) -> String {
    escape(&format!("{d}T00:00:00"))
}

/// A SOAP fault: its faultcode and faultstring and, for validation faults, the logged result's GUID.
pub struct Fault {
    pub code: String,
    pub message: String,
    pub log_id: Option<String>,
}

pub fn parse_fault(body: &str) -> Option<Fault> {
    let x = Tree::parse(body).ok()?;
    let message = x.text(&["Fault", "faultstring"])?;
    let code = x.text(&["Fault", "faultcode"]).unwrap_or_default();
    let log_id = x.text(&["Fault", "detail", "Message"]).filter(|s| s.len() == 36);
    Some(Fault { code, message, log_id })
}

pub fn validation_result(company: &str, log_id: &str) -> (String, String) {
    let op = "GetLoggedValidationResultByKey";
    (op.into(), envelope(op, &format!("<logId>{}</logId>{}", escape(log_id), context(company))))
}

/// The messages of a logged validation result.
pub fn validation_messages(body: &str) -> Vec<String> {
    // Unreadable: no messages, and the caller keeps the fault's own text.
    Tree::parse(body).map(|x| x.texts(&["ValidationError", "Message"])).unwrap_or_default()
}

/// GetCompanyList for one company name (no context: the company is what is looked for).
pub fn company_list(name: &str) -> (String, String) {
    let op = "GetCompanyList";
    (op.into(), envelope(op, &format!("<criteria><Name><EqualValue>{}</EqualValue></Name></criteria>", escape(name))))
}

/// The id (`Key/Id`) of the company named `name` in a GetCompanyList answer; an error naming
/// the companies GP has when none is.
pub fn parse_company_list(body: &str, name: &str) -> Result<String, String> {
    let x = Tree::parse(body).map_err(|e| format!("GP's GetCompanyList answer: {e}"))?;
    let ids = x.texts(&["GetCompanyListResult", "Company", "Key", "Id"]);
    let names = x.texts(&["GetCompanyListResult", "Company", "Name"]);
    match names.iter().position(|n| n.eq_ignore_ascii_case(name.trim())) {
        Some(i) => ids.get(i).cloned().ok_or_else(|| format!("GP's company {name:?} has no id")),
        None => Err(format!(
            "gp.company {name:?}: GP Web Services has no such company (it has: {})",
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        )),
    }
}

/// GP Web Services' legacy endpoint (`gp.soap_url`) for one company (its id: `gp.company_id`,
/// or `gp.company` resolved through GetCompanyList).
pub struct Soap {
    pub url: String,
    pub company: String,
}

impl Soap {
    fn call(&self, (op, body): (String, String), lookup: bool) -> Call {
        Call {
            headers: vec![
                ("content-type".into(), "text/xml; charset=utf-8".into()),
                ("soapaction".into(), soap_action(&op)),
            ],
            label: op,
            verb: Verb::Post,
            url: self.url.clone(),
            body: Some(body),
            lookup,
        }
    }

    /// GetLoggedValidationResultByKey for a validation fault's log id.
    pub fn validation_result(&self, log_id: &str) -> Call {
        self.call(validation_result(&self.company, log_id), false)
    }
}

impl Protocol for Soap {
    fn get_customer(&self, id: &str) -> Call {
        self.call(customer::get_customer(&self.company, id), true)
    }

    fn save_customer(&self, c: &Party, theirs: Option<&Theirs>, changes: &[Owned]) -> Result<Call, String> {
        Ok(match theirs {
            None => self.call(customer::create(&self.company, c), false),
            Some(t) => self.call(customer::update(&self.company, c, &t.raw, changes)?, false),
        })
    }

    fn parse_customer(&self, body: &str) -> Result<Option<Party>, String> {
        customer::parse(body)
    }

    fn get_document(&self, kind: DocKind, number: &str) -> Call {
        self.call(get_document(&self.company, kind, number), true)
    }

    fn create_document(&self, d: &Doc) -> Call {
        self.call(create_document(&self.company, d), false)
    }

    fn parse_document(&self, kind: DocKind, body: &str) -> Result<Option<Doc>, String> {
        parse_document(kind, body)
    }

    fn current_amount(&self, body: &str, currency: &str) -> Option<i64> {
        current_amount(body, currency)
    }

    fn status(&self, body: &str) -> Status {
        status(body)
    }

    fn list_documents(&self, customer: &str) -> Vec<Call> {
        vec![self.call(document_list(&self.company, customer), false)]
    }

    fn parse_document_list(&self, body: &str) -> Result<Vec<Summary>, String> {
        parse_document_list(body)
    }

    /// SOAP 1.1 faults (always HTTP 500): a validation fault names its logged result in the
    /// detail; no GUID and GP's generic text is a system exception; `soap:Client` is our request's
    /// form. Not-found on a Get…ByKey is a validation fault too: its text says "does not exist"
    /// (GP's wording is not public; the emulator's is "… does not exist").
    fn refusal(&self, call: &Call, status: u16, body: &str) -> Refusal {
        let Some(f) = parse_fault(body) else {
            let what = format!("{}: GP answered HTTP {status} without a SOAP fault", call.label);
            return if status == 401 || status == 403 || status == 404 {
                Refusal::Misconfigured(what)
            } else {
                Refusal::System(what)
            };
        };
        if is_system_exception(&f.message) {
            Refusal::System(f.message)
        } else if f.code.ends_with("Client") || f.code.ends_with("VersionMismatch") {
            Refusal::Misconfigured(format!("{}: GP refused the request's form: {}", call.label, f.message))
        } else if call.lookup && f.message.contains("does not exist") {
            Refusal::NotFound(f.message)
        } else {
            Refusal::Invalid { details: f.log_id.as_deref().map(|id| self.validation_result(id)), text: f.message }
        }
    }

    fn validation_messages(&self, body: &str) -> Vec<String> {
        validation_messages(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_names_resolve_to_ids() {
        let (op, body) = company_list("Fabrikam, Inc.");
        assert_eq!(op, "GetCompanyList");
        assert!(body.contains("<criteria><Name><EqualValue>Fabrikam, Inc.</EqualValue></Name></criteria>"), "{body}");
        let answer = "<s:Envelope><s:Body><GetCompanyListResponse><GetCompanyListResult><Company><Key><Id>-1</Id></Key><Name>Fabrikam, Inc.</Name></Company><Company><Key><Id>2</Id></Key><Name>Contoso</Name></Company></GetCompanyListResult></GetCompanyListResponse></s:Body></s:Envelope>";
        assert_eq!(parse_company_list(answer, "fabrikam, inc."), Ok("-1".into()));
        let err = parse_company_list(answer, "Acme").err().unwrap_or_default();
        assert!(err.contains("gp.company") && err.contains("Contoso"), "{err}");
    }

    #[test]
    fn fault_and_messages() {
        let f = parse_fault("<soap:Envelope><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>Document number (DOCNUMBR) already exists</faultstring><detail><Message>0f8fad5b-d9cb-469f-a165-70867728950e</Message></detail></soap:Fault></soap:Body></soap:Envelope>").expect("fault");
        assert!(f.message.contains("already exists"));
        assert_eq!(f.log_id.as_deref(), Some("0f8fad5b-d9cb-469f-a165-70867728950e"));
    }
}
