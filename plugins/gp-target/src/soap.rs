//! GP Web Services (legacy SOAP endpoint) requests and answers, element names and order as in
//! the real DynamicsGP.wsdl (document/literal wrapped; members in declaration order, base type
//! first). Applies ride in the `Extensions` member as eConnect `taRMApply` blocks (see the GP
//! emulator's README: GP Web Services has no apply operation).

use ml_connector_sdk::money::{from_decimal, to_decimal};

use crate::model::{Doc, DocKind, Party};
use crate::xml::{el, elements, escape, text, texts};

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
    format!("<Value>{}</Value><DecimalDigits>{}</DecimalDigits>", to_decimal(minor, currency), ml_connector_sdk::money::exponent(currency))
}

fn date(d: &str) -> String {
    format!("{d}T00:00:00")
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
    x += &format!("<CreatedDate>{NULL_DATE}</CreatedDate><ModifiedDate>{NULL_DATE}</ModifiedDate><LastModifiedDate>{NULL_DATE}</LastModifiedDate>");
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

pub fn parse_customer(body: &str) -> Option<Party> {
    let x = elements(body);
    Some(Party {
        id: text(&x, &["Customer", "Key", "Id"])?,
        name: text(&x, &["Customer", "Name"]).unwrap_or_default(),
        short_name: text(&x, &["Customer", "Shortname"]).filter(|s| !s.is_empty()),
        currency: text(&x, &["Customer", "CurrencyKey", "ISOCode"]).unwrap_or_default(),
        email: None,
    })
}

fn operations(kind: DocKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        DocKind::Invoice => ("CreateReceivablesInvoice", "GetReceivablesInvoiceByKey", "receivablesInvoice"),
        DocKind::CreditMemo => ("CreateReceivablesCreditMemo", "GetReceivablesCreditMemoByKey", "receivablesCreditMemo"),
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
        .map(|(to, amount)| format!("<taRMApply xmlns=\"\">{}{}</taRMApply>", el("APTODCNM", to), el("APPTOAMT", &to_decimal(*amount, &d.currency))))
        .collect();
    format!("<Extensions><Extension ExtensionId=\"RMApply\"><DocExtension xmlns=\"{NS_DYN}\">{blocks}</DocExtension></Extension></Extensions>")
}

pub fn create_document(company: &str, d: &Doc) -> (String, String) {
    let (op, _, member) = operations(d.kind);
    let cur = &d.currency;
    let batch = format!("<BatchKey><Id>{}</Id><CreatedDateTime>{NULL_DATE}</CreatedDateTime></BatchKey>", escape(&d.batch));
    let customer = format!("<CustomerKey><Id>{}</Id></CustomerKey>", escape(&d.customer));
    let currency = format!("<CurrencyKey><ISOCode>{}</ISOCode></CurrencyKey>", escape(cur));
    let mut x = format!("<{member}>{}", applies(d));
    match d.kind {
        DocKind::Invoice | DocKind::CreditMemo => {
            x += &format!("<Key><Id>{}</Id></Key><Date>{}</Date>", escape(&d.number), date(&d.date));
            x += &format!("<DocumentAmount>{}</DocumentAmount><SalesAmount>{}</SalesAmount>", money(d.total, cur), money(d.sales, cur));
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
            x += &format!("{batch}<Type>{}</Type>", d.receipt_type);
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
    let x = elements(body);
    let Some(number) = text(&x, &["Key", "Id"]) else { return Ok(None) };
    let currency = text(&x, &["CurrencyKey", "ISOCode"]).unwrap_or_default();
    let amount = |path: &[&str]| -> Result<i64, String> {
        match text(&x, path) {
            Some(v) if !v.is_empty() => from_decimal(&v, &currency).map_err(|e| format!("{}: {e}", path.join("/"))),
            _ => Ok(0),
        }
    };
    let day = |v: Option<String>| v.map(|d| d.chars().take(10).collect::<String>()).unwrap_or_default();
    let mut d = Doc {
        kind,
        number,
        customer: text(&x, &["CustomerKey", "Id"]).unwrap_or_default(),
        batch: text(&x, &["BatchKey", "Id"]).unwrap_or_default(),
        date: day(text(&x, &["Date"])),
        currency: currency.clone(),
        sales: 0,
        discount: 0,
        freight: 0,
        misc: 0,
        tax: 0,
        total: 0,
        description: text(&x, &["Description"]).filter(|s| !s.is_empty()),
        po: text(&x, &["CustomerPONumber"]).filter(|s| !s.is_empty()),
        checkbook: text(&x, &["BankAccountKey", "Id"]).filter(|s| !s.is_empty()),
        receipt_type: text(&x, &["Type"]).unwrap_or_default(),
        check_number: text(&x, &["CheckCardNumber"]).filter(|s| !s.is_empty()),
        applies: vec![],
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
    (op.into(), envelope(op, &format!("<criteria><CustomerId><EqualValue>{}</EqualValue></CustomerId><Scope>Return Based on Customer Id</Scope></criteria>{}", escape(customer), context(company))))
}

/// (kind, number, date, currency) of each summary in a document list.
pub fn parse_document_list(body: &str) -> Vec<(DocKind, String)> {
    let x = elements(body);
    let mut out = Vec::new();
    let mut number = None;
    for (path, text) in &x {
        let n = path.len();
        if n >= 3 && path[n - 3] == "ReceivablesDocumentSummary" && path[n - 2] == "Key" && path[n - 1] == "Id" {
            number = Some(text.trim().to_string());
        }
        if n >= 2 && path[n - 2] == "ReceivablesDocumentSummary" && path[n - 1] == "Type" {
            let kind = match text.trim() {
                "Invoice" => Some(DocKind::Invoice),
                "Credit Memo" => Some(DocKind::CreditMemo),
                "Cash Receipt" | "Payment" => Some(DocKind::CashReceipt),
                _ => None,
            };
            if let (Some(k), Some(num)) = (kind, number.take()) {
                out.push((k, num));
            }
        }
    }
    out
}

/// CurrentDocumentAmount of a Get…ByKey answer (invoices and credit memos carry it).
pub fn current_amount(body: &str, currency: &str) -> Option<i64> {
    let v = text(&elements(body), &["CurrentDocumentAmount", "Value"])?;
    from_decimal(&v, currency).ok()
}

/// A SOAP fault: its faultstring and, for validation faults, the logged result's GUID.
pub struct Fault {
    pub message: String,
    pub log_id: Option<String>,
}

pub fn parse_fault(body: &str) -> Option<Fault> {
    let x = elements(body);
    let message = text(&x, &["Fault", "faultstring"])?;
    let log_id = text(&x, &["Fault", "detail", "Message"]).filter(|s| s.len() == 36);
    Some(Fault { message, log_id })
}

pub fn validation_result(company: &str, log_id: &str) -> (String, String) {
    let op = "GetLoggedValidationResultByKey";
    (op.into(), envelope(op, &format!("<logId>{}</logId>{}", escape(log_id), context(company))))
}

/// The messages of a logged validation result.
pub fn validation_messages(body: &str) -> Vec<String> {
    texts(&elements(body), &["ValidationError", "Message"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_and_messages() {
        let f = parse_fault("<soap:Envelope><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>Document number (DOCNUMBR) already exists</faultstring><detail><Message>0f8fad5b-d9cb-469f-a165-70867728950e</Message></detail></soap:Fault></soap:Body></soap:Envelope>").expect("fault");
        assert!(f.message.contains("already exists"));
        assert_eq!(f.log_id.as_deref(), Some("0f8fad5b-d9cb-469f-a165-70867728950e"));
    }
}
