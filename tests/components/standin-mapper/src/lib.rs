//! Stand-in mapper for host tests: an invoice becomes its GP customer plus a receivables invoice.
//! The `v2` build maps differently (description and number prefix) so a swap is observable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ml_connector_sdk::mapper::exports::ml_connector::plugin::mapper_api::{Guest, MappingError};
use ml_connector_sdk::mapper::ml_connector::plugin::types::*;

const VERSION: &str = if cfg!(feature = "v2") { "v2" } else { "v1" };

struct StandinMapper;

fn setting<'a>(settings: &'a [(String, String)], key: &str) -> Option<&'a str> {
    settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

impl Guest for StandinMapper {
    fn map(rec: SourceRecord, settings: Vec<(String, String)>) -> Result<Vec<LedgerDoc>, MappingError> {
        let prefix = setting(&settings, "doc_prefix").unwrap_or("CB");
        let prefix = if cfg!(feature = "v2") { format!("{prefix}2") } else { prefix.to_string() };
        match rec.body {
            RecordBody::Customer(c) => Ok(vec![LedgerDoc::Customer(GpCustomer {
                id: c.id.to_uppercase(),
                source_id: c.id.clone(),
                name: c.company.unwrap_or_else(|| c.id.clone()),
                short_name: None,
                email: c.email,
                phone: None,
                currency_id: c.currency.clone().unwrap_or_else(|| "USD".into()),
                currency: c.currency.unwrap_or_else(|| "USD".into()),
                class_id: None,
                payment_terms: None,
                address: None,
            })]),
            RecordBody::Invoice(inv) => {
                if inv.currency.len() != 3 {
                    return Err(MappingError {
                        field: "invoice.currency".into(),
                        message: format!("{:?} is not an ISO currency code", inv.currency),
                    });
                }
                let customer = GpCustomer {
                    id: inv.customer_id.to_uppercase(),
                    source_id: inv.customer_id.clone(),
                    name: inv.customer_id.clone(),
                    short_name: None,
                    email: None,
                    phone: None,
                    currency: inv.currency.clone(),
                    currency_id: inv.currency.clone(),
                    class_id: None,
                    payment_terms: None,
                    address: None,
                };
                let doc = ReceivablesInvoice {
                    number: format!("{prefix}-{}", inv.id),
                    customer_id: inv.customer_id.to_uppercase(),
                    customer_source_id: inv.customer_id.clone(),
                    batch: BatchKey { source: "RM_Sales".into(), id: "CB-STANDIN".into() },
                    date: inv.date,
                    currency_id: inv.currency.clone(),
                    exchange: None,
                    currency: inv.currency,
                    sales: inv.sub_total,
                    trade_discount: inv.discount,
                    freight: 0,
                    misc: 0,
                    tax: inv.tax,
                    total: inv.total,
                    description: Some(format!("mapped by standin-mapper {VERSION}")),
                    customer_po: inv.po_number,
                    distributions: vec![],
                    tax_schedule: None,
                    tax_details: vec![],
                };
                Ok(vec![LedgerDoc::Customer(customer), LedgerDoc::Invoice(doc)])
            }
            _ => Err(MappingError {
                field: "record.kind".into(),
                message: "the stand-in maps customers and invoices only".into(),
            }),
        }
    }
}

ml_connector_sdk::export_mapper!(StandinMapper);
