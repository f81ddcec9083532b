//! Set-up data: what a GP administrator would have configured before an integration runs.

use crate::date::Date;
use crate::db::Db;
use crate::model::{Checkbook, Company, Currency};

/// One company and its multicurrency and bank set-up.
#[derive(Debug, Clone)]
pub struct CompanySeed {
    pub company: Company,
    /// The company database name (SY01500 INTERID) eConnect logs into, e.g. `TWO`.
    pub interid: String,
    pub currencies: Vec<Currency>,
    pub checkbooks: Vec<Checkbook>,
}

/// A fiscal year of twelve monthly periods, with its Sales series open or closed.
#[derive(Debug, Clone, Copy)]
pub struct FiscalYearSeed {
    pub year: i32,
    pub closed: bool,
}

#[derive(Debug, Clone)]
pub struct SeedData {
    pub companies: Vec<CompanySeed>,
    /// Applied to every company.
    pub fiscal_years: Vec<FiscalYearSeed>,
}

fn currency(id: &str, iso: &str, digits: u32) -> Currency {
    Currency { currency_id: id.to_string(), iso_code: iso.to_string(), decimal_digits: digits }
}

fn checkbook(id: &str, currency_id: &str, description: &str) -> Checkbook {
    Checkbook { id: id.to_string(), currency_id: currency_id.to_string(), description: description.to_string() }
}

impl Default for SeedData {
    /// Fabrikam (id -1, database `TWO`, as in Microsoft's samples) with USD/EUR/JPY/CAD, and a company whose name
    /// has parens (SBA paths must cope); last year closed, this year and next open.
    fn default() -> Self {
        let year = Date::today().year;
        SeedData {
            companies: vec![
                CompanySeed {
                    company: Company {
                        id: -1,
                        name: "Fabrikam, Inc.".into(),
                        functional_currency: "Z-US$".into(),
                        default_checkbook: Some("UPTOWN TRUST".into()),
                    },
                    interid: "TWO".into(),
                    currencies: vec![
                        currency("Z-US$", "USD", 2),
                        currency("Z-EURO", "EUR", 2),
                        currency("Z-YEN", "JPY", 0),
                        currency("Z-C$", "CAD", 2),
                    ],
                    checkbooks: vec![
                        checkbook("UPTOWN TRUST", "Z-US$", "Uptown Trust operating account"),
                        checkbook("EURO BANK", "Z-EURO", "Euro receipts"),
                        checkbook("TOKYO BANK", "Z-YEN", "Yen receipts"),
                    ],
                },
                CompanySeed {
                    company: Company {
                        id: 2,
                        name: "Contoso (Bermuda) Ltd.".into(),
                        functional_currency: "Z-US$".into(),
                        default_checkbook: Some("FIRST BANK".into()),
                    },
                    interid: "CBM".into(),
                    currencies: vec![currency("Z-US$", "USD", 2), currency("Z-UK", "GBP", 2)],
                    checkbooks: vec![
                        checkbook("FIRST BANK", "Z-US$", "First Bank"),
                        checkbook("LONDON BANK", "Z-UK", "Sterling receipts"),
                    ],
                },
            ],
            fiscal_years: vec![
                FiscalYearSeed { year: year - 1, closed: true },
                FiscalYearSeed { year, closed: false },
                FiscalYearSeed { year: year + 1, closed: false },
            ],
        }
    }
}

pub async fn add_company(
    db: &Db,
    company: &Company,
    interid: &str,
    currencies: &[Currency],
    checkbooks: &[Checkbook],
) -> anyhow::Result<()> {
    db.insert_company(company).await?;
    crate::reference::company(db, company, interid, currencies).await?;
    for c in currencies {
        db.insert_currency(company.id, c).await?;
    }
    for c in checkbooks {
        db.insert_checkbook(company.id, c).await?;
    }
    Ok(())
}

pub async fn add_fiscal_year(db: &Db, company: i32, year: i32, closed: bool) -> anyhow::Result<()> {
    for month in 1..=12u32 {
        let start = Date::new(year, month, 1).ok_or_else(|| anyhow::anyhow!("bad fiscal year {year}"))?;
        let end = (28..=31)
            .rev()
            .find_map(|d| Date::new(year, month, d))
            .ok_or_else(|| anyhow::anyhow!("bad fiscal year {year}"))?;
        db.insert_period(company, year, month, start, end, closed).await?;
    }
    Ok(())
}

pub async fn apply(db: &Db, seed: &SeedData) -> anyhow::Result<()> {
    crate::reference::system(db).await?;
    for c in &seed.companies {
        add_company(db, &c.company, &c.interid, &c.currencies, &c.checkbooks).await?;
        for y in &seed.fiscal_years {
            add_fiscal_year(db, c.company.id, y.year, y.closed).await?;
        }
    }
    Ok(())
}
