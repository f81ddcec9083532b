//! The set-up a GP administrator enters before an integration runs, seeded into every company:
//! a small chart of accounts, sales taxes, customer classes, payment terms, card names,
//! multicurrency rate tables; plus DYNAMICS' company list and error texts. Listed in README
//! ("Reference data").

use crate::date::Date;
use crate::db::{Db, SeedValue};
use crate::model::{Company, Currency};
use crate::rules::catalogue::CATALOGUE;

use SeedValue::{Int, Text};

/// GL00105: (ACTINDX, ACTNUMST, description).
pub const ACCOUNTS: &[(i64, &str, &str)] = &[
    (1, "000-1100-00", "Cash - Operating Account"),
    (2, "000-1200-00", "Accounts Receivable"),
    (3, "000-2310-00", "Sales Tax Payable"),
    (4, "000-4100-00", "Sales"),
    (5, "000-4110-00", "Sales - Subscriptions"),
    (6, "000-4200-00", "Freight Income"),
    (7, "000-4300-00", "Sales Discounts"),
    (8, "000-4900-00", "Sales Returns and Allowances"),
    (9, "000-7000-00", "Miscellaneous Expense / Rounding"),
];

/// The accounts GP's posting setup gives each distribution type when it builds a document's
/// distributions itself (CREATEDIST = 1): cash, receivables, taxes, sales, trade discount,
/// freight, misc, returns.
pub const ACCOUNT_CASH: i64 = 1;
pub const ACCOUNT_RECEIVABLES: i64 = 2;
pub const ACCOUNT_TAX: i64 = 3;
pub const ACCOUNT_SALES: i64 = 4;
pub const ACCOUNT_FREIGHT: i64 = 6;
pub const ACCOUNT_DISCOUNT: i64 = 7;
pub const ACCOUNT_RETURNS: i64 = 8;
pub const ACCOUNT_MISC: i64 = 9;

/// TX00201: (TAXDTLID, TXDTLPCT, ACTINDX).
pub const TAX_DETAILS: &[(&str, &str, i64)] = &[
    ("USASTCITY-6*", "6.00000", ACCOUNT_TAX),
    ("CA STATE", "7.25000", ACCOUNT_TAX),
    ("EU VAT 20", "20.00000", ACCOUNT_TAX),
    ("EU VAT 0", "0.00000", ACCOUNT_TAX),
    ("CA COUNTY", "0.25000", ACCOUNT_TAX),
    ("CA CITY", "1.00000", ACCOUNT_TAX),
    ("US SALES", "6.25000", ACCOUNT_TAX),
    ("JP JCT 10", "10.00000", ACCOUNT_TAX),
    ("CA GSTHST", "13.00000", ACCOUNT_TAX),
    ("AU GST 10", "10.00000", ACCOUNT_TAX),
];

/// TX00101 / TX00102: (TAXSCHID, its details).
pub const TAX_SCHEDULES: &[(&str, &[&str])] = &[
    ("USASTCITY-6*", &["USASTCITY-6*"]),
    ("CA STATE", &["CA STATE"]),
    ("EU VAT 20", &["EU VAT 20"]),
    ("EU VAT", &["EU VAT 0", "EU VAT 20"]),
    ("USALLCA", &["CA STATE", "CA COUNTY", "CA CITY", "US SALES"]),
];

/// RM00201 customer classes.
pub const CLASSES: &[&str] = &["USA-ILMO-T1", "USA-ULARGE-T1", "CANADA", "EUROPE", "INTERNET"];

/// SY03300: (PYMTRMID, due days).
pub const PAYMENT_TERMS: &[(&str, i64)] =
    &[("Net 30", 30), ("Net 15", 15), ("Net 60", 60), ("Due on Receipt", 0), ("2% 10/Net 30", 30)];

/// SY03100 card names.
pub const CARDS: &[&str] = &["VISA", "MasterCard", "AMEX", "Discover"];

/// The INTERID a company added without one gets: the first five letters/digits of its name.
pub fn derive_interid(company: &Company) -> String {
    let id: String = company.name.chars().filter(char::is_ascii_alphanumeric).take(5).collect();
    if id.is_empty() { format!("C{}", company.id.unsigned_abs()) } else { id.to_uppercase() }
}

/// The DYNAMICS rows (error texts) — once per database.
pub async fn system(db: &Db) -> anyhow::Result<()> {
    for e in CATALOGUE {
        let sql = "INSERT OR REPLACE INTO ta_error_code (errorcode, sourceproc, errordesc) VALUES (?, ?, ?)";
        db.seed_row(sql, &[Int(i64::from(e.number)), Text(e.source), Text(e.text)]).await?;
    }
    Ok(())
}

/// One company's set-up.
pub async fn company(db: &Db, company: &Company, interid: &str, currencies: &[Currency]) -> anyhow::Result<()> {
    let id = Int(i64::from(company.id));
    let sql = "INSERT OR REPLACE INTO sy01500 (cmpanyid, interid, cmpnynam) VALUES (?, ?, ?)";
    db.seed_row(sql, &[id, Text(interid), Text(&company.name)]).await?;
    for &(index, number, description) in ACCOUNTS {
        let sql = "INSERT OR IGNORE INTO gl00105 (company_id, actindx, actnumst, actdescr) VALUES (?, ?, ?, ?)";
        db.seed_row(sql, &[id, Int(index), Text(number), Text(description)]).await?;
    }
    taxes(db, id).await?;
    for class in CLASSES {
        let sql = "INSERT OR IGNORE INTO rm00201 (company_id, classid, clasdscr) VALUES (?, ?, ?)";
        db.seed_row(sql, &[id, Text(class), Text(class)]).await?;
    }
    for &(terms, days) in PAYMENT_TERMS {
        let sql = "INSERT OR IGNORE INTO sy03300 (company_id, pymtrmid, duedays) VALUES (?, ?, ?)";
        db.seed_row(sql, &[id, Text(terms), Int(days)]).await?;
    }
    for card in CARDS {
        let sql = "INSERT OR IGNORE INTO sy03100 (company_id, cardname, actindx) VALUES (?, ?, ?)";
        db.seed_row(sql, &[id, Text(card), Int(ACCOUNT_CASH)]).await?;
    }
    multicurrency(db, company, currencies).await
}

async fn taxes(db: &Db, id: SeedValue<'_>) -> anyhow::Result<()> {
    for &(detail, percent, account) in TAX_DETAILS {
        let sql = "INSERT OR IGNORE INTO tx00201 (company_id, taxdtlid, txdtlpct, actindx) VALUES (?, ?, ?, ?)";
        db.seed_row(sql, &[id, Text(detail), Text(percent), Int(account)]).await?;
    }
    for &(schedule, details) in TAX_SCHEDULES {
        let sql = "INSERT OR IGNORE INTO tx00101 (company_id, taxschid, txschdsc) VALUES (?, ?, ?)";
        db.seed_row(sql, &[id, Text(schedule), Text(schedule)]).await?;
        for detail in details {
            let sql = "INSERT OR IGNORE INTO tx00102 (company_id, taxschid, taxdtlid) VALUES (?, ?, ?)";
            db.seed_row(sql, &[id, Text(schedule), Text(detail)]).await?;
        }
    }
    Ok(())
}

/// MC40000 (functional currency, Sales rate type SELL); per other currency a SELL rate table
/// with rates (`Z-C$`: only this year's, so next year has none) and a BUY table with no rates.
async fn multicurrency(db: &Db, company: &Company, currencies: &[Currency]) -> anyhow::Result<()> {
    let id = Int(i64::from(company.id));
    let sql = "INSERT OR REPLACE INTO mc40000 (company_id, funlcurr, defslstp) VALUES (?, ?, 'SELL')";
    db.seed_row(sql, &[id, Text(&company.functional_currency)]).await?;
    let year = Date::today().year;
    for c in currencies.iter().filter(|c| c.currency_id != company.functional_currency) {
        for rate_type in ["SELL", "BUY"] {
            let table = format!("{} {rate_type}", c.currency_id);
            let sql = "INSERT OR IGNORE INTO mc40301 (company_id, curncyid, ratetpid, exgtblid) VALUES (?, ?, ?, ?)";
            db.seed_row(sql, &[id, Text(&c.currency_id), Text(rate_type), Text(&table)]).await?;
        }
        let table = format!("{} SELL", c.currency_id);
        let (from, to) = match c.currency_id.as_str() {
            "Z-C$" => (format!("{year}-01-01"), format!("{year}-12-31")),
            _ => (format!("{}-01-01", year - 2), "1900-01-01".to_string()),
        };
        let sql =
            "INSERT OR IGNORE INTO mc00100 (exgtblid, curncyid, exchdate, xchgrate, expndate) VALUES (?, ?, ?, ?, ?)";
        let rate = sample_rate(&c.iso_code);
        db.seed_row(sql, &[Text(&table), Text(&c.currency_id), Text(&from), Text(rate), Text(&to)]).await?;
    }
    Ok(())
}

/// A plausible SELL rate into US dollars.
fn sample_rate(iso: &str) -> &'static str {
    match iso {
        "EUR" => "1.0850000",
        "GBP" => "1.2700000",
        "JPY" => "0.0067000",
        "CAD" => "0.7300000",
        _ => "1.0000000",
    }
}
