//! SBA request bodies: `{"Payload": <WSDL object>}` with members in WSDL order (as on SOAP),
//! amounts as JSON numbers written from integers. INFERRED (see `sba`): the members are the GP
//! Web Services object model's (`GeneralLedgerPostingDate` included).

use ml_connector_sdk::money::{exponent, to_decimal};
use serde_json::Value;

use crate::model::{Doc, DocKind, Owned, Party};
use crate::transport::Theirs;

/// A JSON value written in a fixed member order with decimals as written (no float round trip).
/// A JSON value written in a fixed member order with decimals as written (no float round trip).
#[derive(Debug, Clone)]
pub enum Json {
    Str(String),
    /// A JSON number, as its decimal text.
    Num(String),
    Obj(Vec<(&'static str, Json)>),
    Arr(Vec<Json>),
    /// A value as GP sent it (members of GP's copy sent back on an update).
    Raw(Value),
}

impl Json {
    fn write(&self, out: &mut String) {
        match self {
            Json::Str(s) => out.push_str(&Value::String(s.clone()).to_string()),
            Json::Num(n) => out.push_str(n),
            Json::Obj(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String((*k).to_string()).to_string());
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
            Json::Raw(v) => out.push_str(&v.to_string()),
            Json::Arr(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
        }
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

pub(crate) fn s(v: &str) -> Json {
    Json::Str(v.to_string())
}

pub(crate) fn key(id: &str) -> Json {
    Json::Obj(vec![("Id", s(id))])
}

pub(crate) fn money(minor: i64, currency: &str) -> Json {
    Json::Obj(vec![
        ("Value", Json::Num(to_decimal(minor, currency))),
        ("DecimalDigits", Json::Num(exponent(currency).to_string())),
    ])
}

/// An amount where the WSDL declares the abstract `Amount` (a distribution's debit and credit):
/// the concrete `MoneyAmount` named by `$type`, as SOAP names it with `xsi:type`.
fn typed_money(minor: i64, currency: &str) -> Json {
    match money(minor, currency) {
        Json::Obj(members) => Json::Obj([vec![("$type", s("MoneyAmount"))], members].concat()),
        other => other,
    }
}

pub(crate) fn date(d: &str) -> Json {
    s(&format!("{d}T00:00:00"))
}

/// A decimal text as a JSON number when it is one, else as a string (never raw text).
fn decimal(v: &str) -> Json {
    let t = v.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let ok = !int.is_empty() && !frac.is_empty() && int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit());
    if ok { Json::Num(t.to_string()) } else { s(t) }
}

fn id_key(id: &str) -> Json {
    key(id)
}

/// The owned fields of a customer address (GP's PRIMARY address).
fn address_members(c: &Party, changes: &[Owned]) -> Vec<(&'static str, Json)> {
    let mut m = Vec::new();
    if changes.contains(&Owned::Address)
        && let Some(a) = &c.address
    {
        for (name, v) in [
            ("Line1", &a.line1),
            ("Line2", &a.line2),
            ("City", &a.city),
            ("State", &a.state),
            ("PostalCode", &a.zip),
            ("CountryRegion", &a.country),
        ] {
            m.push((name, s(v.as_deref().unwrap_or_default())));
        }
    }
    if changes.contains(&Owned::Phone)
        && let Some(p) = &c.phone
    {
        m.push(("Phone1", Json::Obj(vec![("Value", s(p))])));
    }
    if changes.contains(&Owned::Email)
        && let Some(e) = &c.email
    {
        m.push(("InternetAddresses", Json::Obj(vec![("EmailToAddress", s(e))])));
    }
    m
}

fn primary(c: &Party, changes: &[Owned]) -> Json {
    let mut m = address_members(c, changes);
    m.push(("Key", Json::Obj(vec![("CustomerKey", key(&c.id)), ("Id", s(crate::soap::customer::PRIMARY))])));
    Json::Obj(m)
}

/// GP's addresses (from its copy) with our members set on the PRIMARY one: SBA replaces the
/// `Addresses` member as a whole, so the others go back as read.
fn addresses(c: &Party, theirs: &Value, changes: &[Owned]) -> Json {
    let mut list: Vec<Value> = theirs.get("Addresses").and_then(Value::as_array).cloned().unwrap_or_default();
    let ours: Value = serde_json::from_str(&Json::Obj(address_members(c, changes)).text()).unwrap_or_default();
    let is_primary = |a: &Value| {
        a.pointer("/Key/Id").and_then(Value::as_str).is_some_and(|id| id.trim() == crate::soap::customer::PRIMARY)
    };
    match (list.iter_mut().find(|a| is_primary(a)), ours.as_object()) {
        (Some(Value::Object(a)), Some(members)) => {
            for (k, v) in members {
                a.insert(k.clone(), v.clone());
            }
        }
        _ => return Json::Arr(list.into_iter().map(Json::Raw).chain([primary(c, changes)]).collect()),
    }
    Json::Arr(list.into_iter().map(Json::Raw).collect())
}

/// Create: every member we own. Update (PATCH: members sent replace, others stay): the key and
/// the owned members that changed, nothing else.
pub fn customer_payload(c: &Party, theirs: Option<(&Value, &[Owned])>) -> Json {
    let all = [Owned::Name, Owned::Class, Owned::Terms, Owned::Currency, Owned::Email, Owned::Phone, Owned::Address];
    let changes: &[Owned] = theirs.map(|t| t.1).unwrap_or(&all);
    let has = |o: Owned| changes.contains(&o);
    let mut m = vec![("Key", key(&c.id))];
    if has(Owned::Name) {
        m.push(("Name", s(&c.name)));
    }
    if theirs.is_none()
        && let Some(short) = &c.short_name
    {
        m.push(("Shortname", s(short)));
    }
    if has(Owned::Class)
        && let Some(class) = &c.class_id
    {
        m.push(("ClassKey", id_key(class)));
    }
    if has(Owned::Terms)
        && let Some(terms) = &c.payment_terms
    {
        m.push(("PaymentTermsKey", id_key(terms)));
    }
    if has(Owned::Currency) {
        m.push(("CurrencyKey", Json::Obj(vec![("ISOCode", s(&c.currency))])));
    }
    let touches_address = [Owned::Email, Owned::Phone, Owned::Address].iter().any(|o| has(*o));
    match theirs {
        Some((v, _)) if touches_address => m.push(("Addresses", addresses(c, v, changes))),
        None if c.email.is_some() || c.phone.is_some() || c.address.is_some() => {
            m.push(("Addresses", Json::Arr(vec![primary(c, changes)])))
        }
        _ => {}
    }
    Json::Obj(vec![("Payload", Json::Obj(m))])
}

/// The update payload from GP's copy (`theirs.raw`, an SBA GET answer).
pub fn customer_update(c: &Party, theirs: &Theirs, changes: &[Owned]) -> Result<Json, String> {
    let v = super::payload(&theirs.raw)?;
    Ok(customer_payload(c, Some((&v, changes))))
}

fn distributions(d: &Doc) -> Option<Json> {
    (!d.distributions.is_empty()).then(|| {
        Json::Arr(
            d.distributions
                .iter()
                .map(|r| {
                    let mut m = vec![(
                        "DistributionTypeKey",
                        Json::Obj(vec![("Id", Json::Num(r.kind.disttype_on(d.kind).to_string()))]),
                    )];
                    if let Some(reference) = &r.reference {
                        m.push(("Reference", s(reference)));
                    }
                    m.push(("GLAccountKey", gl_account(&r.account)));
                    m.push(("DebitAmount", typed_money(r.debit, &d.currency)));
                    m.push(("CreditAmount", typed_money(r.credit, &d.currency)));
                    Json::Obj(m)
                })
                .collect(),
        )
    })
}

fn gl_account(number: &str) -> Json {
    Json::Obj(vec![("Id", s(number)), ("IsEncrypted", Json::Num("false".into()))])
}

fn taxes(d: &Doc) -> Option<Json> {
    (!d.taxes.is_empty()).then(|| {
        Json::Arr(
            d.taxes
                .iter()
                .map(|t| {
                    let mut m = vec![
                        ("TaxAmount", money(t.amount, &d.currency)),
                        ("TaxableAmount", money(t.taxable, &d.currency)),
                        ("IsBackoutTax", Json::Num("false".into())),
                        ("Key", Json::Obj(vec![("TaxDetailKey", key(&t.id))])),
                        ("SalesTaxAmount", money(t.amount, &d.currency)),
                    ];
                    if let Some(a) = &t.account {
                        m.push(("GLAccountKey", gl_account(a)));
                    }
                    Json::Obj(m)
                })
                .collect(),
        )
    })
}

fn exchange(d: &Doc, m: &mut Vec<(&'static str, Json)>) {
    if let Some(x) = &d.exchange {
        m.push(("ExchangeRate", decimal(&x.rate)));
        m.push(("ExchangeDate", date(&x.date)));
    }
}

/// `{"Payload": <document>}`, members in WSDL order as on SOAP.
pub fn document_body(d: &Doc) -> Json {
    let cur = &d.currency;
    let batch = ("BatchKey", key(&d.batch));
    let customer = ("CustomerKey", key(&d.customer));
    let currency = ("CurrencyKey", Json::Obj(vec![("ISOCode", s(cur))]));
    let mut m: Vec<(&'static str, Json)> = Vec::new();
    let gl_date = ("GeneralLedgerPostingDate", date(d.posting_date()));
    match d.kind {
        DocKind::Invoice | DocKind::CreditMemo | DocKind::DebitMemo => {
            m.push(("Key", key(&d.number)));
            m.push(("Date", date(&d.date)));
            m.push(("DocumentAmount", money(d.total, cur)));
            m.push(("SalesAmount", money(d.sales, cur)));
            if let Some(desc) = &d.description {
                m.push(("Description", s(desc)));
            }
            if let Some(po) = &d.po {
                m.push(("CustomerPONumber", s(po)));
            }
            for (name, v) in
                [("TradeDiscountAmount", d.discount), ("FreightAmount", d.freight), ("MiscellaneousAmount", d.misc)]
            {
                if v != 0 {
                    m.push((name, money(v, cur)));
                }
            }
            m.push(("TaxAmount", money(d.tax, cur)));
            exchange(d, &mut m);
            m.extend([gl_date, batch, customer]);
            if let Some(schedule) = &d.tax_schedule {
                m.push(("TaxScheduleKey", key(schedule)));
            }
            m.push(currency);
            m.extend(taxes(d).map(|t| ("Taxes", t)));
        }
        DocKind::CashReceipt => {
            m.push(customer);
            m.push(("Key", key(&d.number)));
            if let Some(n) = &d.check_number {
                m.push(("CheckCardNumber", s(n)));
            }
            if let Some(card) = &d.card_name {
                m.push(("PaymentCardTypeKey", key(card)));
            }
            m.push(batch);
            m.push(("Type", s(&d.receipt_type)));
            if let Some(cb) = &d.checkbook {
                m.push(("BankAccountKey", key(cb)));
            }
            m.push(("Date", date(&d.date)));
            m.push(gl_date);
            m.push(("Amount", money(d.total, cur)));
            if let Some(desc) = &d.description {
                m.push(("Description", s(desc)));
            }
            m.push(currency);
            exchange(d, &mut m);
        }
    }
    m.extend(distributions(d).map(|x| ("Distributions", x)));
    Json::Obj(vec![("Payload", Json::Obj(m))])
}
