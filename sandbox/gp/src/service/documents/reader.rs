//! Reading a receivables document's members one GP rule at a time. Each check returns what it
//! read and adds its refusals to `errors`, so a create reports every problem of a document at
//! once instead of the first.

use super::super::members::{amount, date, text};
use super::super::{ApplyRequest, OpResult, Service};
use crate::date::Date;
use crate::model::{Amounts, Apply, Company, Currency, Customer, DocType};
use crate::money::{AmountError, format_minor, parse_minor};
use crate::node::Node;
use crate::rules::{self, GpError, len};

/// The free-text members of a document, length-checked.
pub(super) struct DocumentTexts {
    pub description: Option<String>,
    pub po_number: Option<String>,
    pub check_number: Option<String>,
}

pub(super) struct DocumentReader<'a> {
    service: &'a Service,
    company: &'a Company,
    doc_type: DocType,
    node: &'a Node,
    pub errors: Vec<GpError>,
}

impl<'a> DocumentReader<'a> {
    pub fn new(service: &'a Service, company: &'a Company, doc_type: DocType, node: &'a Node) -> Self {
        DocumentReader { service, company, doc_type, node, errors: Vec::new() }
    }

    fn is_cash(&self) -> bool {
        self.doc_type == DocType::CashReceipt
    }

    /// `Key.Id` (DOCNUMBR): required; 17 characters for sales documents, 20 for receipts.
    pub fn number(&mut self) -> Option<String> {
        let rules = &self.service.rules;
        let max = if self.is_cash() { rules.cash_receipt_number_max } else { rules.sales_doc_number_max };
        let number = text(self.node, &["Key", "Id"]);
        match &number {
            None => self.errors.push(GpError::Required { property: "Key" }),
            Some(n) => rules::max_len(&mut self.errors, "Key", "DOCNUMBR", Some(n), max),
        }
        number
    }

    /// `CustomerKey.Id`: required, and the customer must exist.
    pub async fn customer(&mut self) -> OpResult<(Option<String>, Option<Customer>)> {
        let Some(id) = text(self.node, &["CustomerKey", "Id"]) else {
            self.errors.push(GpError::Required { property: "CustomerKey" });
            return Ok((None, None));
        };
        let found = self.service.db.customer(self.company.id, &id).await?;
        if found.is_none() {
            self.errors.push(GpError::CustomerMissing { customer: id.clone() });
        }
        Ok((Some(id), found))
    }

    /// `BatchKey`: the id is required (BACHNUMB length); a source, if sent, must be the
    /// document type's (`RM_Sales` / `RM_Cash`).
    pub fn batch_id(&mut self) -> Option<String> {
        let batch_id = text(self.node, &["BatchKey", "Id"]);
        match &batch_id {
            None => self.errors.push(GpError::Required { property: "BatchKey" }),
            Some(b) => rules::max_len(&mut self.errors, "BatchKey", "BACHNUMB", Some(b), len::BACHNUMB),
        }
        let expected = self.doc_type.batch_source();
        if let Some(source) = text(self.node, &["BatchKey", "Source"])
            && !source.eq_ignore_ascii_case(expected)
        {
            let id = batch_id.clone().unwrap_or_default();
            self.errors.push(GpError::BatchSource { id, found: source, expected });
        }
        batch_id
    }

    /// `Date` (today if unset). Its fiscal period is checked with the document's GL posting
    /// date in the write ([`crate::ledger::check`]).
    pub fn date(&mut self) -> Date {
        date(self.node, "Date").unwrap_or_else(Date::today)
    }

    /// `GeneralLedgerPostingDate` (ReceivablesDocument and CashReceipt have it): the date GP
    /// checks the fiscal period of; unset → the batch's, else the document date.
    pub fn posting_date(&mut self) -> Option<Date> {
        date(self.node, "GeneralLedgerPostingDate")
    }

    /// `CurrencyKey.ISOCode` → the company's currency with that ISO code; unset → the
    /// customer's currency, else the functional currency.
    pub async fn currency(&mut self, customer: Option<&Customer>) -> OpResult<Option<Currency>> {
        let (db, company) = (&self.service.db, self.company);
        Ok(match text(self.node, &["CurrencyKey", "ISOCode"]) {
            Some(iso) => {
                let found = db.currency_by_iso(company.id, &iso).await?;
                if found.is_none() {
                    self.errors.push(GpError::CurrencyMissing { iso });
                }
                found
            }
            None => match customer {
                Some(c) => self.service.currency_for_customer(company, c).await?,
                None => db.currency(company.id, &company.functional_currency).await?,
            },
        })
    }

    /// Description (DOCDESCR, or TRXDSCRN on a receipt), PO number (sales documents only) and
    /// check/card number (receipts only), within GP's lengths.
    pub fn texts(&mut self) -> DocumentTexts {
        let (node, is_cash) = (self.node, self.is_cash());
        let description = text(node, &["Description"]);
        let column = if is_cash { "TRXDSCRN" } else { "DOCDESCR" };
        rules::max_len(&mut self.errors, "Description", column, description.as_deref(), len::DOCDESCR);
        let po_number = if is_cash { None } else { text(node, &["CustomerPONumber"]) };
        rules::max_len(&mut self.errors, "CustomerPONumber", "CSTPONBR", po_number.as_deref(), len::CSTPONBR);
        let check_number = if is_cash { text(node, &["CheckCardNumber"]) } else { None };
        rules::max_len(&mut self.errors, "CheckCardNumber", "CHEKNMBR", check_number.as_deref(), len::CHEKNMBR);
        DocumentTexts { description, po_number, check_number }
    }

    /// A receipt's checkbook: named, or the company's RM default; it must exist and be in the
    /// receipt's currency. Other documents have none.
    pub async fn checkbook(&mut self, currency: Option<&Currency>) -> OpResult<Option<String>> {
        if !self.is_cash() {
            return Ok(None);
        }
        let named = text(self.node, &["BankAccountKey", "Id"]);
        rules::max_len(&mut self.errors, "BankAccountKey", "CHEKBKID", named.as_deref(), len::CHEKBKID);
        let Some(id) = named.or_else(|| self.company.default_checkbook.clone()) else {
            self.errors.push(GpError::Required { property: "BankAccountKey" });
            return Ok(None);
        };
        let Some(cb) = self.service.db.checkbook(self.company.id, &id).await? else {
            self.errors.push(GpError::CheckbookMissing { id });
            return Ok(None);
        };
        if let Some(cur) = currency
            && cb.currency_id != cur.currency_id
        {
            let document = cur.currency_id.clone();
            self.errors.push(GpError::CheckbookCurrency { id: id.clone(), checkbook: cb.currency_id, document });
        }
        Ok(Some(id))
    }

    /// The amounts: a receipt's `Amount`, or a sales document's parts and their total.
    pub fn amounts(&mut self, currency: &Currency) -> Amounts {
        if self.is_cash() {
            Amounts { document: self.required_amount("Amount", currency).unwrap_or(0), ..Amounts::default() }
        } else {
            self.sales_amounts(currency)
        }
    }

    /// A required money member: refused as missing only when absent (a nil or bad value has
    /// its own refusal from [`amount`]).
    fn required_amount(&mut self, property: &'static str, currency: &Currency) -> Option<i64> {
        let value = amount(&mut self.errors, self.node, property, currency);
        if value.is_none() && self.node.at(&[property]).is_none() {
            self.errors.push(GpError::Required { property });
        }
        value
    }

    /// SalesAmount (required) and the optional parts; `DocumentAmount`, if sent, must equal
    /// SLS − TRDIS + FRT + MISC + TAX.
    fn sales_amounts(&mut self, currency: &Currency) -> Amounts {
        // Read in this order (struct fields are evaluated as written): the order the refusals
        // are listed in.
        let sales = self.required_amount("SalesAmount", currency).unwrap_or(0);
        let mut optional = |property| amount(&mut self.errors, self.node, property, currency).unwrap_or(0);
        let mut amounts = Amounts {
            sales,
            trade_discount: optional("TradeDiscountAmount"),
            freight: optional("FreightAmount"),
            misc: optional("MiscellaneousAmount"),
            tax: optional("TaxAmount"),
            cost: optional("CostAmount"),
            document: 0,
        };
        amounts.document = amounts.computed_document();
        if let Some(sent) = amount(&mut self.errors, self.node, "DocumentAmount", currency)
            && sent != amounts.document
        {
            self.errors.push(GpError::DocumentAmountMismatch {
                expected: format_minor(amounts.document, currency.decimal_digits),
                got: format_minor(sent, currency.decimal_digits),
            });
        }
        amounts
    }

    /// The applies, read in the document's currency: only receipts and credit memos apply,
    /// each amount positive, together not more than the document.
    pub fn applies(&mut self, requests: &[ApplyRequest], currency: &Currency, document: i64) -> Vec<Apply> {
        if !requests.is_empty() && !super::super::settle::apply_from_type(self.doc_type) {
            self.errors.push(GpError::Contract(
                "an invoice or debit memo cannot carry applies; apply from the cash receipt or credit memo".into(),
            ));
        }
        let applies: Vec<Apply> = requests.iter().filter_map(|a| self.apply(a, currency)).collect();
        let total: i64 = applies.iter().map(|a| a.amount_minor).sum();
        if total > document {
            self.errors.push(GpError::ApplyExceedsDocument {
                total: format_minor(total, currency.decimal_digits),
                available: format_minor(document, currency.decimal_digits),
            });
        }
        applies
    }

    fn apply(&mut self, a: &ApplyRequest, currency: &Currency) -> Option<Apply> {
        let refusal = match parse_minor(&a.amount, currency.decimal_digits) {
            Ok(v) if v <= 0 => GpError::ApplyAmountZero,
            Ok(v) => {
                let to_number = a.to_number.trim_end().to_string();
                return Some(Apply { to_type: a.to_type, to_number, amount_minor: v });
            }
            Err(AmountError::TooPrecise { digits }) => GpError::TooPrecise {
                property: "Extensions",
                value: a.amount.clone(),
                currency: currency.iso_code.clone(),
                digits,
            },
            Err(_) => GpError::BadAmount { property: "Extensions", value: a.amount.clone() },
        };
        self.errors.push(refusal);
        None
    }
}
