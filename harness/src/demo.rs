//! `ml-connector demo`: the product end to end on the embedded SQLite store, nothing to install
//! beyond the build. Both emulators start in-process with seeded data; the host runs the real
//! components (chargebee-source, gp-mapper, gp-target) with NTLM to GP; a backfill and then a
//! stream of webhooks (duplicated, out of order) go through. Receipts and credit memos land
//! unapplied; their applies (and refunds' debit memos) wait until GP's clerk posts the batches —
//! the demo posts them as the clerk would — then land once. The demo ends with the
//! reconciliation: every customer, every currency, zero difference — or it fails.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::bail;
use chargebee_sandbox::{InvoiceInput, LineInput, PaymentInput, SeedSpec, WebhookConfig};

use crate::stack::{Clerk, Stack, StackSpec, TenantSpec, WEBHOOK_PASSWORD, WEBHOOK_USER};

/// GP's AR clerk: while applies wait for posting, post every batch (Series Post) and let the
/// connector's settle steps land.
async fn clerk_posts(s: &Stack) -> anyhow::Result<()> {
    let mut rounds = 0;
    while s.only_posting_waits("acme").await? && rounds < 5 {
        let waiting = s.app.store.stats(Some("acme")).await?.waiting;
        let posted = s.post_batches().await?;
        println!("  GP's clerk posted {posted} batch(es); {waiting} apply/void step(s) were waiting for it");
        s.drain("acme", Duration::from_secs(120)).await?;
        rounds += 1;
    }
    Ok(())
}

pub async fn run(customers: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let work = PathBuf::from(".mlc/demo");
    let _ = std::fs::remove_dir_all(&work);
    let tenant = TenantSpec::new("acme", "acme-test", chargebee_sandbox::Region::Us);
    let spec = StackSpec { tenants: vec![tenant], clerk: Clerk::Manual, ..StackSpec::default() };
    let s = Stack::start(&work, spec).await?;
    let site = s.site("acme")?;
    println!("Chargebee emulator: site {} ({}) at {}", site.name, site.region.as_str(), s.cb.origin(site.region));
    println!(
        "GP emulator: SOAP {} as {}\\{} (NTLMv2)",
        s.gp.soap_url(),
        s.gp.credentials().domain,
        s.gp.credentials().user
    );
    println!(
        "host: intake {}, store {}, up in {} ms\n",
        s.base,
        work.join("store.db").display(),
        started.elapsed().as_millis()
    );

    let control = s.cb.control();
    let seeded = control.seed(
        &site.name,
        &SeedSpec {
            customers,
            invoices_per_customer: 4,
            currencies: vec!["USD".into(), "EUR".into(), "JPY".into()],
            days: 25,
            seed: 42,
            credit_note_rate: 0.2,
            refund_rate: 0.1,
            void_rate: 0.05,
            ..SeedSpec::default()
        },
    )?;
    println!(
        "seeded Chargebee: {} customers, {} invoices ({} voided), {} payments, {} credit notes, {} refunds",
        seeded.customers, seeded.invoices, seeded.voided_invoices, seeded.payments, seeded.credit_notes, seeded.refunds
    );

    // 1. Backfill: customers first, then invoices, payments, credit notes, 100 per call.
    let calls_before = control.counters(&site.name)?.accepted;
    let t = Instant::now();
    s.backfill("acme").await?;
    let st = s.drain("acme", Duration::from_secs(300)).await?;
    clerk_posts(&s).await?;
    let calls = control.counters(&site.name)?.accepted - calls_before;
    println!(
        "backfill: {} jobs done, {} parked in {:.2} s; {calls} Chargebee calls",
        st.done,
        st.parked,
        t.elapsed().as_secs_f64()
    );

    // 2. Live: new invoices and payments arrive by webhook, each delivered twice, out of order.
    let before = control.events(&site.name)?.len();
    let custs = control.customers(&site.name)?;
    for (i, c) in custs.iter().take(10).enumerate() {
        let inv = control.create_invoice(
            &site.name,
            InvoiceInput::new(&c.id, vec![LineInput::adhoc("Usage overage", 1_250 + 10 * i as i64, 2)]),
        )?;
        if i % 2 == 0 {
            control.record_payment(
                &site.name,
                PaymentInput {
                    payment_method: "card".into(),
                    reference_number: None,
                    date: None,
                    applications: vec![(inv.id.clone(), inv.total)],
                },
            )?;
        }
    }
    let events: Vec<_> = control.events(&site.name)?.into_iter().skip(before).collect();
    let sender = s.webhooks(
        "acme",
        WebhookConfig {
            duplicate_rate: 1.0,
            out_of_order: true,
            seed: 3,
            time_compression: 100_000.0,
            ..WebhookConfig::new(&s.webhook_url("acme"))
        }
        .basic(WEBHOOK_USER, WEBHOOK_PASSWORD),
    )?;
    let t = Instant::now();
    let report = sender.deliver(events.clone()).await;
    let st = s.drain("acme", Duration::from_secs(120)).await?;
    clerk_posts(&s).await?;
    let st = s.drain("acme", Duration::from_secs(120)).await.map(|_| st)?;
    println!(
        "webhooks: {} events sent twice each, out of order: {} delivered, {} failed; drained in {:.2} s",
        events.len(),
        report.delivered(),
        report.failed(),
        t.elapsed().as_secs_f64()
    );

    // 3. Reconciliation.
    let conn = s.app.connections["acme"].clone();
    let rec = ml_connector::reconcile::run(&s.app, &conn).await?;
    println!("\nreconciliation ({} Chargebee records read fresh):", rec.records_read);
    rec.print();
    if let Some(inv) = control.invoices(&site.name)?.first() {
        let key = format!("invoice/{}", inv.id);
        println!("\ntimeline of {key}:");
        for e in s.app.store.audit("acme", Some(&key), None).await? {
            println!("  {:<16} {:<7} {:>5} ms  {}", e.stage, e.outcome, e.duration_ms.unwrap_or(0), e.detail);
        }
    }
    let clean = rec.is_clean() && st.dead == 0;
    let elapsed = started.elapsed().as_secs_f64();
    s.shutdown().await;
    if !clean {
        bail!("demo found differences (see above); jobs: {st:?}");
    }
    println!("\nok: every customer, every currency, zero difference; {elapsed:.1} s in all");
    Ok(())
}
