//! List parameters as the official SDKs put them on the wire, and the filtering, sorting and
//! keyset paging Chargebee applies.
//!
//! `attr[op]=value` filters; `in`/`not_in`/`between` values arrive as JSON (Node:
//! `["a","b"]`, `[1700000000,1700000100]`), JSON with quoted numbers (Go) or Python repr
//! (`['a', 'b']`); all three parse. `limit` 1–100 (default 10); `offset` is the opaque
//! `next_offset` of the previous page: `["<sort key>","<seq>"]` text like Chargebee's own,
//! so pages stay exact while records change (an updated record moves behind the cursor
//! instead of shifting every later page).
//!
//! `resources` says what each resource accepts, `parse` turns a query string into a
//! [`ListQuery`] (or checks a retrieve's), `filter` evaluates conditions; paging is here.

mod filter;
mod parse;
mod resources;

pub use parse::check_retrieve;
pub use resources::{FieldType, FieldValue, Listed, ResourceSpec};

use filter::{Filter, cond_holds};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Asc,
    Desc,
}

/// A parsed list request.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub limit: usize,
    cursor: Option<(i64, usize)>,
    sort: Option<(&'static str, Direction)>,
    include_deleted: bool,
    filters: Vec<Filter>,
}

/// A page of records (by index) and the offset of the next one, if any.
pub struct Page {
    pub indices: Vec<usize>,
    pub next_offset: Option<String>,
}

impl ListQuery {
    fn matches<T: Listed>(&self, r: &T) -> bool {
        if r.is_deleted() && !self.include_deleted {
            return false;
        }
        self.filters.iter().all(|f| cond_holds(&f.cond, r.field(f.field)))
    }

    fn sort_key<T: Listed>(&self, r: &T, seq: usize) -> i64 {
        match self.sort {
            Some((field, _)) => match r.field(field) {
                Some(FieldValue::Int(v)) => v,
                _ => 0,
            },
            None => seq as i64,
        }
    }

    /// Filters, orders and cuts one page out of `records` (in creation order).
    pub fn page<T: Listed>(&self, records: &[T]) -> Page {
        let desc = matches!(self.sort, Some((_, Direction::Desc)));
        let mut keyed: Vec<(i64, usize)> = records
            .iter()
            .enumerate()
            .filter(|(_, r)| self.matches(*r))
            .map(|(i, r)| (self.sort_key(r, i), i))
            .collect();
        keyed.sort_unstable();
        if desc {
            keyed.reverse();
        }
        let start = match self.cursor {
            None => 0,
            Some(c) => keyed.partition_point(|k| if desc { *k >= c } else { *k <= c }),
        };
        let rest = &keyed[start.min(keyed.len())..];
        let take = rest.len().min(self.limit);
        let page = &rest[..take];
        let next_offset = (rest.len() > take).then(|| page.last().map(|(k, i)| format!("[\"{k}\",\"{i}\"]"))).flatten();
        Page { indices: page.iter().map(|(_, i)| *i).collect(), next_offset }
    }
}
