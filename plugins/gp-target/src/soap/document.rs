//! GP Web Services receivables documents: Create… with every member GP's contract has for
//! what we send (amounts, exchange rate and date, tax schedule, `Taxes`, `Distributions`, the
//! receipt's card type, the GL posting date), Get…ByKey, GetReceivablesDocumentList. Members in
//! WSDL order (ReceivablesDocument; CashReceipt). Documents are written unapplied: GP Web
//! Services has no receivables apply (the settle step applies over eConnect).

use ml_connector_sdk::money::from_decimal;

use super::{NULL_DATE, context, date, envelope, money, policy};
use crate::model::{Doc, DocKind};
use crate::wire::{Summary, summary_kind};
use crate::xml::{Tree, el, escape};

fn operations(kind: DocKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        DocKind::Invoice => ("CreateReceivablesInvoice", "GetReceivablesInvoiceByKey", "receivablesInvoice"),
        DocKind::CreditMemo => {
            ("CreateReceivablesCreditMemo", "GetReceivablesCreditMemoByKey", "receivablesCreditMemo")
        }
        DocKind::CashReceipt => ("CreateCashReceipt", "GetCashReceiptByKey", "cashReceipt"),
        DocKind::DebitMemo => ("CreateReceivablesDebitMemo", "GetReceivablesDebitMemoByKey", "receivablesDebitMemo"),
    }
}

pub fn get_document(company: &str, kind: DocKind, number: &str) -> (String, String) {
    let (_, op, _) = operations(kind);
    (op.into(), envelope(op, &format!("<key><Id>{}</Id></key>{}", escape(number), context(company))))
}

/// `<Distributions>` of a document: each row's type, account by number, debit, credit, reference
/// (Distribution's members in WSDL order; ReceivablesDistribution / CashReceiptDistribution).
fn distributions(d: &Doc) -> String {
    if d.distributions.is_empty() {
        return String::new();
    }
    let item = if d.kind == DocKind::CashReceipt { "CashReceiptDistribution" } else { "ReceivablesDistribution" };
    let rows: String = d
        .distributions
        .iter()
        .map(|r| {
            let mut x = format!("<{item}><DistributionTypeKey><Id>{}</Id></DistributionTypeKey>", r.kind.disttype_on(d.kind));
            if let Some(reference) = &r.reference {
                x += &el("Reference", reference);
            }
            x += &gl_account(&r.account);
            x += &format!(
                // Amount is abstract in the WSDL: name the concrete type.
                "<DebitAmount xsi:type=\"MoneyAmount\">{}</DebitAmount><CreditAmount xsi:type=\"MoneyAmount\">{}</CreditAmount></{item}>",
                money(r.debit, &d.currency),
                money(r.credit, &d.currency)
            );
            x
        })
        .collect();
    format!("<Distributions>{rows}</Distributions>")
}

fn gl_account(number: &str) -> String {
    format!("<GLAccountKey><Id>{}</Id><IsEncrypted>false</IsEncrypted></GLAccountKey>", escape(number))
}

/// `<Taxes>`: one ReceivablesTax per tax detail (Tax's members, then ReceivablesTax's).
fn taxes(d: &Doc) -> String {
    if d.taxes.is_empty() {
        return String::new();
    }
    let cur = &d.currency;
    let rows: String = d
        .taxes
        .iter()
        .map(|t| {
            let mut x = format!(
                "<ReceivablesTax><TaxAmount>{}</TaxAmount><TaxableAmount>{}</TaxableAmount><IsBackoutTax>false</IsBackoutTax><Key><TaxDetailKey><Id>{}</Id></TaxDetailKey></Key><SalesTaxAmount>{}</SalesTaxAmount>",
                money(t.amount, cur),
                money(t.taxable, cur),
                escape(&t.id),
                money(t.amount, cur)
            );
            if let Some(account) = &t.account {
                x += &gl_account(account);
            }
            x + "</ReceivablesTax>"
        })
        .collect();
    format!("<Taxes>{rows}</Taxes>")
}

/// ExchangeRate and ExchangeDate (GP Web Services has no rate type member: GP uses the
/// customer's or Sales' default rate type).
fn exchange(d: &Doc) -> String {
    match &d.exchange {
        Some(x) => format!("{}<ExchangeDate>{}</ExchangeDate>", el("ExchangeRate", &x.rate), date(&x.date)),
        None => String::new(),
    }
}

fn amounts(d: &Doc) -> String {
    let cur = &d.currency;
    let mut x = format!(
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
    for (name, v) in
        [("TradeDiscountAmount", d.discount), ("FreightAmount", d.freight), ("MiscellaneousAmount", d.misc)]
    {
        if v != 0 {
            x += &format!("<{name}>{}</{name}>", money(v, cur));
        }
    }
    x + &format!("<TaxAmount>{}</TaxAmount>", money(d.tax, cur))
}

pub fn create_document(company: &str, d: &Doc) -> (String, String) {
    let (op, _, member) = operations(d.kind);
    let batch =
        format!("<BatchKey><Id>{}</Id><CreatedDateTime>{NULL_DATE}</CreatedDateTime></BatchKey>", escape(&d.batch));
    let customer = format!("<CustomerKey><Id>{}</Id></CustomerKey>", escape(&d.customer));
    let currency = format!("<CurrencyKey><ISOCode>{}</ISOCode></CurrencyKey>", escape(&d.currency));
    let gl_date = format!("<GeneralLedgerPostingDate>{}</GeneralLedgerPostingDate>", date(d.posting_date()));
    let mut x = format!("<{member}>");
    match d.kind {
        DocKind::Invoice | DocKind::CreditMemo | DocKind::DebitMemo => {
            x += &format!("<Key><Id>{}</Id></Key><Date>{}</Date>", escape(&d.number), date(&d.date));
            x += &amounts(d);
            x += &exchange(d);
            x += &gl_date;
            x += &format!("{batch}{customer}");
            if let Some(schedule) = &d.tax_schedule {
                x += &format!("<TaxScheduleKey><Id>{}</Id></TaxScheduleKey>", escape(schedule));
            }
            x += &currency;
            x += &taxes(d);
        }
        DocKind::CashReceipt => {
            x += &format!("{customer}<Key><Id>{}</Id></Key>", escape(&d.number));
            if let Some(n) = &d.check_number {
                x += &el("CheckCardNumber", n);
            }
            if let Some(card) = &d.card_name {
                x += &format!("<PaymentCardTypeKey><Id>{}</Id></PaymentCardTypeKey>", escape(card));
            }
            x += &format!("{batch}{}", el("Type", &d.receipt_type));
            if let Some(cb) = &d.checkbook {
                x += &format!("<BankAccountKey><Id>{}</Id></BankAccountKey>", escape(cb));
            }
            x += &format!("<Date>{}</Date>{gl_date}<Amount>{}</Amount>", date(&d.date), money(d.total, &d.currency));
            if let Some(desc) = &d.description {
                x += &el("Description", desc);
            }
            x += &currency;
            x += &exchange(d);
        }
    }
    x += &distributions(d);
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
    let (mut number, mut customer, mut posted) = (None, String::new(), None);
    for (i, (_, text)) in x.elements().enumerate() {
        if x.ends_with(i, &[S, "Key", "Id"]) {
            number = Some(text.trim().to_string());
        } else if x.ends_with(i, &[S, "CustomerKey", "Id"]) {
            customer = text.trim().to_string();
        } else if x.ends_with(i, &[S, "TransactionState"]) {
            posted = match text.trim() {
                "Work" => Some(false),
                "Open" | "History" => Some(true),
                _ => None,
            };
        } else if x.ends_with(i, &[S, "Type"])
            && let (Some(kind), Some(number)) = (summary_kind(text), number.take())
        {
            out.push(Summary { kind, number, customer: std::mem::take(&mut customer), posted: posted.take() });
        }
    }
    Ok(out)
}

/// CurrentDocumentAmount of a Get…ByKey answer (invoices and memos carry it).
pub fn current_amount(body: &str, currency: &str) -> Option<i64> {
    let v = Tree::parse(body).ok()?.text(&["CurrentDocumentAmount", "Value"])?;
    from_decimal(&v, currency).ok()
}

/// Whether GP's document is posted (`TransactionState` Open/History, or a receipt's
/// `PostedDate`; none when the answer says neither) and voided (`IsVoided`).
pub fn status(body: &str) -> crate::wire::Status {
    let Ok(x) = Tree::parse(body) else { return crate::wire::Status::default() };
    let posted = match x.text(&["TransactionState"]).as_deref() {
        Some("Work") => Some(false),
        Some("Open" | "History") => Some(true),
        _ => x.text(&["PostedDate"]).filter(|d| !d.is_empty()).map(|d| !d.starts_with("0001-01-01")),
    };
    crate::wire::Status { posted, voided: x.text(&["IsVoided"]).as_deref() == Some("true") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dist, DistKind, Exchange, TaxLine};

    const WSDL: &str = include_str!("../../../../sandbox/gp/wsdl/DynamicsGP.wsdl");

    /// A WSDL complexType's own member names, in order.
    fn members(t: &str) -> Vec<String> {
        let start = WSDL.find(&format!("<xs:complexType name=\"{t}\"")).unwrap_or_default();
        let body = &WSDL[start..];
        let body = &body[..body.find("</xs:complexType>").unwrap_or(body.len())];
        body.split(" name=\"").skip(2).filter_map(|s| s.split('"').next()).map(str::to_string).collect()
    }

    fn in_order(xml: &str, node: &str, types: &[&str]) {
        let order: Vec<String> = types.iter().flat_map(|t| members(t)).collect();
        let el = crate::dom::find(xml, node).ok().flatten().unwrap_or_default();
        let ranks: Vec<usize> = el
            .children
            .iter()
            .map(|c| order.iter().position(|o| *o == c.name).unwrap_or_else(|| panic!("{node}: no member {}", c.name)))
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{node} out of WSDL order: {xml}");
    }

    #[test]
    fn documents_carry_distributions_taxes_rates_and_card_names_in_wsdl_order() {
        let d = Doc {
            sales: 10_000,
            tax: 800,
            total: 10_800,
            tax_schedule: Some("USASTCITY-6*".into()),
            taxes: vec![TaxLine {
                id: "USASTE".into(),
                amount: 800,
                taxable: 10_000,
                account: Some("000-2310-00".into()),
            }],
            distributions: vec![Dist {
                kind: DistKind::Sales,
                account: "000-4100-00".into(),
                debit: 0,
                credit: 10_000,
                reference: Some("Plan".into()),
            }],
            exchange: Some(Exchange { rate: "1.085".into(), date: "2025-11-24".into(), rate_type: None }),
            ..Doc::new(DocKind::Invoice, "INV-1", "ACME", "B", "2025-11-25", "USD")
        };
        let (_, body) = create_document("-1", &d);
        in_order(&body, "receivablesInvoice", &["BusinessObject", "ReceivablesDocument"]);
        in_order(&body, "ReceivablesDistribution", &["BusinessObject", "Distribution", "ReceivablesDistribution"]);
        in_order(&body, "ReceivablesTax", &["BusinessObject", "Tax", "ReceivablesTax"]);
        for part in [
            "<ExchangeRate>1.085</ExchangeRate><ExchangeDate>2025-11-24T00:00:00</ExchangeDate>",
            "<TaxScheduleKey><Id>USASTCITY-6*</Id></TaxScheduleKey>",
            "<DistributionTypeKey><Id>9</Id></DistributionTypeKey><Reference>Plan</Reference><GLAccountKey><Id>000-4100-00</Id><IsEncrypted>false</IsEncrypted></GLAccountKey>",
            "<Key><TaxDetailKey><Id>USASTE</Id></TaxDetailKey></Key><SalesTaxAmount><Value>8.00</Value>",
        ] {
            assert!(body.contains(part), "{part} not in {body}");
        }
        let r = Doc {
            total: 500,
            receipt_type: "Payment Card".into(),
            card_name: Some("Visa".into()),
            checkbook: Some("UPTOWN".into()),
            distributions: d.distributions.clone(),
            ..Doc::new(DocKind::CashReceipt, "PAY-1", "ACME", "B", "2025-11-25", "USD")
        };
        let (_, body) = create_document("-1", &r);
        in_order(&body, "cashReceipt", &["BusinessObject", "CashReceipt"]);
        assert!(body.contains("<PaymentCardTypeKey><Id>Visa</Id></PaymentCardTypeKey>"), "{body}");
        assert!(body.contains("<Distributions><CashReceiptDistribution>"), "{body}");
    }

    #[test]
    fn debit_memos_and_the_gl_posting_date_in_wsdl_order() {
        let dm = Doc {
            sales: 2_000,
            total: 2_000,
            gl_date: Some("2026-01-01".into()),
            ..Doc::new(DocKind::DebitMemo, "CBDM-1", "ACME", "B", "2025-11-25", "USD")
        };
        let (op, body) = create_document("-1", &dm);
        assert_eq!(op, "CreateReceivablesDebitMemo");
        in_order(&body, "receivablesDebitMemo", &["BusinessObject", "ReceivablesDocument"]);
        assert!(
            body.contains("<Date>2025-11-25T00:00:00</Date>")
                && body.contains("<GeneralLedgerPostingDate>2026-01-01T00:00:00</GeneralLedgerPostingDate><BatchKey>"),
            "{body}"
        );
        assert!(!body.contains("Extensions"), "written unapplied: {body}");
        assert_eq!(get_document("-1", DocKind::DebitMemo, "CBDM-1").0, "GetReceivablesDebitMemoByKey");
        let r = Doc { total: 500, ..Doc::new(DocKind::CashReceipt, "PAY-1", "ACME", "B", "2025-11-25", "USD") };
        let (_, body) = create_document("-1", &r);
        in_order(&body, "cashReceipt", &["BusinessObject", "CashReceipt"]);
        assert!(body.contains("<Date>2025-11-25T00:00:00</Date><GeneralLedgerPostingDate>2025-11-25T00:00:00</GeneralLedgerPostingDate><Amount>"), "{body}");
    }

    #[test]
    fn posted_and_voided_are_read_from_answers_and_summaries() {
        let open = "<R><Key><Id>I</Id></Key><TransactionState>Open</TransactionState><IsVoided>true</IsVoided></R>";
        assert_eq!(status(open), crate::wire::Status { posted: Some(true), voided: true });
        assert_eq!(status("<R><TransactionState>Work</TransactionState></R>").posted, Some(false));
        assert_eq!(status("<R><PostedDate>0001-01-01T00:00:00</PostedDate></R>").posted, Some(false));
        assert_eq!(status("<R/>").posted, None);
        let list = "<L><ReceivablesDocumentSummary><Key><Id>DM-1</Id></Key><CustomerKey><Id>ACME</Id></CustomerKey><TransactionState>Work</TransactionState><Type>Debit Memo</Type></ReceivablesDocumentSummary></L>";
        assert_eq!(
            parse_document_list(list),
            Ok(vec![Summary {
                kind: DocKind::DebitMemo,
                number: "DM-1".into(),
                customer: "ACME".into(),
                posted: Some(false)
            }])
        );
    }
}
