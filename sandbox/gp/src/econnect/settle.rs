//! taRMApply, taRMVoidTransaction and taCreateUpdateBatchHeaderRcd: the parameters read here,
//! the rules in [`crate::service::settle`] (shared with SOAP and SBA) and the batch header
//! checks below.

use super::Ctx;
use super::params::Args;
use crate::db::{BatchHeader, Db, Tx};
use crate::model::DocType;
use crate::rules::{GpError, len};
use crate::service::settle::{ApplyOrder, VoidOrder, apply_from_type, apply_to_type};
use crate::service::{OpError, OpResult, Service};

/// A document type eConnect names by RMDTYPAL that the emulator stores and `allowed` takes;
/// 4, 5, 6 and 8 are valid for GP but not emulated: refused the same way (9042).
fn doc_type(rmdtypal: i64, allowed: fn(DocType) -> bool, procedure: &'static str) -> Result<DocType, GpError> {
    DocType::from_rmdtypal(rmdtypal).filter(|t| allowed(*t)).ok_or(GpError::DocTypeInvalid { rmdtypal, procedure })
}

pub(super) async fn apply(ctx: &Ctx<'_>, tx: &mut Tx, args: &Args) -> OpResult<()> {
    let mut errors = Vec::new();
    let from_type = doc_type(args.int("APFRDCTY", &mut errors).unwrap_or(0), apply_from_type, "taRMApply (APFRDCTY)")?;
    let to_type = doc_type(args.int("APTODCTY", &mut errors).unwrap_or(0), apply_to_type, "taRMApply (APTODCTY)")?;
    let from_number = args.text("APFRDCNM", &mut errors).unwrap_or_default();
    let to_number = args.text("APTODCNM", &mut errors).unwrap_or_default();
    // Amounts in the applying document's currency (its digits; 2 if it does not exist: the
    // apply is refused for that anyway).
    let company = ctx.company.id;
    let currency = match Db::balance_in_tx(tx, company, from_type, &from_number).await? {
        Some(b) => ctx.service.db.currency(company, &b.currency_id).await?,
        None => None,
    };
    let digits = currency.map_or(2, |c| c.decimal_digits);
    let order = ApplyOrder {
        from: (from_type, from_number),
        to: (to_type, to_number),
        amount: args.amount("APPTOAMT", digits, &mut errors).unwrap_or(0),
        write_off: args.amount("WROFAMNT", digits, &mut errors).unwrap_or(0),
        date: args.date("APPLYDATE", &mut errors),
        posting_date: args.date("GLPOSTDT", &mut errors),
    };
    if !errors.is_empty() {
        return Err(OpError::Rejected(errors));
    }
    ctx.service.apply_in_tx(tx, ctx.company, &order).await
}

pub(super) async fn void(ctx: &Ctx<'_>, tx: &mut Tx, args: &Args) -> OpResult<()> {
    let mut errors = Vec::new();
    let rmdtypal = args.int("RMDTYPAL", &mut errors).unwrap_or(0);
    let doc_type = doc_type(rmdtypal, apply_from_type, "taRMVoidTransaction")?;
    let order = VoidOrder {
        doc_type,
        number: args.text("DOCNUMBR", &mut errors).unwrap_or_default(),
        customer: Some(args.text("CUSTNMBR", &mut errors).unwrap_or_default()),
        status: args.int("VOIDSTTS", &mut errors).unwrap_or(0),
        date: args.date("VOIDDATE", &mut errors),
        posting_date: args.date("GLPOSTDT", &mut errors),
    };
    if !errors.is_empty() {
        return Err(OpError::Rejected(errors));
    }
    ctx.service.void_in_tx(tx, ctx.company, &order).await
}

/// taCreateUpdateBatchHeaderRcd: a Receivables batch (SERIES 3; BCHSOURC `RM_Sales` with
/// ORIGIN 1 transaction entry, or `RM_Cash` with ORIGIN 2 cash receipts entry) created, or
/// updated with the members given. DOCAMT and NUMOFTRX are control totals GP recomputes from
/// the documents (INFERRED): read, not kept. A batch being posted is refused alone (9046).
pub(super) async fn batch_header(ctx: &Ctx<'_>, tx: &mut Tx, args: &Args) -> OpResult<()> {
    let mut errors = Vec::new();
    let id = args.text("BACHNUMB", &mut errors).unwrap_or_default();
    crate::rules::max_len(&mut errors, "BACHNUMB", "BACHNUMB", Some(&id), len::BACHNUMB);
    let source = args.text("BCHSOURC", &mut errors).unwrap_or_default();
    let series = args.int("SERIES", &mut errors).unwrap_or(0);
    let origin = args.int("ORIGIN", &mut errors).unwrap_or(0);
    if series != 3 {
        errors.push(GpError::BatchHeaderInvalid { field: "SERIES", value: series.to_string(), expected: "3 (Sales)" });
    }
    let wanted_origin = match source.as_str() {
        "RM_Sales" => Some(1),
        "RM_Cash" => Some(2),
        _ => {
            let expected = "RM_Sales or RM_Cash";
            errors.push(GpError::BatchHeaderInvalid { field: "BCHSOURC", value: source.clone(), expected });
            None
        }
    };
    if wanted_origin.is_some_and(|o| o != origin) {
        let expected = "1 (transaction entry) for RM_Sales, 2 (cash receipts entry) for RM_Cash";
        errors.push(GpError::BatchHeaderInvalid { field: "ORIGIN", value: origin.to_string(), expected });
    }
    let _control_totals =
        (args.decimal("DOCAMT"), args.int("NUMOFTRX", &mut errors), args.int("POSTTOGL", &mut errors));
    let checkbook = args.text("CHEKBKID", &mut errors);
    if let Some(cb) = &checkbook
        && ctx.service.db.checkbook(ctx.company.id, cb).await?.is_none()
    {
        errors.push(GpError::CheckbookMissing { id: cb.clone() });
    }
    let header = BatchHeader {
        comment: args.text("BCHCOMNT", &mut errors),
        posting_date: args.date("GLPOSTDT", &mut errors),
        origin,
        checkbook,
        id,
        source,
    };
    if Service::batch_busy(tx, ctx.company.id, &header.id, &header.source).await? {
        return Err(GpError::BatchBusy { id: header.id }.into());
    }
    if !errors.is_empty() {
        return Err(OpError::Rejected(errors));
    }
    Db::upsert_batch_header(tx, ctx.company.id, &header).await?;
    Ok(())
}
