//! taRMApply (a credit document applied to a debit document) and taRMVoidTransaction (a
//! credit document marked voided).

use sqlx::Row;

use super::Ctx;
use super::params::Args;
use crate::db::{Db, Tx};
use crate::model::{DocType, TxState};
use crate::money::format_minor;
use crate::rules::GpError;
use crate::service::{OpError, OpResult};

/// The document types eConnect applies from and to that the emulator stores.
fn doc_type(rmdtypal: i64, allowed: &[i64], procedure: &'static str) -> Result<DocType, GpError> {
    DocType::from_rmdtypal(rmdtypal)
        .filter(|_| allowed.contains(&rmdtypal))
        .ok_or(GpError::DocTypeInvalid { rmdtypal, procedure })
}

/// Same customer, same currency, amount > 0 and within both documents' remaining amounts;
/// the apply-to document posted unless `allow_apply_to_unposted`.
pub(super) async fn apply(ctx: &Ctx<'_>, tx: &mut Tx, args: &Args) -> OpResult<()> {
    let mut errors = Vec::new();
    let from_type = args.int("APFRDCTY", &mut errors).unwrap_or(0);
    let to_type = args.int("APTODCTY", &mut errors).unwrap_or(0);
    let from_type = doc_type(from_type, &[7, 8, 9], "taRMApply (APFRDCTY)")?;
    let to_type = doc_type(to_type, &[1, 3, 4, 5, 6], "taRMApply (APTODCTY)")?;
    let from_number = args.text("APFRDCNM", &mut errors).unwrap_or_default();
    let to_number = args.text("APTODCNM", &mut errors).unwrap_or_default();
    let company = ctx.company.id;
    let from = Db::balance_in_tx(tx, company, from_type, &from_number).await?;
    let Some((available, customer, currency_id, _)) = from else {
        return Err(GpError::NotFound { kind: from_type.label(), id: from_number }.into());
    };
    let Some((remaining, owner, target_currency, state)) = Db::balance_in_tx(tx, company, to_type, &to_number).await?
    else {
        return Err(GpError::ApplyTargetMissing { number: to_number }.into());
    };
    let digits = match ctx.service.db.currency(company, &currency_id).await? {
        Some(c) => c.decimal_digits,
        None => 2,
    };
    let amount = args.amount("APPTOAMT", digits, &mut errors).unwrap_or(0);
    let number = to_number.clone();
    if state == TxState::Work && !ctx.service.rules.allow_apply_to_unposted {
        errors.push(GpError::ApplyTargetUnposted { number });
    } else if owner != customer {
        errors.push(GpError::ApplyCustomer { number, owner, customer });
    } else if target_currency != currency_id {
        errors.push(GpError::ApplyCurrency { number, target: target_currency, applying: currency_id });
    } else if amount <= 0 {
        errors.push(GpError::ApplyAmountZero);
    } else if amount > remaining {
        let (amount, remaining) = (format_minor(amount, digits), format_minor(remaining, digits));
        errors.push(GpError::ApplyExceedsBalance { number, amount, remaining });
    } else if amount > available {
        let (total, available) = (format_minor(amount, digits), format_minor(available, digits));
        errors.push(GpError::ApplyExceedsDocument { total, available });
    }
    if !errors.is_empty() {
        return Err(OpError::Rejected(errors));
    }
    Db::apply(tx, company, (from_type, &from_number), (to_type, &to_number), amount).await?;
    Ok(())
}

/// Marks a credit memo or cash receipt voided (VOIDSTTS, VOIDDATE); minimal: no reversing
/// distributions and no unapply.
pub(super) async fn void(ctx: &Ctx<'_>, tx: &mut Tx, args: &Args) -> OpResult<()> {
    let mut errors = Vec::new();
    let rmdtypal = args.int("RMDTYPAL", &mut errors).unwrap_or(0);
    let doc_type = doc_type(rmdtypal, &[7, 8, 9], "taRMVoidTransaction")?;
    let number = args.text("DOCNUMBR", &mut errors).unwrap_or_default();
    let customer = args.text("CUSTNMBR", &mut errors).unwrap_or_default();
    let status = args.int("VOIDSTTS", &mut errors).unwrap_or(1).max(1);
    let date = args.date("VOIDDATE", &mut errors);
    let company = ctx.company.id;
    match Db::balance_in_tx(tx, company, doc_type, &number).await? {
        Some((_, owner, _, _)) if owner == customer => {}
        _ => errors.push(GpError::NotFound { kind: doc_type.label(), id: number.clone() }),
    }
    let voided =
        sqlx::query("SELECT voidstts FROM rm_document_ext WHERE company_id = ? AND rmdtypal = ? AND docnumbr = ?")
            .bind(company)
            .bind(rmdtypal)
            .bind(&number)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get::<i64, _>("voidstts"))
            .transpose()?
            .unwrap_or(0);
    if voided != 0 {
        errors.push(GpError::AlreadyVoided { number: number.clone() });
    }
    if !errors.is_empty() {
        return Err(OpError::Rejected(errors));
    }
    sqlx::query(
        "INSERT INTO rm_document_ext (company_id, rmdtypal, docnumbr, voidstts, voiddate) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (company_id, rmdtypal, docnumbr) DO UPDATE SET voidstts = excluded.voidstts, voiddate = excluded.voiddate",
    )
    .bind(company)
    .bind(rmdtypal)
    .bind(&number)
    .bind(status)
    .bind(date.map(|d| d.iso()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
