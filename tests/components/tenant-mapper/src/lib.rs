//! A tenant's own mapper, as a team would write one: the default mapping from the `gp-mapper`
//! crate, then the tenant's rule on top — every document description names the tenant and the
//! Chargebee record (`map.tenant.label` is this component's own setting, removed before the
//! default mapper sees the settings).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ml_connector_sdk::mapper::exports::ml_connector::plugin::mapper_api::{Guest, MappingError};
use ml_connector_sdk::mapper::ml_connector::plugin::types::{LedgerDoc, SourceRecord};

struct TenantMapper;

impl Guest for TenantMapper {
    fn map(rec: SourceRecord, settings: Vec<(String, String)>) -> Result<Vec<LedgerDoc>, MappingError> {
        let label = settings
            .iter()
            .find(|(k, _)| k == "map.tenant.label")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "tenant".into());
        let settings: Vec<(String, String)> = settings.into_iter().filter(|(k, _)| k != "map.tenant.label").collect();
        let mut docs = gp_mapper::map_record(&rec, &settings)?;
        // GP's DOCDESCR/TRXDSCRN hold 30 characters.
        let text: String = format!("{label} {}", rec.id).chars().take(30).collect();
        for d in &mut docs {
            match d {
                LedgerDoc::Invoice(i) => i.description = Some(text.clone()),
                LedgerDoc::CreditMemo(c) => c.description = Some(text.clone()),
                LedgerDoc::CashReceipt(r) => r.description = Some(text.clone()),
                LedgerDoc::DebitMemo(d) => d.description = Some(text.clone()),
                LedgerDoc::Customer(_) | LedgerDoc::Apply(_) | LedgerDoc::Void(_) => {}
            }
        }
        Ok(docs)
    }
}

ml_connector_sdk::export_mapper!(TenantMapper);
