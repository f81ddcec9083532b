//! What production clients and the official SDKs send is accepted; what Chargebee does not
//! know is still refused in its 400 shape (README "Parameters: accepted / refused and why").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::*;

fn enc_query(q: &str) -> String {
    q.split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => format!("{}={}", url_encode(k), url_encode(v)),
            None => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn ids(v: &[Value]) -> Vec<String> {
    v.iter().map(|r| r["id"].as_str().expect("id").to_string()).collect()
}

fn assert_refused(r: &Resp, param: &str, what: &str) {
    assert_eq!(r.status, 400, "{what}: {r:?}");
    assert_eq!(r.json["api_error_code"], "param_wrong_value", "{what}");
    assert_eq!(r.json["type"], "invalid_request", "{what}");
    assert_eq!(r.json["http_status_code"], 400, "{what}");
    assert_eq!(r.json["param"], param, "{what}");
    assert!(r.json["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}");
}

#[tokio::test]
async fn events_accept_include_deleted_and_list_the_same_events() {
    let (sb, site) = seeded(&spec(5, 3)).await;
    let c = client();
    let (plain, _) = list_all(&c, &sb, &site, "events", "event", "limit=100&sort_by[asc]=occurred_at").await;
    assert!(!plain.is_empty());
    for flag in ["true", "false", "True", "False"] {
        let q = format!("limit=100&sort_by[asc]=occurred_at&include_deleted={flag}");
        let (got, _) = list_all(&c, &sb, &site, "events", "event", &q).await;
        assert_eq!(ids(&got), ids(&plain), "events?include_deleted={flag}");
    }
    // tap-chargebee's exact events call.
    let q = enc_query("limit=100&include_deleted=True&sort_by[asc]=occurred_at&occurred_at[after]=0");
    assert_eq!(get(&c, &sb, &site, &format!("/api/v2/events?{q}")).await.status, 200);
    let r = get(&c, &sb, &site, "/api/v2/events?include_deleted=maybe").await;
    assert_refused(&r, "include_deleted", "include_deleted=maybe");
}

#[tokio::test]
async fn every_list_accepts_include_deleted_true_and_false() {
    let (sb, site) = seeded(&spec(5, 3)).await;
    let c = client();
    let control = sb.control();
    let gone = control.invoices(&site.name).unwrap()[0].id.clone();
    control.delete_invoice(&site.name, &gone).unwrap();
    for (resource, key) in [
        ("customers", "customer"),
        ("invoices", "invoice"),
        ("transactions", "transaction"),
        ("credit_notes", "credit_note"),
    ] {
        let (plain, _) = list_all(&c, &sb, &site, resource, key, "limit=100").await;
        let (off, _) = list_all(&c, &sb, &site, resource, key, "limit=100&include_deleted=false").await;
        let (on, _) = list_all(&c, &sb, &site, resource, key, "limit=100&include_deleted=true").await;
        assert_eq!(ids(&off), ids(&plain), "{resource}: include_deleted=false is the default");
        assert!(on.len() >= plain.len(), "{resource}");
        if resource == "invoices" {
            assert!(!ids(&plain).contains(&gone) && ids(&on).contains(&gone));
        }
    }
}

#[tokio::test]
async fn sdk_filters_on_fields_the_sandbox_does_not_fill_are_accepted() {
    let (sb, site) = seeded(&spec(4, 2)).await;
    let c = client();
    let control = sb.control();
    let all = |resource: &str| match resource {
        "customers" => control.customers(&site.name).unwrap().iter().filter(|r| !r.deleted).count(),
        "invoices" => control.invoices(&site.name).unwrap().iter().filter(|r| !r.deleted).count(),
        "transactions" => control.transactions(&site.name).unwrap().len(),
        "credit_notes" => control.credit_notes(&site.name).unwrap().len(),
        _ => control.events(&site.name).unwrap().len(),
    };
    // (resource, key, query, matches every record?) — absent attributes: `is` matches none,
    // `is_present=false` and `is_not` all.
    for (resource, key, q, every) in [
        ("customers", "customer", "phone[is_present]=false", true),
        ("customers", "customer", "relationship[parent_id][is]=cus_1", false),
        ("customers", "customer", "business_entity_id[is_not]=be_1", true),
        ("customers", "customer", "channel[in]=[\"web\"]", false),
        ("customers", "customer", "auto_close_invoices[is]=true", false),
        ("customers", "customer", "taxability[is_not]=exempt", true),
        ("invoices", "invoice", "subscription_id[is_present]=false", true),
        ("invoices", "invoice", "einvoice[status][is_not]=failed", true),
        ("invoices", "invoice", "dunning_status[is]=in_progress", false),
        ("invoices", "invoice", "paid_on_after=0", false),
        ("transactions", "transaction", "payment_source_id[is_present]=false", true),
        ("transactions", "transaction", "amount_capturable[gt]=0", false),
        ("credit_notes", "credit_note", "voided_at[is_present]=false", true),
        ("credit_notes", "credit_note", "create_reason_code[is_not]=x", true),
        ("events", "event", "start_time=0", true),
        ("events", "event", "end_time=0", false),
    ] {
        let (got, _) = list_all(&c, &sb, &site, resource, key, &enc_query(&format!("limit=100&{q}"))).await;
        let want = if every { all(resource) } else { 0 };
        if q != "paid_on_after=0" {
            assert_eq!(got.len(), want, "{resource}?{q}");
        }
    }
    // paid_on_after = paid_at[after]: the paid invoices.
    let paid = control.invoices(&site.name).unwrap().iter().filter(|i| !i.deleted && i.paid_at.is_some()).count();
    let (got, _) = list_all(&c, &sb, &site, "invoices", "invoice", "limit=100&paid_on_after=0").await;
    assert_eq!(got.len(), paid);
}

#[tokio::test]
async fn retrieves_accept_the_line_item_parameters_the_connector_sends() {
    let (sb, site) = seeded(&spec(3, 2)).await;
    let c = client();
    let control = sb.control();
    let inv = control.invoices(&site.name).unwrap()[0].clone();
    let cn = control.credit_notes(&site.name).unwrap().first().map(|n| n.id.clone());
    let q = enc_query("line_items_limit=100&line_items_offset=[\"2\"]&line_item[customer_id][is]=x");
    let r = get(&c, &sb, &site, &format!("/api/v2/invoices/{}?{q}", inv.id)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["invoice"]["line_items"].as_array().unwrap().len(), inv.line_items.len());
    if let Some(cn) = cn {
        let r = get(&c, &sb, &site, &format!("/api/v2/credit_notes/{cn}?line_items_limit=5")).await;
        assert_eq!(r.status, 200, "{r:?}");
    }
    let r = get(&c, &sb, &site, &format!("/api/v2/invoices/{}?line_items_limit=0", inv.id)).await;
    assert_refused(&r, "line_items_limit", "line_items_limit=0");
    let r = get(&c, &sb, &site, &format!("/api/v2/customers/{}?line_items_limit=5", inv.customer_id)).await;
    assert_refused(&r, "line_items_limit", "customer retrieve takes no line items");
    let q = enc_query("line_item[amount][is]=1");
    let r = get(&c, &sb, &site, &format!("/api/v2/invoices/{}?{q}", inv.id)).await;
    assert_refused(&r, "line_item[amount][is]", "not a line-item filter");
}

#[tokio::test]
async fn truly_unknown_parameters_are_still_refused_in_the_same_shape() {
    let (sb, site) = seeded(&spec(2, 2)).await;
    let c = client();
    for (path, q, param) in [
        ("events", "colour=red", "colour"),
        ("events", "updated_at[after]=1", "updated_at[after]"),
        ("events", "sort_by[asc]=updated_at", "sort_by[asc]"),
        ("invoices", "colour=red", "colour"),
        ("invoices", "cf_region[is]=eu", "cf_region[is]"),
        ("customers", "relationship[grandparent_id][is]=x", "relationship[grandparent_id][is]"),
        ("credit_notes", "sort_by[asc]=updated_at", "sort_by[asc]"),
        ("transactions", "include_deleted=yes", "include_deleted"),
        ("customers", "phone[after]=1", "phone[after]"),
    ] {
        let r = get(&c, &sb, &site, &format!("/api/v2/{path}?{}", enc_query(q))).await;
        assert_refused(&r, param, &format!("{path}?{q}"));
    }
    let ev = sb.control().events(&site.name).unwrap()[0].id.clone();
    let r = get(&c, &sb, &site, &format!("/api/v2/events/{ev}?colour=red")).await;
    assert_refused(&r, "colour", "unknown retrieve parameter");
}

#[tokio::test]
async fn lenient_mode_ignores_unknown_parameters_on_lists_and_retrieves() {
    let mut config = roomy();
    config.strict_params = false;
    let sb = start(config).await;
    let site = sb.sites()[0].clone();
    sb.control().seed(&site.name, &spec(2, 2)).unwrap();
    let c = client();
    assert_eq!(get(&c, &sb, &site, "/api/v2/invoices?colour=red").await.status, 200);
    let ev = sb.control().events(&site.name).unwrap()[0].id.clone();
    assert_eq!(get(&c, &sb, &site, &format!("/api/v2/events/{ev}?colour=red")).await.status, 200);
}
