//! Customer numbers an AR clerk can read. A `gp-customer` arriving with an empty `id` gets
//! `<STEM><NNNN>`: the stem is its name upper-cased, only A-Z and 0-9, cut to 11 characters;
//! NNNN counts from 0001 to the first number GP does not already hold for a different customer.
//! The number is stored as `cust:<source-id>` in the component's durable `state` BEFORE the
//! customer is created, so a crash between the two cannot allocate twice: a retry finds the
//! stored number and uses it. Its reverse, `custno:<number>` → source id, reserves it: another
//! Chargebee customer of the same name skips a number allocated but not yet created in GP. A customer arriving with a number is stored the same way, so a
//! document can name its customer either by number or by Chargebee id (`customer-source-id`).

use crate::transport::Failure;

/// The component's durable key/values (the host's `state`, scoped to connection + component).
pub trait Store {
    fn get(&self, key: &str) -> Option<Vec<u8>>;
    fn set(&self, key: &str, value: &[u8]) -> Result<(), String>;
}

const STEM_LEN: usize = 11;
/// 0001..=9999; a stem with every number taken is refused rather than widened.
const MAX_SEQ: u32 = 9999;

pub fn key(source_id: &str) -> String {
    format!("cust:{source_id}")
}

/// The name upper-cased, only A-Z 0-9, cut to 11; "CUST" when nothing is left.
pub fn stem(name: &str) -> String {
    let s: String = name
        .chars()
        .filter_map(|c| {
            let u = c.to_ascii_uppercase();
            u.is_ascii_alphanumeric().then_some(u)
        })
        .take(STEM_LEN)
        .collect();
    if s.is_empty() { "CUST".into() } else { s }
}

/// The stored number of a Chargebee customer.
pub fn stored(store: &dyn Store, source_id: &str) -> Option<String> {
    let v = store.get(&key(source_id))?;
    String::from_utf8(v).ok().filter(|s| !s.trim().is_empty())
}

fn reserved_by(store: &dyn Store, number: &str) -> Option<String> {
    store.get(&format!("custno:{number}")).and_then(|v| String::from_utf8(v).ok())
}

pub fn remember(store: &dyn Store, source_id: &str, number: &str) -> Result<(), Failure> {
    if source_id.is_empty() || stored(store, source_id).as_deref() == Some(number) {
        return Ok(());
    }
    let set =
        |k: String, v: &str| store.set(&k, v.as_bytes()).map_err(|e| Failure::Permanent(format!("state {k}: {e}")));
    set(format!("custno:{number}"), source_id)?;
    set(key(source_id), number)
}

/// The number of a customer arriving with `id` (kept) or without one (stored, else allocated
/// and stored before anything is written). `taken(n)`: whether GP holds a customer `n`.
pub fn number_for(
    store: &dyn Store,
    id: &str,
    source_id: &str,
    name: &str,
    taken: &dyn Fn(&str) -> Result<bool, Failure>,
) -> Result<String, Failure> {
    if !id.trim().is_empty() {
        remember(store, source_id, id)?;
        return Ok(id.to_string());
    }
    if source_id.is_empty() {
        return Err(Failure::Permanent("customer has neither a GP number nor a source id".into()));
    }
    if let Some(n) = stored(store, source_id) {
        return Ok(n);
    }
    let stem = stem(name);
    for seq in 1..=MAX_SEQ {
        let candidate = format!("{stem}{seq:04}");
        if reserved_by(store, &candidate).is_some_and(|s| s != source_id) || taken(&candidate)? {
            continue;
        }
        remember(store, source_id, &candidate)?;
        return Ok(candidate);
    }
    Err(Failure::Rejected(format!("every customer number {stem}0001..{stem}{MAX_SEQ} is taken in GP")))
}

/// The GP number of a document's customer: `customer` when given, else the stored number of
/// `source_id`; none stored → `missing-dependency`.
pub fn resolve(store: &dyn Store, customer: &str, source_id: &str) -> Result<String, Failure> {
    if !customer.trim().is_empty() {
        return Ok(customer.to_string());
    }
    stored(store, source_id)
        .ok_or_else(|| Failure::MissingDependency(format!("customer {source_id} has no GP number yet")))
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    #[derive(Default)]
    pub struct Mem(pub RefCell<BTreeMap<String, Vec<u8>>>);

    impl Store for Mem {
        fn get(&self, key: &str) -> Option<Vec<u8>> {
            self.0.borrow().get(key).cloned()
        }
        fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
            self.0.borrow_mut().insert(key.into(), value.to_vec());
            Ok(())
        }
    }

    #[test]
    fn stems_keep_only_letters_and_digits() {
        assert_eq!(stem("Acme & Sons, Inc."), "ACMESONSINC");
        assert_eq!(stem("Ünïcode café 42 Ltd"), "NCODECAF42L");
        assert_eq!(stem("ab"), "AB");
        assert_eq!(stem("  --  "), "CUST");
    }

    #[test]
    fn allocation_skips_numbers_held_by_others_and_is_stored_first() -> Result<(), Failure> {
        let store = Mem::default();
        let gp = |n: &str| -> Result<bool, Failure> { Ok(n == "ACME0001" || n == "ACME0002") };
        assert_eq!(number_for(&store, "", "cb_1", "Acme", &gp)?, "ACME0003");
        assert_eq!(stored(&store, "cb_1").as_deref(), Some("ACME0003"));
        // A retry reuses the stored number without asking GP.
        let never = |_: &str| -> Result<bool, Failure> { Err(Failure::Transient("not asked".into())) };
        assert_eq!(number_for(&store, "", "cb_1", "Acme", &never)?, "ACME0003");
        // Another Acme skips the number reserved for cb_1 though GP does not hold it yet.
        assert_eq!(number_for(&store, "", "cb_2", "ACME", &gp)?, "ACME0004");
        Ok(())
    }

    #[test]
    fn given_numbers_are_kept_and_documents_resolve_either_way() -> Result<(), Failure> {
        let store = Mem::default();
        let never = |_: &str| -> Result<bool, Failure> { Err(Failure::Transient("not asked".into())) };
        assert_eq!(number_for(&store, "ACME-001", "cb_9", "Acme", &never)?, "ACME-001");
        assert_eq!(resolve(&store, "", "cb_9")?, "ACME-001");
        assert_eq!(resolve(&store, "OTHER", "cb_9")?, "OTHER");
        assert_eq!(
            resolve(&store, "", "cb_404"),
            Err(Failure::MissingDependency("customer cb_404 has no GP number yet".into()))
        );
        Ok(())
    }

    #[test]
    fn an_exhausted_stem_is_refused() {
        let all = |_: &str| -> Result<bool, Failure> { Ok(true) };
        assert!(matches!(number_for(&Mem::default(), "", "cb", "Acme", &all), Err(Failure::Rejected(_))));
    }
}
