//! The emulated GP business logic behind both front ends: takes WSDL objects (as [`Node`]s),
//! applies GP's rules, writes the store, and returns WSDL objects.

use std::sync::Arc;

use crate::date::{Date, now_timestamp, parse_datetime};
use crate::db::Db;
use crate::faults::Counters;
use crate::model::{Amounts, Apply, Company, Currency, Customer, DocType, Document, TxState};
use crate::money::{AmountError, format_minor, parse_minor};
use crate::node::Node;
use crate::objects;
use crate::rules::{self, GpError, RulesConfig, len};

/// How an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// Refused by GP's rules: a validation exception (SOAP) / 4xx (SBA).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Rejected(Vec<GpError>),
    /// Anything else: GP's generic system exception (SOAP) / 500 (SBA).
    #[error(transparent)]
    System(#[from] anyhow::Error),
}

impl From<GpError> for OpError {
    fn from(e: GpError) -> Self {
        OpError::Rejected(vec![e])
    }
}

impl From<sqlx::Error> for OpError {
    fn from(e: sqlx::Error) -> Self {
        OpError::System(anyhow::Error::new(e).context("GP sandbox database"))
    }
}

pub type OpResult<T> = Result<T, OpError>;

/// An apply as the caller sent it, before the amount is read in the document's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyRequest {
    pub to_number: String,
    pub amount: String,
}

pub struct Service {
    pub db: Db,
    pub rules: RulesConfig,
    pub counters: Arc<Counters>,
}

fn text(node: &Node, path: &[&str]) -> Option<String> {
    node.str_at(path).map(|s| s.trim_end().to_string()).filter(|s| !s.is_empty())
}

fn flag(node: &Node, name: &str) -> Option<bool> {
    node.str_at(&[name]).map(|v| matches!(v, "true" | "1"))
}

/// A date member; .NET's DateTime.MinValue (an unset value-typed member) counts as absent.
fn date(node: &Node, name: &str) -> Option<Date> {
    node.str_at(&[name]).and_then(parse_datetime).filter(|d| !d.is_dotnet_min())
}

impl Service {
    pub async fn company(&self, id: i32) -> OpResult<Company> {
        self.db.company(id).await?.ok_or_else(|| GpError::CompanyMissing { company: id.to_string() }.into())
    }

    pub async fn company_by_name(&self, name: &str) -> OpResult<Company> {
        self.db.company_by_name(name).await?.ok_or_else(|| GpError::CompanyMissing { company: name.to_string() }.into())
    }

    pub async fn company_list(&self, criteria: Option<&Node>) -> OpResult<Node> {
        let all = self.db.companies().await?;
        let items = all
            .iter()
            .filter(|c| objects::string_restriction_matches(criteria.and_then(|c| c.get("Name")), &c.name))
            .filter(|c| int_restriction_matches(criteria.and_then(|c| c.get("Id")), c.id))
            .map(objects::company);
        Ok(Node::list("Company", items))
    }

    async fn currency_for_customer(&self, company: &Company, c: &Customer) -> OpResult<Option<Currency>> {
        let id = c.currency_id.as_deref().unwrap_or(&company.functional_currency);
        Ok(self.db.currency(company.id, id).await?)
    }

    // ---- customers -------------------------------------------------------------------------

    /// Reads a Customer object into the stored form, checking ids and lengths.
    async fn customer_input(&self, company: &Company, node: &Node, existing: Option<&Customer>) -> OpResult<Customer> {
        let mut errors = Vec::new();
        let raw_id = text(node, &["Key", "Id"]);
        let id = match raw_id.as_deref() {
            None => {
                errors.push(GpError::Required { property: "Key" });
                String::new()
            }
            Some(raw) => rules::customer_id(raw, &self.rules).unwrap_or_else(|e| {
                errors.push(e);
                raw.to_string()
            }),
        };
        let mut c =
            existing.cloned().unwrap_or_else(|| Customer { id: id.clone(), is_active: true, ..Customer::default() });
        // Members the caller left out keep their stored value (PATCH semantics for updates).
        macro_rules! take {
            ($field:ident, $path:expr, $prop:literal, $col:literal, $max:expr) => {
                if let Some(v) = text(node, $path) {
                    rules::max_len(&mut errors, $prop, $col, Some(&v), $max);
                    c.$field = Some(v);
                }
            };
        }
        take!(name, &["Name"], "Name", "CUSTNAME", len::CUSTNAME);
        take!(shortname, &["Shortname"], "Shortname", "SHRTNAME", len::SHRTNAME);
        take!(statement_name, &["StatementName"], "StatementName", "STMTNAME", len::STMTNAME);
        take!(class_id, &["ClassKey", "Id"], "ClassKey", "CUSTCLAS", len::CUSTCLAS);
        take!(payment_terms_id, &["PaymentTermsKey", "Id"], "PaymentTermsKey", "PYMTRMID", len::PYMTRMID);
        take!(comment1, &["Comment1"], "Comment1", "COMMENT1", len::COMMENT);
        take!(comment2, &["Comment2"], "Comment2", "COMMENT2", len::COMMENT);
        take!(user_defined1, &["UserDefined1"], "UserDefined1", "USERDEF1", len::USERDEF);
        take!(user_defined2, &["UserDefined2"], "UserDefined2", "USERDEF2", len::USERDEF);
        take!(tax_registration, &["TaxRegistrationNumber"], "TaxRegistrationNumber", "TXRGNNUM", len::TXRGNNUM);
        if let Some(active) = flag(node, "IsActive") {
            c.is_active = active;
        }
        if let Some(hold) = flag(node, "IsOnHold") {
            c.is_on_hold = hold;
        }
        if let Some(iso) = text(node, &["CurrencyKey", "ISOCode"]) {
            match self.db.currency_by_iso(company.id, &iso).await? {
                Some(cur) => c.currency_id = Some(cur.currency_id),
                None => errors.push(GpError::CurrencyMissing { iso }),
            }
        }
        if let Some(addresses) = node.get("Addresses").filter(|a| !a.is_nil()) {
            for a in addresses.all("CustomerAddress") {
                rules::max_len(&mut errors, "Addresses", "ADRSCODE", a.str_at(&["Key", "Id"]), len::ADRSCODE);
                for (line, col) in
                    [("Line1", "ADDRESS1"), ("Line2", "ADDRESS2"), ("Line3", "ADDRESS3"), ("ContactPerson", "CNTCPRSN")]
                {
                    rules::max_len(&mut errors, "Addresses", col, a.str_at(&[line]), len::ADDRESS_LINE);
                }
            }
            c.addresses = Some(addresses.clone());
        }
        if !errors.is_empty() {
            return Err(OpError::Rejected(errors));
        }
        c.id = id;
        Ok(c)
    }

    pub async fn create_customer(&self, company: &Company, node: &Node) -> OpResult<()> {
        let mut c = self.customer_input(company, node, None).await?;
        let now = now_timestamp();
        c.created = now.clone();
        c.modified = now;
        let mut tx = self.db.begin_write().await?;
        if Db::customer_exists(&mut tx, company.id, &c.id).await? {
            return Err(GpError::CustomerExists { id: c.id }.into());
        }
        Db::put_customer(&mut tx, company.id, &c).await?;
        tx.commit().await?;
        self.counters.customer_written();
        Ok(())
    }

    pub async fn update_customer(&self, company: &Company, node: &Node) -> OpResult<()> {
        let id = text(node, &["Key", "Id"]).ok_or(GpError::Required { property: "Key" })?;
        let existing = self.db.customer(company.id, &id).await?.ok_or(GpError::CustomerMissing { customer: id })?;
        let mut c = self.customer_input(company, node, Some(&existing)).await?;
        c.modified = now_timestamp();
        let mut tx = self.db.begin_write().await?;
        Db::put_customer(&mut tx, company.id, &c).await?;
        tx.commit().await?;
        self.counters.customer_written();
        Ok(())
    }

    pub async fn get_customer(&self, company: &Company, id: &str) -> OpResult<Option<Node>> {
        let Some(c) = self.db.customer(company.id, id).await? else {
            return Ok(None);
        };
        let currency = self.currency_for_customer(company, &c).await?;
        Ok(Some(objects::customer(company.id, &c, currency.as_ref())))
    }

    pub async fn customer_list(&self, company: &Company, criteria: Option<&Node>) -> OpResult<Node> {
        let crit = |name| criteria.and_then(|c| c.get(name));
        let items = self
            .db
            .customers(company.id)
            .await?
            .into_iter()
            .filter(|c| objects::string_restriction_matches(crit("Id"), &c.id))
            .filter(|c| objects::string_restriction_matches(crit("Name"), c.name.as_deref().unwrap_or_default()))
            .filter(|c| objects::string_restriction_matches(crit("ClassId"), c.class_id.as_deref().unwrap_or_default()))
            .filter(|c| bool_restriction_matches(crit("IsActive"), c.is_active))
            .filter(|c| bool_restriction_matches(crit("IsOnHold"), c.is_on_hold))
            .map(|c| objects::customer_summary(company.id, &c))
            .collect::<Vec<_>>();
        Ok(Node::list("CustomerSummary", items))
    }

    // ---- receivables documents -------------------------------------------------------------

    fn amount(
        &self,
        errors: &mut Vec<GpError>,
        node: &Node,
        property: &'static str,
        currency: &Currency,
    ) -> Option<i64> {
        let money = node.get(property).filter(|m| !m.is_nil())?;
        if let Some(cur) = money.str_at(&["Currency"]).filter(|c| !c.is_empty())
            && !cur.eq_ignore_ascii_case(&currency.iso_code)
        {
            errors.push(GpError::AmountCurrency {
                property,
                found: cur.to_string(),
                expected: currency.iso_code.clone(),
            });
        }
        let value = money.str_at(&["Value"])?;
        match parse_minor(value, currency.decimal_digits) {
            Ok(v) if v < 0 => {
                errors.push(GpError::Negative { property });
                None
            }
            Ok(v) => Some(v),
            Err(AmountError::TooPrecise { digits }) => {
                errors.push(GpError::TooPrecise {
                    property,
                    value: value.to_string(),
                    currency: currency.iso_code.clone(),
                    digits,
                });
                None
            }
            Err(_) => {
                errors.push(GpError::BadAmount { property, value: value.to_string() });
                None
            }
        }
    }

    /// Creates an invoice, credit memo or cash receipt from its WSDL object. `applies` carry
    /// the applies of a cash receipt or credit memo (see README: how applies are sent).
    pub async fn create_document(
        &self,
        company: &Company,
        doc_type: DocType,
        node: &Node,
        applies: &[ApplyRequest],
    ) -> OpResult<Document> {
        let mut errors = Vec::new();
        let is_cash = doc_type == DocType::CashReceipt;

        let number = text(node, &["Key", "Id"]);
        let number_max = if is_cash { self.rules.cash_receipt_number_max } else { self.rules.sales_doc_number_max };
        match &number {
            None => errors.push(GpError::Required { property: "Key" }),
            Some(n) => rules::max_len(&mut errors, "Key", "DOCNUMBR", Some(n), number_max),
        }

        let customer_id = text(node, &["CustomerKey", "Id"]);
        let customer = match &customer_id {
            None => {
                errors.push(GpError::Required { property: "CustomerKey" });
                None
            }
            Some(id) => {
                let found = self.db.customer(company.id, id).await?;
                if found.is_none() {
                    errors.push(GpError::CustomerMissing { customer: id.clone() });
                }
                found
            }
        };

        let batch_id = text(node, &["BatchKey", "Id"]);
        match &batch_id {
            None => errors.push(GpError::Required { property: "BatchKey" }),
            Some(b) => rules::max_len(&mut errors, "BatchKey", "BACHNUMB", Some(b), len::BACHNUMB),
        }
        if let Some(source) = text(node, &["BatchKey", "Source"])
            && !source.eq_ignore_ascii_case(doc_type.batch_source())
        {
            errors.push(GpError::BatchSource {
                id: batch_id.clone().unwrap_or_default(),
                found: source,
                expected: doc_type.batch_source(),
            });
        }

        let doc_date = date(node, "Date").unwrap_or_else(Date::today);
        match self.db.period_closed(company.id, doc_date).await? {
            Some(true) => errors.push(GpError::PeriodClosed { date: doc_date.iso() }),
            Some(false) => {}
            None => errors.push(GpError::PeriodMissing { date: doc_date.iso() }),
        }

        let currency = match text(node, &["CurrencyKey", "ISOCode"]) {
            Some(iso) => {
                let found = self.db.currency_by_iso(company.id, &iso).await?;
                if found.is_none() {
                    errors.push(GpError::CurrencyMissing { iso });
                }
                found
            }
            None => match &customer {
                Some(c) => self.currency_for_customer(company, c).await?,
                None => self.db.currency(company.id, &company.functional_currency).await?,
            },
        };

        let description = text(node, &["Description"]);
        rules::max_len(
            &mut errors,
            "Description",
            if is_cash { "TRXDSCRN" } else { "DOCDESCR" },
            description.as_deref(),
            len::DOCDESCR,
        );
        let po_number = if is_cash { None } else { text(node, &["CustomerPONumber"]) };
        rules::max_len(&mut errors, "CustomerPONumber", "CSTPONBR", po_number.as_deref(), len::CSTPONBR);
        let check_number = if is_cash { text(node, &["CheckCardNumber"]) } else { None };
        rules::max_len(&mut errors, "CheckCardNumber", "CHEKNMBR", check_number.as_deref(), len::CHEKNMBR);

        // Checkbook: named, or the company's RM default; its currency must be the receipt's.
        let mut checkbook_id = None;
        if is_cash {
            let named = text(node, &["BankAccountKey", "Id"]);
            rules::max_len(&mut errors, "BankAccountKey", "CHEKBKID", named.as_deref(), len::CHEKBKID);
            match named.or_else(|| company.default_checkbook.clone()) {
                None => errors.push(GpError::Required { property: "BankAccountKey" }),
                Some(id) => match self.db.checkbook(company.id, &id).await? {
                    None => errors.push(GpError::CheckbookMissing { id }),
                    Some(cb) => {
                        if let Some(cur) = &currency
                            && cb.currency_id != cur.currency_id
                        {
                            errors.push(GpError::CheckbookCurrency {
                                id: id.clone(),
                                checkbook: cb.currency_id,
                                document: cur.currency_id.clone(),
                            });
                        }
                        checkbook_id = Some(id);
                    }
                },
            }
        }

        let Some(currency) = currency else {
            return Err(OpError::Rejected(errors));
        };
        let mut amounts = Amounts::default();
        if is_cash {
            match self.amount(&mut errors, node, "Amount", &currency) {
                Some(v) => amounts.document = v,
                None if node.at(&["Amount"]).is_none() => errors.push(GpError::Required { property: "Amount" }),
                None => {}
            }
        } else {
            match self.amount(&mut errors, node, "SalesAmount", &currency) {
                Some(v) => amounts.sales = v,
                None if node.at(&["SalesAmount"]).is_none() => {
                    errors.push(GpError::Required { property: "SalesAmount" })
                }
                None => {}
            }
            amounts.trade_discount = self.amount(&mut errors, node, "TradeDiscountAmount", &currency).unwrap_or(0);
            amounts.freight = self.amount(&mut errors, node, "FreightAmount", &currency).unwrap_or(0);
            amounts.misc = self.amount(&mut errors, node, "MiscellaneousAmount", &currency).unwrap_or(0);
            amounts.tax = self.amount(&mut errors, node, "TaxAmount", &currency).unwrap_or(0);
            amounts.cost = self.amount(&mut errors, node, "CostAmount", &currency).unwrap_or(0);
            let computed = amounts.computed_document();
            amounts.document = computed;
            if let Some(sent) = self.amount(&mut errors, node, "DocumentAmount", &currency)
                && sent != computed
            {
                errors.push(GpError::DocumentAmountMismatch {
                    expected: format_minor(computed, currency.decimal_digits),
                    got: format_minor(sent, currency.decimal_digits),
                });
            }
        }

        let mut parsed_applies = Vec::new();
        if !applies.is_empty() && doc_type == DocType::Invoice {
            errors.push(GpError::Contract(
                "an invoice cannot carry applies; apply from the cash receipt or credit memo".into(),
            ));
        }
        for a in applies {
            match parse_minor(&a.amount, currency.decimal_digits) {
                Ok(v) if v <= 0 => errors.push(GpError::ApplyAmountZero),
                Ok(v) => parsed_applies.push(Apply { to_number: a.to_number.trim_end().to_string(), amount_minor: v }),
                Err(AmountError::TooPrecise { digits }) => errors.push(GpError::TooPrecise {
                    property: "Extensions",
                    value: a.amount.clone(),
                    currency: currency.iso_code.clone(),
                    digits,
                }),
                Err(_) => errors.push(GpError::BadAmount { property: "Extensions", value: a.amount.clone() }),
            }
        }
        let applied_total: i64 = parsed_applies.iter().map(|a| a.amount_minor).sum();
        if applied_total > amounts.document {
            errors.push(GpError::ApplyExceedsDocument {
                total: format_minor(applied_total, currency.decimal_digits),
                available: format_minor(amounts.document, currency.decimal_digits),
            });
        }

        let (Some(number), Some(customer_id), Some(batch_id), true) =
            (number, customer_id, batch_id, errors.is_empty())
        else {
            return Err(OpError::Rejected(errors));
        };
        let now = now_timestamp();
        let doc = Document {
            doc_type,
            number,
            customer_name: customer.and_then(|c| c.name),
            customer_id,
            date: doc_date,
            batch_id,
            batch_source: doc_type.batch_source().to_string(),
            currency,
            amounts,
            remaining: amounts.document,
            description,
            po_number,
            checkbook_id,
            cash_type: is_cash.then(|| text(node, &["Type"]).unwrap_or_else(|| "Check".to_string())),
            check_number,
            distributions: node.get("Distributions").filter(|d| !d.is_nil()).cloned(),
            state: TxState::Work,
            created: now.clone(),
            modified: now,
        };
        self.insert_document(company, doc, &parsed_applies).await
    }

    /// The write itself, under SQLite's write lock: duplicate check, apply checks against the
    /// balances as they are now, batch creation, document and applies.
    async fn insert_document(&self, company: &Company, mut doc: Document, applies: &[Apply]) -> OpResult<Document> {
        let mut tx = self.db.begin_write().await?;
        let scope = (!self.rules.doc_number_unique_across_types).then_some(doc.doc_type);
        if crate::db::Db::doc_number_taken(&mut tx, company.id, &doc.number, scope).await? {
            return Err(GpError::DuplicateDocument { number: doc.number }.into());
        }
        let mut errors = Vec::new();
        for a in applies {
            let target = Db::balance_in_tx(&mut tx, company.id, DocType::Invoice, &a.to_number).await?;
            let Some((remaining, owner, currency_id, state)) = target else {
                errors.push(GpError::ApplyTargetMissing { number: a.to_number.clone() });
                continue;
            };
            let digits = doc.currency.decimal_digits;
            if state == TxState::Work && !self.rules.allow_apply_to_unposted {
                errors.push(GpError::ApplyTargetUnposted { number: a.to_number.clone() });
            } else if owner != doc.customer_id {
                errors.push(GpError::ApplyCustomer {
                    number: a.to_number.clone(),
                    owner,
                    customer: doc.customer_id.clone(),
                });
            } else if currency_id != doc.currency.currency_id {
                errors.push(GpError::ApplyCurrency {
                    number: a.to_number.clone(),
                    target: currency_id,
                    applying: doc.currency.currency_id.clone(),
                });
            } else if a.amount_minor > remaining {
                errors.push(GpError::ApplyExceedsBalance {
                    number: a.to_number.clone(),
                    amount: format_minor(a.amount_minor, digits),
                    remaining: format_minor(remaining, digits),
                });
            } else {
                // Later applies in the same request see the reduced balance.
                Db::apply(
                    &mut tx,
                    company.id,
                    (doc.doc_type, &doc.number),
                    (DocType::Invoice, &a.to_number),
                    a.amount_minor,
                )
                .await?;
            }
        }
        if !errors.is_empty() {
            return Err(OpError::Rejected(errors));
        }
        let checkbook = doc.checkbook_id.clone();
        Db::ensure_batch(&mut tx, company.id, &doc.batch_id, &doc.batch_source, checkbook.as_deref()).await?;
        doc.remaining -= applies.iter().map(|a| a.amount_minor).sum::<i64>();
        Db::insert_document(&mut tx, company.id, &doc).await?;
        tx.commit().await?;
        self.counters.document_written();
        Ok(doc)
    }

    pub async fn get_document(&self, company: &Company, doc_type: DocType, number: &str) -> OpResult<Option<Node>> {
        Ok(self.db.document(company.id, doc_type, number).await?.map(|d| objects::document(company.id, &d)))
    }

    pub async fn document_list(&self, company: &Company, criteria: Option<&Node>) -> OpResult<Node> {
        let crit = |name| criteria.and_then(|c| c.get(name));
        let items = self
            .db
            .documents(company.id)
            .await?
            .into_iter()
            .filter(|d| objects::string_restriction_matches(crit("DocumentId"), &d.number))
            .filter(|d| objects::string_restriction_matches(crit("CustomerId"), &d.customer_id))
            .filter(|d| objects::string_restriction_matches(crit("BatchId"), &d.batch_id))
            .filter(|d| objects::date_restriction_matches(crit("Date"), d.date))
            .filter(|d| {
                objects::enum_restriction_matches(crit("Type"), "ReceivablesDocumentType", d.doc_type.wsdl_name())
            })
            .filter(|d| {
                objects::enum_restriction_matches(
                    crit("TransactionState"),
                    "ReceivablesTransactionState",
                    d.state.wsdl_name(),
                )
            })
            .map(|d| objects::document_summary(company.id, &d))
            .collect::<Vec<_>>();
        Ok(Node::list("ReceivablesDocumentSummary", items))
    }

    // ---- batches ---------------------------------------------------------------------------

    pub async fn get_batch(&self, company: &Company, source: Option<&str>, id: &str) -> OpResult<Option<Node>> {
        let batches = self.db.batches(company.id).await?;
        Ok(batches
            .iter()
            .find(|b| b.id == id && source.is_none_or(|s| s.eq_ignore_ascii_case(&b.source)))
            .map(|b| objects::batch(company.id, b)))
    }

    pub async fn batch_list(&self, company: &Company, criteria: Option<&Node>) -> OpResult<Node> {
        let crit = |name| criteria.and_then(|c| c.get(name));
        let items = self
            .db
            .batches(company.id)
            .await?
            .iter()
            .filter(|b| objects::string_restriction_matches(crit("Id"), &b.id))
            .filter(|b| objects::string_restriction_matches(crit("Source"), &b.source))
            .map(|b| objects::batch(company.id, b))
            .collect::<Vec<_>>();
        Ok(Node::list("Batch", items))
    }
}

fn bool_restriction_matches(r: Option<&Node>, value: bool) -> bool {
    let Some(r) = r.filter(|r| !r.is_nil()) else {
        return true;
    };
    let b = |name| r.str_at(&[name]).map(|v| matches!(v, "true" | "1"));
    b("EqualValue").is_none_or(|x| x == value) && b("NotEqualValue").is_none_or(|x| x != value)
}

fn int_restriction_matches(r: Option<&Node>, value: i32) -> bool {
    let Some(r) = r.filter(|r| !r.is_nil()) else {
        return true;
    };
    let n = |name| r.str_at(&[name]).and_then(|v| v.trim().parse::<i32>().ok());
    n("EqualValue").is_none_or(|x| x == value)
        && n("NotEqualValue").is_none_or(|x| x != value)
        && n("From").is_none_or(|x| value >= x)
        && n("To").is_none_or(|x| value <= x)
        && n("GreaterThan").is_none_or(|x| value > x)
        && n("LessThan").is_none_or(|x| value < x)
}
