//! GP identifiers derived from Chargebee ids: customer ids (CUSTNMBR, ≤ 15), document numbers
//! (DOCNUMBR: ≤ 17 for invoices and credit memos, ≤ 20 for cash receipts) and batch ids
//! (BACHNUMB, ≤ 15).
//!
//! A GP id must be a pure function of (settings, Chargebee id, kind) and two Chargebee ids must
//! not share one GP id, or a second record would be "already present" in GP. GP allows only
//! `0-9 A-Z space . _ -`, so case-sensitive or long Chargebee ids cannot be carried over as they
//! are. The rule, for a scheme with prefix `P`, letter case `C` and limit `N`:
//!
//! 1. **Direct form** `P + upper(id)`: when every character of the id is in `0-9 _ -` or a letter
//!    of case `C` (`upper`: `A-Z`; `lower`: `a-z`), and it fits in `N`. On that alphabet
//!    upper-casing is one-to-one, so direct forms never collide. The form never contains `.`.
//! 2. **Hashed form** `P + stem + "." + H` otherwise (a letter of the other case, `.`, space,
//!    any other character, or too long): `H` is 9 base-36 digits (`0-9 A-Z`) of
//!    SHA-256(UTF-8 id) — the first 8 bytes as a big-endian integer modulo 36^9, zero-padded —
//!    and `stem` is the id upper-cased with every character outside `0-9 A-Z _ -` replaced by
//!    `_`, cut to the room left within `N` (so a long id fills all `N` characters). The stem only helps a reader; `H` carries
//!    identity.
//!
//! The two forms are disjoint (only the hashed form has a `.` after the prefix), so a collision
//! needs two ids whose 46.5-bit hashes (and stems) agree: for 100 000 hashed ids of one kind
//! the chance of any collision is about 5·10⁻⁵. Squeezing unbounded ids into 15 characters
//! cannot do better than a hash; the target's "same number, different content" conflict check
//! is the backstop.

use sha2::{Digest, Sha256};

/// CUSTNMBR.
pub const CUSTOMER_ID_MAX: usize = 15;
/// RMDNUMWK (eConnect's RM work key) for invoices and credit memos.
pub const SALES_DOC_NUMBER_MAX: usize = 17;
/// DOCNUMBR of cash receipts.
pub const RECEIPT_NUMBER_MAX: usize = 20;
/// BACHNUMB.
pub const BATCH_ID_MAX: usize = 15;

/// Base-36 digits of the hashed form.
pub const HASH_LEN: usize = 9;
/// Marks the hashed form; never produced by the direct form.
const MARKER: char = '.';
const BASE36: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Which Chargebee letter case the direct form carries over (the other case is hashed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterCase {
    Upper,
    Lower,
}

impl LetterCase {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "upper" => Some(Self::Upper),
            "lower" => Some(Self::Lower),
            _ => None,
        }
    }
}

/// One numbering scheme: customer ids, invoice numbers, credit memo numbers or receipt numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdScheme {
    prefix: String,
    case: LetterCase,
    max: usize,
}

/// True for GP's safe id characters (0-9 A-Z space . _ -).
pub fn is_gp_safe(c: char) -> bool {
    c.is_ascii_digit() || c.is_ascii_uppercase() || matches!(c, ' ' | '.' | '_' | '-')
}

impl IdScheme {
    /// The prefix must be GP-safe without spaces and leave room for the hashed form.
    pub fn new(prefix: &str, case: LetterCase, max: usize) -> Result<Self, String> {
        let room = max - 1 - HASH_LEN;
        if let Some(bad) = prefix.chars().find(|&c| !is_gp_safe(c) || c == ' ') {
            return Err(format!("prefix {prefix:?} has {bad:?}; use only 0-9 A-Z . _ - (upper case, no spaces)"));
        }
        if prefix.len() > room {
            return Err(format!(
                "prefix {prefix:?} is {} characters; at most {room} leave room for the hashed form within GP's {max}",
                prefix.len()
            ));
        }
        Ok(Self { prefix: prefix.to_string(), case, max })
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// The GP id for a Chargebee id (see the module docs for the rule).
    pub fn gp_id(&self, source_id: &str) -> Result<String, String> {
        if source_id.is_empty() {
            return Err("the Chargebee id is empty".into());
        }
        let direct_alphabet = |c: char| {
            c.is_ascii_digit()
                || matches!(c, '_' | '-')
                || match self.case {
                    LetterCase::Upper => c.is_ascii_uppercase(),
                    LetterCase::Lower => c.is_ascii_lowercase(),
                }
        };
        if source_id.chars().all(direct_alphabet) && self.prefix.len() + source_id.len() <= self.max {
            return Ok(format!("{}{}", self.prefix, source_id.to_ascii_uppercase()));
        }
        let stem_len = self.max - self.prefix.len() - 1 - HASH_LEN;
        let stem: String = source_id
            .chars()
            .map(|c| match c {
                c if c.is_ascii_alphanumeric() => c.to_ascii_uppercase(),
                '-' => '-',
                _ => '_',
            })
            .take(stem_len)
            .collect();
        Ok(format!("{}{stem}{MARKER}{}", self.prefix, hash36(source_id)))
    }
}

/// 9 base-36 digits of SHA-256(id).
fn hash36(source_id: &str) -> String {
    let digest = Sha256::digest(source_id.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    let mut n = u64::from_be_bytes(head) % 36u64.pow(HASH_LEN as u32);
    let mut out = [b'0'; HASH_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE36[(n % 36) as usize];
        n /= 36;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// Expands a batch-id pattern for a document date ("YYYY-MM-DD", already checked) and GP
/// currency. Placeholders: `{YYYY}` `{YY}` `{MM}` `{DD}` `{YYMMDD}` `{YYYYMMDD}` `{CUR}`. The
/// result must be a GP batch id: 1–15 characters from 0-9 A-Z space . _ -, no edge spaces.
pub fn batch_id(pattern: &str, date: &str, currency: &str) -> Result<String, String> {
    let (yyyy, rest) = date.split_once('-').ok_or_else(|| format!("not a YYYY-MM-DD date: {date:?}"))?;
    let (mm, dd) = rest.split_once('-').ok_or_else(|| format!("not a YYYY-MM-DD date: {date:?}"))?;
    let yy = yyyy.get(yyyy.len().saturating_sub(2)..).unwrap_or(yyyy);
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').ok_or_else(|| format!("pattern {pattern:?} has an unclosed {{"))? + open;
        let value = match &rest[open + 1..close] {
            "YYYY" => yyyy.to_string(),
            "YY" => yy.to_string(),
            "MM" => mm.to_string(),
            "DD" => dd.to_string(),
            "YYMMDD" => format!("{yy}{mm}{dd}"),
            "YYYYMMDD" => format!("{yyyy}{mm}{dd}"),
            "CUR" => currency.to_string(),
            other => {
                return Err(format!(
                    "pattern {pattern:?} has an unknown placeholder {{{other}}} (known: YYYY YY MM DD YYMMDD YYYYMMDD CUR)"
                ));
            }
        };
        out.push_str(&value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    if out.is_empty() || out.chars().count() > BATCH_ID_MAX {
        return Err(format!(
            "pattern {pattern:?} gives batch id {out:?}: GP batch ids are 1–{BATCH_ID_MAX} characters"
        ));
    }
    if let Some(bad) = out.chars().find(|&c| !is_gp_safe(c)) {
        return Err(format!("pattern {pattern:?} gives batch id {out:?} with {bad:?}: use only 0-9 A-Z space . _ -"));
    }
    if out.starts_with(' ') || out.ends_with(' ') {
        return Err(format!("pattern {pattern:?} gives batch id {out:?} with a leading or trailing space"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn scheme(prefix: &str, case: LetterCase, max: usize) -> IdScheme {
        IdScheme::new(prefix, case, max).expect("valid scheme")
    }

    /// splitmix64: a reproducible generator for the property tests.
    struct Gen(u64);
    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn id(&mut self) -> String {
            const POOL: &[char] = &[
                'a', 'b', 'c', 'x', 'y', 'z', 'A', 'B', 'C', 'X', 'Y', 'Z', '0', '1', '9', '_', '-', '.', ' ', '@',
                'é', 'É', 'ß', '日', '本', '🦀',
            ];
            let len = 1 + match self.below(4) {
                0 => self.below(4),
                1 => self.below(15),
                2 => self.below(30),
                _ => self.below(60),
            };
            (0..len).map(|_| POOL[self.below(POOL.len())]).collect()
        }
    }

    fn check_shape(out: &str, max: usize) {
        assert!(!out.is_empty() && out.len() <= max, "{out:?} is not 1..={max} long");
        assert!(out.chars().all(is_gp_safe), "{out:?} has a character GP does not allow");
        assert!(!out.starts_with(' ') && !out.ends_with(' '), "{out:?} has an edge space");
    }

    #[test]
    fn direct_form_keeps_ids_that_are_already_gp_ids() {
        let s = scheme("", LetterCase::Upper, CUSTOMER_ID_MAX);
        assert_eq!(s.gp_id("ACME-001").as_deref(), Ok("ACME-001"));
        assert_eq!(s.gp_id("1001").as_deref(), Ok("1001"));
        let p = scheme("CB", LetterCase::Upper, SALES_DOC_NUMBER_MAX);
        assert_eq!(p.gp_id("INV_2024-0001").as_deref(), Ok("CBINV_2024-0001"));
        let l = scheme("CB-", LetterCase::Lower, CUSTOMER_ID_MAX);
        assert_eq!(l.gp_id("acme_corp").as_deref(), Ok("CB-ACME_CORP"));
    }

    #[test]
    fn case_colliding_ids_never_share_a_gp_id() {
        for case in [LetterCase::Upper, LetterCase::Lower] {
            let s = scheme("", case, CUSTOMER_ID_MAX);
            let upper = s.gp_id("ACME").expect("id");
            let lower = s.gp_id("acme").expect("id");
            let mixed = s.gp_id("Acme").expect("id");
            assert_ne!(upper, lower);
            assert_ne!(upper, mixed);
            assert_ne!(lower, mixed);
            // Exactly one of "ACME"/"acme" is carried over verbatim.
            assert_eq!([&upper, &lower].iter().filter(|g| g.as_str() == "ACME").count(), 1, "{case:?}");
        }
    }

    #[test]
    fn hashed_form_is_used_for_long_or_foreign_ids() {
        let s = scheme("CB", LetterCase::Upper, CUSTOMER_ID_MAX);
        for id in ["cus_AzZlGJSqHd1Xc2Ae", "ACME.COM", "ACME 1", "Ünïcødé", "A23456789012345X", "日本"] {
            let out = s.gp_id(id).expect("id");
            check_shape(&out, CUSTOMER_ID_MAX);
            if id.chars().count() >= CUSTOMER_ID_MAX - 2 - 1 - HASH_LEN {
                assert_eq!(out.len(), CUSTOMER_ID_MAX, "{id:?} → {out:?}");
            }
            assert!(out.starts_with("CB"));
            assert_eq!(out.as_bytes()[out.len() - HASH_LEN - 1], b'.', "{out:?}");
        }
        // The stem is readable: the id upper-cased, foreign characters as '_'.
        assert!(s.gp_id("cus_AzZlGJSqHd1Xc2Ae").expect("id").starts_with("CBCUS."));
        let r = scheme("", LetterCase::Upper, RECEIPT_NUMBER_MAX);
        assert!(r.gp_id("txn_AzZlGJSqHd1Xc2Ae").expect("id").starts_with("TXN_AZZLGJ."));
    }

    #[test]
    fn known_vectors_match_an_independent_sha256() {
        // H = sha256(id)[0..8] as big-endian u64 mod 36^9 in base 36, computed with sha256sum
        // and Python's int(…, 16) outside this crate.
        let s = scheme("", LetterCase::Upper, RECEIPT_NUMBER_MAX);
        assert_eq!(s.gp_id("txn_AzZlGJSqHd1Xc2Ae").as_deref(), Ok("TXN_AZZLGJ.81HLZ8LKF"));
        let c = scheme("", LetterCase::Upper, CUSTOMER_ID_MAX);
        assert_eq!(c.gp_id("acme").as_deref(), Ok("ACME.RJ5NXJAG0"));
    }

    #[test]
    fn stable_across_calls_and_schemes_differ_only_by_prefix() {
        let a = scheme("", LetterCase::Upper, SALES_DOC_NUMBER_MAX);
        let b = scheme("", LetterCase::Upper, SALES_DOC_NUMBER_MAX);
        for id in ["inv_1", "Ünïcødé", "1001"] {
            assert_eq!(a.gp_id(id), b.gp_id(id));
        }
    }

    #[test]
    fn property_no_collisions_over_many_generated_ids() {
        for (prefix, case, max) in [
            ("", LetterCase::Upper, CUSTOMER_ID_MAX),
            ("CB", LetterCase::Lower, CUSTOMER_ID_MAX),
            ("", LetterCase::Upper, SALES_DOC_NUMBER_MAX),
            ("P-", LetterCase::Upper, RECEIPT_NUMBER_MAX),
        ] {
            let s = scheme(prefix, case, max);
            let mut g = Gen(0x5EED ^ max as u64);
            let mut seen: HashMap<String, String> = HashMap::new();
            let mut ids: Vec<String> = (0..60_000).map(|_| g.id()).collect();
            // Adversarial neighbours: case twins, outputs fed back as inputs, one-char tails.
            let extra: Vec<String> = ids
                .iter()
                .take(5_000)
                .flat_map(|id| {
                    let out = s.gp_id(id).expect("id");
                    let bare = out[prefix.len()..].to_string();
                    [
                        id.to_ascii_uppercase(),
                        id.to_ascii_lowercase(),
                        bare.clone(),
                        bare.to_ascii_lowercase(),
                        format!("{id}x"),
                        format!("{id}X"),
                    ]
                })
                .collect();
            ids.extend(extra);
            ids.extend((0..2_000).map(|n| format!("{n:0>width$}", width = max + 3)));
            for id in ids {
                let out = s.gp_id(&id).expect("non-empty id");
                check_shape(&out, max);
                assert!(out.starts_with(prefix));
                if let Some(prev) = seen.insert(out.clone(), id.clone()) {
                    assert_eq!(prev, id, "{prev:?} and {id:?} both map to {out:?}");
                }
            }
        }
    }

    #[test]
    fn prefix_and_id_are_validated() {
        assert!(IdScheme::new("cb", LetterCase::Upper, CUSTOMER_ID_MAX).is_err());
        assert!(IdScheme::new("C B", LetterCase::Upper, CUSTOMER_ID_MAX).is_err());
        assert!(IdScheme::new("ABCDE", LetterCase::Upper, CUSTOMER_ID_MAX).is_ok());
        assert!(IdScheme::new("ABCDEF", LetterCase::Upper, CUSTOMER_ID_MAX).is_err());
        assert!(scheme("", LetterCase::Upper, CUSTOMER_ID_MAX).gp_id("").is_err());
    }

    #[test]
    fn batch_patterns() {
        assert_eq!(batch_id("CB{YYMMDD}-INV", "2024-03-07", "USD").as_deref(), Ok("CB240307-INV"));
        assert_eq!(batch_id("{YYYYMMDD}{CUR}", "2024-03-07", "JPY").as_deref(), Ok("20240307JPY"));
        assert_eq!(batch_id("X{YYYY}.{MM}.{DD}", "2024-03-07", "USD").as_deref(), Ok("X2024.03.07"));
        assert!(batch_id("CB{YYYYMMDD}-INVOICES", "2024-03-07", "USD").is_err(), "too long");
        assert!(batch_id("cb{YYMMDD}", "2024-03-07", "USD").is_err(), "lower case");
        assert!(batch_id("CB{DATE}", "2024-03-07", "USD").is_err(), "unknown placeholder");
        assert!(batch_id("CB{YY", "2024-03-07", "USD").is_err(), "unclosed");
        assert!(batch_id(" CB{YY}", "2024-03-07", "USD").is_err(), "edge space");
    }
}
