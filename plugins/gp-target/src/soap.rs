//! GP Web Services (legacy SOAP endpoint) requests and answers, element names and order as in
//! the real DynamicsGP.wsdl (document/literal wrapped; members in declaration order, base type
//! first). Applies ride in the `Extensions` member as eConnect `taRMApply` blocks (see the GP
//! emulator's README: GP Web Services has no apply operation). [`Soap`] is this protocol for the
//! shared flows; `tests/tests/gp_target.rs` validates every envelope against the WSDL.

use ml_connector_sdk::money::{from_decimal, to_decimal};

use crate::model::{Doc, DocKind, Party};
use crate::wire::{Call, Protocol, Refusal, Summary, Verb, is_system_exception, summary_kind};
use crate::xml::{Tree, el, escape};

pub const NS_GP: &str = "http://schemas.microsoft.com/dynamics/gp/2006/01";
pub const NS_DYN: &str = "http://schemas.microsoft.com/dynamics/2006/01";
const NULL_DATE: &str = "0001-01-01T00:00:00";

pub fn envelope(operation: &str, inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body><{operation} xmlns="{NS_GP}">{inner}</{operation}></soap:Body></soap:Envelope>"#
    )
}

pub fn soap_action(operation: &str) -> String {
    format!("\"{NS_GP}/{operation}\"")
}

fn context(company: &str) -> String {
    format!(
        r#"<context><OrganizationKey xmlns="{NS_DYN}" xsi:type="CompanyKey"><Id>{}</Id></OrganizationKey><CurrencyType xmlns="{NS_DYN}">Transactional</CurrencyType></context>"#,
        escape(company)
    )
}

/// Create/Update operations need a policy; the default policy's key is the empty GUID.
fn policy() -> &'static str {
    "<policy><Key><Id>00000000-0000-0000-0000-000000000000</Id></Key></policy>"
}

fn money(minor: i64, currency: &str) -> String {
    el("Value", &to_decimal(minor, currency))
        + &el("DecimalDigits", &ml_connector_sdk::money::exponent(currency).to_string())
}

/// A document date as GP's dateTime, escaped: the date is the mapper's text, not ours to trust.
fn date(d: &str) -> String {
    escape(&format!("{d}T00:00:00"))
}

pub fn get_customer(company: &str, id: &str) -> (String, String) {
    let op = "GetCustomerByKey";
    (op.into(), envelope(op, &format!("<key><Id>{}</Id></key>{}", escape(id), context(company))))
}

/// CreateCustomer / UpdateCustomer body.
pub fn customer(company: &str, c: &Party, update: bool) -> (String, String) {
    let op = if update { "UpdateCustomer" } else { "CreateCustomer" };
    let mut x = format!("<customer><Key><Id>{}</Id></Key>{}", escape(&c.id), el("Name", &c.name));
    if let Some(s) = &c.short_name {
        x += &el("Shortname", s);
    }
    x += "<PostResultsTo>Receivables/Discount Account</PostResultsTo>";
    x += &format!("<CurrencyKey><ISOCode>{}</ISOCode></CurrencyKey>", escape(&c.currency));
    x += &format!(
        "<CreatedDate>{NULL_DATE}</CreatedDate><ModifiedDate>{NULL_DATE}</ModifiedDate><LastModifiedDate>{NULL_DATE}</LastModifiedDate>"
    );
    if let Some(email) = &c.email {
        // GP keeps e-mail on an address's InternetAddresses (EmailToAddress).
        x += &format!(
            "<Addresses><CustomerAddress><CreatedDate>{NULL_DATE}</CreatedDate><ModifiedDate>{NULL_DATE}</ModifiedDate><LastModifiedDate>{NULL_DATE}</LastModifiedDate><InternetAddresses>{}</InternetAddresses><Key><CustomerKey><Id>{}</Id></CustomerKey><Id>PRIMARY</Id></Key><DeleteOnUpdate>false</DeleteOnUpdate></CustomerAddress></Addresses>",
            el("EmailToAddress", email),
            escape(&c.id)
        );
    }
    x += "</customer>";
    (op.into(), envelope(op, &format!("{x}{}{}", context(company), policy())))
}

/// The customer in a GetCustomerByKey answer (its members sit directly under the result
/// element); none when the answer holds no customer, an error when it is not XML.
pub fn parse_customer(body: &str) -> Result<Option<Party>, String> {
    const R: &str = "GetCustomerByKeyResult";
    let x = Tree::parse(body).map_err(|e| format!("GP's GetCustomerByKey answer: {e}"))?;
    let Some(id) = x.text(&[R, "Key", "Id"]) else { return Ok(None) };
    Ok(Some(Party {
        id,
        name: x.text(&[R, "Name"]).unwrap_or_default(),
        short_name: x.text(&[R, "Shortname"]).filter(|s| !s.is_empty()),
        currency: x.text(&[R, "CurrencyKey", "ISOCode"]).unwrap_or_default(),
        email: None,
    }))
}

fn operations(kind: DocKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        DocKind::Invoice => ("CreateReceivablesInvoice", "GetReceivablesInvoiceByKey", "receivablesInvoice"),
        DocKind::CreditMemo => {
            ("CreateReceivablesCreditMemo", "GetReceivablesCreditMemoByKey", "receivablesCreditMemo")
        }
        DocKind::CashReceipt => ("CreateCashReceipt", "GetCashReceiptByKey", "cashReceipt"),
    }
}

pub fn get_document(company: &str, kind: DocKind, number: &str) -> (String, String) {
    let (_, op, _) = operations(kind);
    (op.into(), envelope(op, &format!("<key><Id>{}</Id></key>{}", escape(number), context(company))))
}

fn applies(d: &Doc) -> String {
    if d.applies.is_empty() {
        return String::new();
    }
    let blocks: String = d
        .applies
        .iter()
        .map(|(to, amount)| {
            format!(
                "<taRMApply xmlns=\"\">{}{}</taRMApply>",
                el("APTODCNM", to),
                el("APPTOAMT", &to_decimal(*amount, &d.currency))
            )
        })
        .collect();
    format!(
        "<Extensions><Extension ExtensionId=\"RMApply\"><DocExtension xmlns=\"{NS_DYN}\">{blocks}</DocExtension></Extension></Extensions>"
    )
}

pub fn create_document(company: &str, d: &Doc) -> (String, String) {
    let (op, _, member) = operations(d.kind);
    let cur = &d.currency;
    let batch =
        format!("<BatchKey><Id>{}</Id><CreatedDateTime>{NULL_DATE}</CreatedDateTime></BatchKey>", escape(&d.batch));
    let customer = format!("<CustomerKey><Id>{}</Id></CustomerKey>", escape(&d.customer));
    let currency = format!("<CurrencyKey><ISOCode>{}</ISOCode></CurrencyKey>", escape(cur));
    let mut x = format!("<{member}>{}", applies(d));
    match d.kind {
        DocKind::Invoice | DocKind::CreditMemo => {
            x += &format!("<Key><Id>{}</Id></Key><Date>{}</Date>", escape(&d.number), date(&d.date));
            x += &format!(
                "<DocumentAmount>{}</DocumentAmount><SalesAmount>{}</SalesAmount>",
                money(d.total, cur),
                money(d.sales, cur)
            );
            if let Some(desc) = &d.description {
                x += &el("Description", desc);
            }
            if let Some(po) = &d.po {
                x += &el("CustomerPONumber", po);
            }
            if d.discount != 0 {
                x += &format!("<TradeDiscountAmount>{}</TradeDiscountAmount>", money(d.discount, cur));
            }
            if d.freight != 0 {
                x += &format!("<FreightAmount>{}</FreightAmount>", money(d.freight, cur));
            }
            if d.misc != 0 {
                x += &format!("<MiscellaneousAmount>{}</MiscellaneousAmount>", money(d.misc, cur));
            }
            x += &format!("<TaxAmount>{}</TaxAmount>{batch}{customer}{currency}", money(d.tax, cur));
        }
        DocKind::CashReceipt => {
            x += &format!("{customer}<Key><Id>{}</Id></Key>", escape(&d.number));
            if let Some(n) = &d.check_number {
                x += &el("CheckCardNumber", n);
            }
            x += &format!("{batch}{}", el("Type", &d.receipt_type));
            if let Some(cb) = &d.checkbook {
                x += &format!("<BankAccountKey><Id>{}</Id></BankAccountKey>", escape(cb));
            }
            x += &format!("<Date>{}</Date><Amount>{}</Amount>", date(&d.date), money(d.total, cur));
            if let Some(desc) = &d.description {
                x += &el("Description", desc);
            }
            x += &currency;
        }
    }
    x += &format!("</{member}>");
    (op.into(), envelope(op, &format!("{x}{}{}", context(company), policy())))
}

/// A document as GP returns it from Get…ByKey.
pub fn parse_document(kind: DocKind, body: &str) -> Result<Option<Doc>, String> {
    let x = Tree::parse(body).map_err(|e| format!("GP's {kind:?} answer: {e}"))?;
    let Some(number) = x.text(&["Key", "Id"]) else { return Ok(None) };
    let currency = x.text(&["CurrencyKey", "ISOCode"]).unwrap_or_default();
    let amount = |path: &[&str]| -> Result<i64, String> {
        match x.text(path) {
            Some(v) if !v.is_empty() => from_decimal(&v, &currency).map_err(|e| format!("{}: {e}", path.join("/"))),
            _ => Ok(0),
        }
    };
    let day = |v: Option<String>| v.map(|d| d.chars().take(10).collect::<String>()).unwrap_or_default();
    let mut d = Doc {
        description: x.text(&["Description"]).filter(|s| !s.is_empty()),
        po: x.text(&["CustomerPONumber"]).filter(|s| !s.is_empty()),
        checkbook: x.text(&["BankAccountKey", "Id"]).filter(|s| !s.is_empty()),
        receipt_type: x.text(&["Type"]).unwrap_or_default(),
        check_number: x.text(&["CheckCardNumber"]).filter(|s| !s.is_empty()),
        ..Doc::new(
            kind,
            &number,
            &x.text(&["CustomerKey", "Id"]).unwrap_or_default(),
            &x.text(&["BatchKey", "Id"]).unwrap_or_default(),
            &day(x.text(&["Date"])),
            &currency,
        )
    };
    match kind {
        DocKind::CashReceipt => d.total = amount(&["Amount", "Value"])?,
        _ => {
            d.sales = amount(&["SalesAmount", "Value"])?;
            d.discount = amount(&["TradeDiscountAmount", "Value"])?;
            d.freight = amount(&["FreightAmount", "Value"])?;
            d.misc = amount(&["MiscellaneousAmount", "Value"])?;
            d.tax = amount(&["TaxAmount", "Value"])?;
            d.total = amount(&["DocumentAmount", "Value"])?;
        }
    }
    Ok(Some(d))
}

/// GetReceivablesDocumentList for one customer (all types and states).
pub fn document_list(company: &str, customer: &str) -> (String, String) {
    let op = "GetReceivablesDocumentList";
    (
        op.into(),
        envelope(
            op,
            &format!(
                "<criteria><CustomerId><EqualValue>{}</EqualValue></CustomerId><Scope>Return Based on Customer Id</Scope></criteria>{}",
                escape(customer),
                context(company)
            ),
        ),
    )
}

/// The summaries of a document list (GP lists members in WSDL order: Key, CustomerKey, …, Type).
pub fn parse_document_list(body: &str) -> Result<Vec<Summary>, String> {
    const S: &str = "ReceivablesDocumentSummary";
    let x = Tree::parse(body).map_err(|e| format!("GP's GetReceivablesDocumentList answer: {e}"))?;
    let mut out = Vec::new();
    let (mut number, mut customer) = (None, String::new());
    for (i, (_, text)) in x.elements().enumerate() {
        if x.ends_with(i, &[S, "Key", "Id"]) {
            number = Some(text.trim().to_string());
        } else if x.ends_with(i, &[S, "CustomerKey", "Id"]) {
            customer = text.trim().to_string();
        } else if x.ends_with(i, &[S, "Type"])
            && let (Some(kind), Some(number)) = (summary_kind(text), number.take())
        {
            out.push(Summary { kind, number, customer: std::mem::take(&mut customer) });
        }
    }
    Ok(out)
}

/// CurrentDocumentAmount of a Get…ByKey answer (invoices and credit memos carry it).
pub fn current_amount(body: &str, currency: &str) -> Option<i64> {
    let v = Tree::parse(body).ok()?.text(&["CurrentDocumentAmount", "Value"])?;
    from_decimal(&v, currency).ok()
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

/// GP Web Services' legacy endpoint (`gp.soap_url`) for one company (`gp.company_id`).
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
        self.call(get_customer(&self.company, id), true)
    }

    fn save_customer(&self, c: &Party, update: bool) -> Call {
        self.call(customer(&self.company, c, update), false)
    }

    fn parse_customer(&self, body: &str) -> Result<Option<Party>, String> {
        parse_customer(body)
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
    fn customer_is_read_at_the_result_element() {
        let body = "<soap:Envelope><soap:Body><GetCustomerByKeyResponse><GetCustomerByKeyResult><Key><CompanyKey><Id>-1</Id></CompanyKey><Id>ACME</Id></Key><Name>Acme Corp</Name><Addresses><CustomerAddress><Name>Billing</Name></CustomerAddress></Addresses><CurrencyKey><ISOCode>EUR</ISOCode></CurrencyKey></GetCustomerByKeyResult></GetCustomerByKeyResponse></soap:Body></soap:Envelope>";
        let c = parse_customer(body).expect("XML").expect("a customer");
        assert_eq!(
            (c.id.as_str(), c.name.as_str(), c.currency.as_str(), c.short_name),
            ("ACME", "Acme Corp", "EUR", None)
        );
        assert!(
            parse_customer("<soap:Envelope><soap:Body><GetCustomerByKeyResponse/></soap:Body></soap:Envelope>")
                .is_ok_and(|c| c.is_none())
        );
    }

    #[test]
    fn fault_and_messages() {
        let f = parse_fault("<soap:Envelope><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>Document number (DOCNUMBR) already exists</faultstring><detail><Message>0f8fad5b-d9cb-469f-a165-70867728950e</Message></detail></soap:Fault></soap:Body></soap:Envelope>").expect("fault");
        assert!(f.message.contains("already exists"));
        assert_eq!(f.log_id.as_deref(), Some("0f8fad5b-d9cb-469f-a165-70867728950e"));
    }
}
