//! The read API: paging, filters in every SDK's encoding, sort, retrieve, errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::HashSet;

use serde_json::Value;
use support::*;

fn ids(v: &[Value]) -> Vec<String> {
    v.iter().map(|r| r["id"].as_str().expect("id").to_string()).collect()
}

#[tokio::test]
async fn paging_covers_every_record_exactly_once() {
    let (sb, site) = seeded(&spec(12, 4)).await;
    let c = client();
    let control = sb.control();
    for (resource, key, all) in [
        ("invoices", "invoice", ids_of(control.invoices(&site.name).unwrap().iter().map(|i| &i.id))),
        ("customers", "customer", ids_of(control.customers(&site.name).unwrap().iter().map(|i| &i.id))),
        ("transactions", "transaction", ids_of(control.transactions(&site.name).unwrap().iter().map(|i| &i.id))),
        ("credit_notes", "credit_note", ids_of(control.credit_notes(&site.name).unwrap().iter().map(|i| &i.id))),
        ("events", "event", ids_of(control.events(&site.name).unwrap().iter().map(|i| &i.id))),
    ] {
        assert!(!all.is_empty(), "{resource}: the seed made none");
        for query in ["limit=7", "limit=100&sort_by[asc]=updated_at", "limit=3&sort_by[desc]=date", "", "limit=1"] {
            let query = if resource == "events" {
                query.replace("updated_at", "occurred_at").replace("date", "occurred_at")
            } else if resource == "customers" {
                query.replace("=date", "=created_at")
            } else if resource == "credit_notes" {
                query.replace("updated_at", "date")
            } else {
                query.to_string()
            };
            let (got, pages) = list_all(&c, &sb, &site, resource, key, &query).await;
            let got = ids(&got);
            let unique: HashSet<_> = got.iter().cloned().collect();
            assert_eq!(unique.len(), got.len(), "{resource}?{query}: a record came twice");
            assert_eq!(unique, all.iter().cloned().collect(), "{resource}?{query}: not every record");
            let limit: usize =
                query.split('&').find_map(|p| p.strip_prefix("limit=")).map_or(10, |l| l.parse().unwrap());
            assert_eq!(pages, all.len().div_ceil(limit).max(1), "{resource}?{query}: page count");
        }
    }
    // Deleted records are hidden unless include_deleted=true.
    let first = control.invoices(&site.name).unwrap()[0].id.clone();
    control.delete_invoice(&site.name, &first).unwrap();
    let (live, _) = list_all(&c, &sb, &site, "invoices", "invoice", "limit=100").await;
    assert!(!ids(&live).contains(&first));
    let (with_deleted, _) = list_all(&c, &sb, &site, "invoices", "invoice", "limit=100&include_deleted=true").await;
    let deleted = with_deleted.iter().find(|i| i["id"] == first.as_str()).expect("deleted invoice listed");
    assert_eq!(deleted["deleted"], true);
}

fn ids_of<'a>(it: impl Iterator<Item = &'a String>) -> Vec<String> {
    it.cloned().collect()
}

#[tokio::test]
async fn a_record_updated_while_paging_moves_behind_the_cursor() {
    let (sb, site) = seeded(&spec(6, 3)).await;
    let c = client();
    let control = sb.control();
    let total = control.customers(&site.name).unwrap().len();
    let first = get(&c, &sb, &site, "/api/v2/customers?limit=2&sort_by[asc]=updated_at").await;
    let seen: Vec<String> = first.json["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["customer"]["id"].as_str().unwrap().to_string())
        .collect();
    // Change a customer already paged past: an incremental reader must see it again later.
    control
        .update_customer(
            &site.name,
            &seen[0],
            chargebee_sandbox::CustomerUpdate { company: Some("Renamed Ltd".into()), ..Default::default() },
        )
        .unwrap();
    let offset = first.json["next_offset"].as_str().unwrap();
    let mut rest = Vec::new();
    let mut next = Some(offset.to_string());
    while let Some(o) = next {
        let r = get(
            &c,
            &sb,
            &site,
            &format!("/api/v2/customers?limit=2&sort_by[asc]=updated_at&offset={}", url_encode(&o)),
        )
        .await;
        for i in r.json["list"].as_array().unwrap() {
            rest.push(i["customer"].clone());
        }
        next = r.json.get("next_offset").and_then(Value::as_str).map(str::to_string);
    }
    assert_eq!(seen.len() + rest.len(), total + 1, "the changed one comes again, nothing is skipped");
    let last = rest.last().unwrap();
    assert_eq!(last["id"], seen[0].as_str());
    assert_eq!(last["company"], "Renamed Ltd");
}

#[tokio::test]
async fn filters_in_every_sdk_encoding() {
    let (sb, site) = seeded(&spec(10, 4)).await;
    let c = client();
    let control = sb.control();
    let invoices = control.invoices(&site.name).unwrap();
    let mut stamps: Vec<i64> = invoices.iter().map(|i| i.updated_at).collect();
    stamps.sort();
    let (lo, hi) = (stamps[stamps.len() / 4], stamps[3 * stamps.len() / 4]);

    let expect = |f: &dyn Fn(&chargebee_sandbox::Invoice) -> bool| -> HashSet<String> {
        invoices.iter().filter(|i| f(i)).map(|i| i.id.clone()).collect()
    };
    let cases: Vec<(String, HashSet<String>)> = vec![
        (format!("updated_at[after]={lo}"), expect(&|i| i.updated_at > lo)),
        (format!("updated_at[before]={hi}"), expect(&|i| i.updated_at < hi)),
        (format!("updated_at[between]=[{lo},{hi}]"), expect(&|i| (lo..=hi).contains(&i.updated_at))),
        (format!("updated_at[between]=['{lo}', '{hi}']"), expect(&|i| (lo..=hi).contains(&i.updated_at))),
        (format!("updated_at[between]=[\"{lo}\",\"{hi}\"]"), expect(&|i| (lo..=hi).contains(&i.updated_at))),
        ("status[is]=paid".into(), expect(&|i| i.status == "paid")),
        (
            "status[in]=[\"posted\",\"payment_due\"]".into(),
            expect(&|i| i.status == "posted" || i.status == "payment_due"),
        ),
        ("status[not_in]=['paid']".into(), expect(&|i| i.status != "paid")),
        (format!("customer_id[is]={}", invoices[0].customer_id), expect(&|i| i.customer_id == invoices[0].customer_id)),
        ("amount_due[gt]=0".into(), expect(&|i| i.amount_due > 0)),
        ("total[between]=[0,50000]".into(), expect(&|i| i.total <= 50_000)),
        ("recurring[is]=True".into(), expect(&|i| i.recurring)),
    ];
    for (query, want) in cases {
        assert!(!want.is_empty() || query.contains("between"), "{query}: vacuous case");
        let (got, _) =
            list_all(&c, &sb, &site, "invoices", "invoice", &format!("limit=100&{}", enc_query(&query))).await;
        let got: HashSet<String> = ids(&got).into_iter().collect();
        assert_eq!(got, want, "{query}");
    }

    // Events: event_type[in] as Node, Python and Go send it, occurred_at ranges.
    let events = control.events(&site.name).unwrap();
    let want: HashSet<String> = events
        .iter()
        .filter(|e| e.event_type == "payment_succeeded" || e.event_type == "credit_note_created")
        .map(|e| e.id.clone())
        .collect();
    assert!(!want.is_empty());
    for value in [r#"["payment_succeeded","credit_note_created"]"#, "['payment_succeeded', 'credit_note_created']"] {
        let (got, _) =
            list_all(&c, &sb, &site, "events", "event", &format!("limit=50&event_type[in]={}", url_encode(value)))
                .await;
        assert_eq!(ids(&got).into_iter().collect::<HashSet<_>>(), want, "{value}");
    }
    let mid = events[events.len() / 2].occurred_at;
    let (got, _) = list_all(
        &c,
        &sb,
        &site,
        "events",
        "event",
        &format!("limit=100&occurred_at[after]={mid}&sort_by[asc]=occurred_at"),
    )
    .await;
    assert_eq!(got.len(), events.iter().filter(|e| e.occurred_at > mid).count());
    assert!(got.windows(2).all(|w| w[0]["occurred_at"].as_i64() <= w[1]["occurred_at"].as_i64()));
}

/// Percent-encodes the value half of each `k=v` (keys keep their brackets, as Node sends them
/// encoded; the server decodes both forms).
fn enc_query(q: &str) -> String {
    q.split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => format!("{}={}", url_encode(k), url_encode(v)),
            None => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn sort_orders_and_unsupported_sorts() {
    let (sb, site) = seeded(&spec(8, 4)).await;
    let c = client();
    let (asc, _) = list_all(&c, &sb, &site, "invoices", "invoice", "limit=100&sort_by[asc]=date").await;
    let dates: Vec<i64> = asc.iter().map(|i| i["date"].as_i64().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "ascending by date");
    let (desc, _) = list_all(&c, &sb, &site, "invoices", "invoice", "limit=9&sort_by[desc]=updated_at").await;
    let stamps: Vec<i64> = desc.iter().map(|i| i["updated_at"].as_i64().unwrap()).collect();
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "descending by updated_at");

    // Credit notes sort by date only; customers by created_at/updated_at.
    for (path, param) in [
        ("/api/v2/credit_notes?sort_by[asc]=updated_at", "sort_by[asc]"),
        ("/api/v2/customers?sort_by[desc]=date", "sort_by[desc]"),
    ] {
        let r = get(&c, &sb, &site, path).await;
        assert_eq!(r.status, 400, "{path}");
        assert_eq!(r.json["api_error_code"], "param_wrong_value");
        assert_eq!(r.json["param"], param);
    }
}

#[tokio::test]
async fn retrieve_and_not_found_in_chargebees_error_shape() {
    let (sb, site) = seeded(&spec(3, 2)).await;
    let c = client();
    let control = sb.control();
    let inv = control.invoices(&site.name).unwrap()[1].clone();
    let r = get(&c, &sb, &site, &format!("/api/v2/invoices/{}", inv.id)).await;
    assert_eq!(r.status, 200);
    let body: chargebee_sandbox::Invoice = serde_json::from_value(r.json["invoice"].clone()).expect("invoice shape");
    assert_eq!(body, inv);
    assert_eq!(r.json["invoice"]["object"], "invoice");
    assert!(r.json["invoice"]["total"].is_i64() && r.json["invoice"]["resource_version"].is_i64());

    let ev = control.events(&site.name).unwrap()[0].clone();
    let r = get(&c, &sb, &site, &format!("/api/v2/events/{}", ev.id)).await;
    assert_eq!(r.json["event"]["id"], ev.id.as_str());
    assert_eq!(r.json["event"]["api_version"], "v2");

    for path in [
        "/api/v2/invoices/999999",
        "/api/v2/customers/nope",
        "/api/v2/events/ev_missing",
        "/api/v2/transactions/x",
        "/api/v2/credit_notes/CN-0",
    ] {
        let r = get(&c, &sb, &site, path).await;
        assert_eq!(r.status, 404, "{path}");
        for field in ["message", "type", "api_error_code", "error_code", "error_msg", "http_status_code"] {
            assert!(r.json.get(field).is_some(), "{path}: {field} missing in {}", r.json);
        }
        assert_eq!(r.json["api_error_code"], "resource_not_found");
        assert_eq!(r.json["type"], "invalid_request");
        assert_eq!(r.json["http_status_code"], 404);
    }
}

#[tokio::test]
async fn bad_limits_filters_and_offsets_are_400() {
    let (sb, site) = seeded(&spec(2, 2)).await;
    let c = client();
    for (q, param) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("offset=garbage", "offset"),
        ("updated_at[after]=yesterday", "updated_at[after]"),
        ("updated_at[between]=[1,2,3]", "updated_at[between]"),
        ("updated_at[starts_with]=1", "updated_at[starts_with]"),
        ("colour[is]=red", "colour[is]"),
        ("status[in]=paid", "status[in]"),
    ] {
        let r = get(&c, &sb, &site, &format!("/api/v2/invoices?{}", enc_query(q))).await;
        assert_eq!(r.status, 400, "{q}: {r:?}");
        assert_eq!(r.json["api_error_code"], "param_wrong_value", "{q}");
        assert_eq!(r.json["type"], "invalid_request");
        assert_eq!(r.json["param"], param, "{q}");
    }
    let r = get(&c, &sb, &site, "/api/v2/invoices?limit=100").await;
    assert_eq!(r.status, 200);
    assert!(r.json.get("next_offset").is_none(), "last page has no next_offset");
    assert!(r.json["list"].is_array());
}
