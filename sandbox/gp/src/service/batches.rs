//! Batches (GetBatchByKey, GetBatchList): headers with their work documents' count and total.

use super::{OpResult, Service};
use crate::model::Company;
use crate::node::Node;
use crate::objects;

impl Service {
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
