//! chargebee-source's JSON readers (records, events and webhook bodies, the poll cursor, the
//! fetch and poll flows over a canned transport) against random bytes, JSON soup, random JSON
//! values and mutations of the Chargebee emulator's real records and events.

use chargebee_sandbox::{ChargebeeConfig, ChargebeeSandbox, Plan, Region, SeedSpec, SiteConfig};
use chargebee_source::api::Settings;
use chargebee_source::cursor::Cursor;
use chargebee_source::events;
use chargebee_source::flow::{self, Transport};
use chargebee_source::records::{self, Parsed};
use ml_connector_sdk::source::exports::ml_connector::plugin::source_api::{PollMode, PollRequest};
use ml_connector_sdk::source::ml_connector::plugin::http::{HttpError, Response};
use ml_connector_sdk::source::ml_connector::plugin::types::{RecordKind, Trigger};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

use crate::{apply, check, edits, soup};

const KINDS: [RecordKind; 4] = [RecordKind::Customer, RecordKind::Invoice, RecordKind::Payment, RecordKind::CreditNote];

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\"id\"",
    "\"invoice\"",
    "\"customer\"",
    "\"transaction\"",
    "\"credit_note\"",
    "\"line_items\"",
    "\"line_items_next_offset\"",
    "\"list\"",
    "\"next_offset\"",
    "\"event\"",
    "\"content\"",
    "\"event_type\"",
    "\"occurred_at\"",
    "\"amount\"",
    "\"total\"",
    "\"date\"",
    "\"currency_code\"",
    "\"JPY\"",
    "\"BHD\"",
    "\"status\"",
    "\"type\"",
    "\"deleted\"",
    "null",
    "true",
    "0",
    "-1",
    "1e999",
    "9223372036854775807",
    "-9223372036854775809",
    "0.5",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"x\"",
];

/// One site of the emulator, seeded small: every kind of record and the events they made, as
/// Chargebee's API envelopes (`{"invoice": {...}}`) and webhook bodies.
fn real_records() -> Vec<(Option<RecordKind>, Value)> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let site = "acme-fuzz";
        let config =
            ChargebeeConfig { sites: vec![SiteConfig::new(site, Region::Us, Plan::Enterprise)], ..Default::default() };
        let sandbox = ChargebeeSandbox::start(config).await.unwrap();
        let control = sandbox.control();
        control.set_clock(Some(1_764_000_000));
        let spec = SeedSpec {
            customers: 3,
            invoices_per_customer: 3,
            seed: 9,
            payment_rate: 1.0,
            partial_payment_rate: 0.5,
            credit_note_rate: 0.7,
            refund_rate: 0.5,
            until: Some(1_764_000_000),
            ..SeedSpec::default()
        };
        control.seed(site, &spec).unwrap();
        let mut out = Vec::new();
        let mut add = |kind: RecordKind, v: Value| out.push((Some(kind), json!({ records::resource_key(kind): v })));
        control
            .customers(site)
            .unwrap()
            .into_iter()
            .for_each(|r| add(RecordKind::Customer, serde_json::to_value(r).unwrap()));
        control
            .invoices(site)
            .unwrap()
            .into_iter()
            .for_each(|r| add(RecordKind::Invoice, serde_json::to_value(r).unwrap()));
        control
            .transactions(site)
            .unwrap()
            .into_iter()
            .for_each(|r| add(RecordKind::Payment, serde_json::to_value(r).unwrap()));
        control
            .credit_notes(site)
            .unwrap()
            .into_iter()
            .for_each(|r| add(RecordKind::CreditNote, serde_json::to_value(r).unwrap()));
        for e in control.events(site).unwrap().into_iter().take(12) {
            out.push((None, serde_json::to_value(e).unwrap()));
        }
        sandbox.shutdown().await;
        out
    })
}

/// Answers GETs with `bodies` in turn (200), then times out: the flows stop after them.
struct Canned {
    bodies: Vec<Vec<u8>>,
    calls: usize,
}

impl Transport for Canned {
    fn get(&mut self, _url: &str) -> Result<Response, HttpError> {
        let body = self.bodies.get(self.calls).cloned();
        self.calls += 1;
        body.map(|body| Response { status: 200, headers: vec![], body }).ok_or(HttpError::Timeout)
    }
}

/// Every reader over `v` (and its text), with the bounds their outputs must keep.
fn read_value(v: &Value) -> Result<(), TestCaseError> {
    let text = v.to_string();
    // A record is a bounded rewrite of its input: Debug of the record vs the JSON it came from.
    let bound = 16 * text.len() + 4096;
    for kind in KINDS {
        for parsed in [records::from_envelope(kind, v), records::parse(kind, v)] {
            if let Ok(Parsed::Record(r)) = parsed {
                let size = format!("{r:?}").len();
                prop_assert!(size <= bound, "{size} bytes of record from {} of JSON", text.len());
            }
        }
        let _ = records::lines_truncated(v);
    }
    let _ = events::trigger_of(v);
    read_bytes(text.as_bytes())
}

/// The byte-level readers: a webhook body, a cursor, a fetch and both polls over a canned answer.
fn read_bytes(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(triggers) = events::intake(bytes) {
        prop_assert!(triggers.len() <= 1);
    }
    let _ = Cursor::decode(&String::from_utf8_lossy(bytes));
    let settings = Settings { api_base: "https://acme-fuzz.chargebee.com".into(), fetch_event: false, page_size: 100 };
    for kind in KINDS {
        let trigger =
            Trigger { event_id: None, event_type: "x".into(), kind, resource_id: "r1".into(), occurred_at: 0 };
        // Two answers: the resource, then (invoices, credit notes) one more page of lines.
        let mut t = Canned { bodies: vec![bytes.to_vec(), bytes.to_vec()], calls: 0 };
        if let Ok(recs) = flow::fetch(&settings, &mut t, &trigger) {
            prop_assert!(recs.len() <= 1);
        }
        prop_assert!(t.calls <= 3);
    }
    for mode in [PollMode::Backfill, PollMode::Events] {
        let mut t = Canned { bodies: vec![bytes.to_vec()], calls: 0 };
        let req = PollRequest { mode, cursor: None, since: Some(0), until: Some(1_764_000_000) };
        if let Ok(page) = flow::poll(&settings, &mut t, &req) {
            prop_assert!(page.items.len() <= bytes.len() / 2, "{} items from {} bytes", page.items.len(), bytes.len());
        }
        prop_assert!(t.calls <= 2);
    }
    Ok(())
}

#[test]
fn the_json_readers_survive_random_bytes() {
    check("json: random bytes", 1500, || prop::collection::vec(any::<u8>(), 0..256), |bytes| read_bytes(&bytes));
}

#[test]
fn the_json_readers_survive_json_soup() {
    check(
        "json: soup",
        1500,
        || soup(TOKENS, 48),
        |text| match serde_json::from_str::<Value>(&text) {
            Ok(v) => read_value(&v),
            Err(_) => read_bytes(text.as_bytes()),
        },
    );
}

/// JSON values whose object keys are the ones the readers look for.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(&TOKENS[7..28]).prop_map(|k| k.trim_matches('"').to_string());
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z_0-9]{0,12}".prop_map(Value::from),
        prop::sample::select(vec!["USD", "JPY", "BHD", "payment", "refund", "success", "v2", "invoice_generated"])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

#[test]
fn the_json_readers_survive_random_json() {
    check(
        "json: random values",
        1000,
        || (json_value(), prop::sample::select(KINDS.to_vec())),
        |(v, kind)| {
            read_value(&v)?;
            read_value(&json!({ records::resource_key(kind): v }))
        },
    );
}

/// A structural change to a real record: a member replaced by another type, removed, or a
/// number pushed to its limits.
#[derive(Debug, Clone)]
enum Change {
    Replace(Index, Value),
    Remove(Index),
}

fn change() -> impl Strategy<Value = Change> {
    let odd = prop_oneof![
        Just(Value::Null),
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(u64::MAX)),
        Just(json!(1e300)),
        Just(json!(-0.5)),
        Just(json!("")),
        Just(json!("9999-99-99")),
        Just(json!([])),
        Just(json!({})),
        Just(json!(true)),
    ];
    prop_oneof![
        (any::<Index>(), odd).prop_map(|(at, v)| Change::Replace(at, v)),
        any::<Index>().prop_map(Change::Remove),
    ]
}

/// JSON pointers of every member and element under `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match v {
        Value::Object(m) => m.iter().map(|(k, c)| (k.replace('~', "~0").replace('/', "~1"), c)).collect(),
        Value::Array(a) => a.iter().enumerate().map(|(i, c)| (i.to_string(), c)).collect(),
        _ => return,
    };
    for (k, c) in children {
        let p = format!("{at}/{k}");
        out.push(p.clone());
        pointers(c, p, out);
    }
}

fn change_at(mut v: Value, changes: &[Change]) -> Value {
    for c in changes {
        let mut all = Vec::new();
        pointers(&v, String::new(), &mut all);
        let (Change::Replace(i, _) | Change::Remove(i)) = c;
        if all.is_empty() {
            break;
        }
        let p = &all[i.index(all.len())];
        match c {
            Change::Replace(_, new) => {
                if let Some(slot) = v.pointer_mut(p) {
                    *slot = new.clone();
                }
            }
            Change::Remove(_) => {
                let (parent, key) = p.rsplit_once('/').unwrap();
                match v.pointer_mut(parent) {
                    Some(Value::Object(m)) => {
                        m.remove(&key.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(a)) => {
                        let k: usize = key.parse().unwrap();
                        a.remove(k);
                    }
                    _ => {}
                }
            }
        }
    }
    v
}

#[test]
fn the_json_readers_survive_changed_real_records() {
    let corpus = real_records();
    assert!(corpus.len() > 20, "{} records from the emulator", corpus.len());
    for (kind, v) in &corpus {
        match kind {
            Some(kind) => assert!(records::from_envelope(*kind, v).is_ok(), "{v}"),
            None => assert!(events::intake(v.to_string().as_bytes()).is_ok(), "{v}"),
        }
    }
    let n = corpus.len();
    let values: Vec<Value> = corpus.into_iter().map(|(_, v)| v).collect();
    let texts: Vec<String> = values.iter().map(Value::to_string).collect();
    check(
        "json: changed real records",
        1000,
        move || (0..n, prop::collection::vec(change(), 1..4)),
        move |(i, changes)| read_value(&change_at(values[i].clone(), &changes)),
    );
    check(
        "json: mutated real record bytes",
        1000,
        move || (0..n, edits(6)),
        move |(i, edits)| {
            let bytes = apply(texts[i].clone().into_bytes(), &edits, TOKENS);
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => read_value(&v),
                Err(_) => read_bytes(&bytes),
            }
        },
    );
}
