//! The GP emulator and a host running the real gp-target, and the ledger documents the
//! scenarios write.

use std::sync::Arc;

use gp_sandbox::{DocType, GpConfig, GpSandbox, PostOutcome, Sandbox};
use ml_connector::app::App;
use ml_connector::bindings::target::exports::ml_connector::plugin::target_api::{
    LedgerBalance, SettleOutcome, TargetError, WriteOutcome,
};
use ml_connector::bindings::types::{
    Apply, BatchKey, CashReceipt, CreditMemo, DocKind as WitKind, GpCustomer, LedgerDoc, ReceiptType,
    ReceivablesInvoice, VoidDoc,
};
use ml_connector_tests::*;

pub const FABRIKAM: i32 = -1;
/// Invoices, debit memos and credit memos go to this RM_Sales batch, receipts to `CASH`.
pub const SLS: &str = "CB-SLS";
pub const CASH: &str = "CB-CASH";

/// The GP emulator and a host whose connection `t` runs the real gp-target over `endpoint`
/// (NTLM with the emulator's account), as an operator would configure it.
pub struct Env {
    pub gp: Sandbox,
    pub app: Arc<App>,
    pub endpoint: &'static str,
    _db: TestDb,
}

fn toml_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// [`env_with`] with the `econnect` grant (the settle step's, whatever the endpoint).
pub async fn env(endpoint: &'static str, settings: &[(&str, &str)]) -> Env {
    env_with(endpoint, settings, true).await
}

/// `settings` override the defaults; `{gp}` in a value is the emulator's `http://host:port`.
/// `grant`: the target role gets the `econnect` grant (SQL login held by the host) — an
/// eConnect connection always has it.
pub async fn env_with(endpoint: &'static str, settings: &[(&str, &str)], grant: bool) -> Env {
    init_tracing();
    let gp = GpSandbox::start(GpConfig::default()).await.unwrap();
    let db = TestDb::from_env().await;
    let origin = format!("http://{}", gp.addr());
    let mut cfg = format!(
        "[host]\ndatabase = {}\ncache_dir = {}\n",
        toml_str(&db.url),
        toml_str(&shared_cache().display().to_string())
    );
    for name in ["standin-source", "standin-mapper", "gp-target"] {
        let (path, digest) = component(name);
        cfg.push_str(&format!(
            "\n[components.{name}]\npath = {}\nsha256 = \"{digest}\"\ncall_timeout_ms = 30000\n",
            toml_str(&path.display().to_string())
        ));
    }
    cfg.push_str(&format!(
        "\n[secrets.gp]\nscheme = \"ntlm\"\norigin = \"{origin}\"\nvalue = {}\n",
        toml_str(&gp.credentials().user_spec())
    ));
    cfg.push_str("\n[[connections]]\nid = \"t\"\n[connections.settings]\n");
    let mut all = vec![
        ("gp.endpoint", endpoint.to_string()),
        ("gp.soap_url", gp.soap_url()),
        ("gp.sba_url", gp.sba_company_url("Fabrikam, Inc.")),
        ("gp.company", "Fabrikam, Inc.".into()),
    ];
    for (k, v) in settings {
        all.retain(|(key, _)| key != k);
        all.push((k, v.replace("{gp}", &origin)));
    }
    for (k, v) in all {
        cfg.push_str(&format!("{} = {}\n", toml_str(k), toml_str(&v)));
    }
    cfg.push_str(&format!(
        "[connections.source]\ncomponent = \"standin-source\"\n[connections.mapper]\ncomponent = \"standin-mapper\"\n[connections.target]\ncomponent = \"gp-target\"\nallow_http = [\"{origin}\"]\nallow_private_network = true\nallow_insecure_ntlm = true\npaced = true\nsecrets = {{ gp = \"gp\" }}\n"
    ));
    if grant || endpoint == "econnect" {
        // The SQL login is the host's (a `sql` secret bound to the server); the guest never sees it.
        let sql = gp.sql_addr().expect("the emulator's SQL endpoint");
        cfg.push_str(&format!(
            "econnect = {{ server = \"{sql}\", database = \"TWO\", secret = \"gp-sql\" }}\n[secrets.gp-sql]\nscheme = \"sql\"\norigin = \"tds://{sql}\"\nvalue = {}\n",
            toml_str(&format!("{}:{}", gp.sql_login().user, gp.sql_login().password))
        ));
    }
    let dir = scratch("gp-target");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ml-connector.toml");
    std::fs::write(&path, cfg).unwrap();
    let app = App::build(ml_connector::config::Config::load(&path).unwrap()).await.unwrap();
    Env { gp, app, endpoint, _db: db }
}

impl Env {
    pub async fn ensure(&self, c: &GpCustomer) -> Result<WriteOutcome, TargetError> {
        target!(self, call_ensure_customer, c)
    }

    pub async fn write(&self, d: &LedgerDoc) -> Result<WriteOutcome, TargetError> {
        target!(self, call_write_document, d)
    }

    pub async fn settle(&self, d: &LedgerDoc) -> Result<SettleOutcome, TargetError> {
        target!(self, call_settle, d)
    }

    pub async fn batch_posted(&self, source: &str, id: &str) -> Result<bool, TargetError> {
        target!(self, call_batch_posted, &batch(source, id))
    }

    pub async fn find(&self, kind: WitKind, number: &str) -> Result<Option<LedgerDoc>, TargetError> {
        target!(self, call_find_document, kind, number)
    }

    pub async fn list(&self, customer: &str) -> Result<Vec<LedgerBalance>, TargetError> {
        target!(self, call_list_documents, customer)
    }

    /// The customer's e-mail as GP holds it (SY01200, whichever transport wrote it), read with
    /// eConnect's `customer-email` query on the emulator's database.
    pub async fn email(&self, customer: &str) -> Option<String> {
        use gp_sandbox::tds::backend::{Session, SqlValue};
        let mut s = self.gp.econnect_backend().session("TWO").await.unwrap();
        let sql = "SELECT INET1 FROM SY01200 WHERE Master_Type = 'CUS' AND Master_ID = @P1 AND ADRSCODE = @P2";
        let rows = s.query(sql, &[SqlValue::Text(customer.into()), SqlValue::Text("PRIMARY".into())]).await.unwrap();
        rows.rows.first().and_then(|r| match r.first() {
            Some(SqlValue::Text(t)) => Some(t.trim().to_string()),
            _ => None,
        })
    }

    pub async fn docs(&self, t: DocType) -> Vec<gp_sandbox::model::Document> {
        self.gp.control().documents_of(FABRIKAM, t).await.unwrap()
    }

    pub async fn doc(&self, t: DocType, number: &str) -> gp_sandbox::model::Document {
        self.gp.control().document(FABRIKAM, t, number).await.unwrap().unwrap_or_else(|| panic!("{number} in GP"))
    }

    /// GP's CURTRXAM of a document (what is left to apply).
    pub async fn remaining(&self, t: DocType, number: &str) -> i64 {
        self.doc(t, number).await.remaining
    }

    /// GP's RM20201 rows: (from, to, amount, write-off).
    pub async fn applies(&self) -> Vec<(String, String, i64, i64)> {
        let mut rows: Vec<_> = self
            .gp
            .control()
            .applies(FABRIKAM)
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.from_number, a.to_number, a.amount_minor, a.write_off_minor))
            .collect();
        rows.sort();
        rows
    }

    /// A GP user posts the batch (Series Post); it must post.
    pub async fn post(&self, source: &str, id: &str) {
        match self.gp.control().post_batch(FABRIKAM, id, source).await.unwrap() {
            PostOutcome::Posted { .. } => {}
            refused => panic!("batch {source}/{id} did not post: {refused:?}"),
        }
    }

    /// Posts the test's two batches (the sales batch first).
    pub async fn post_all(&self) {
        self.post("RM_Sales", SLS).await;
        self.post("RM_Cash", CASH).await;
    }

    /// Create calls GP counted for `op` over this env's protocol.
    pub fn calls(&self, op: &str) -> u64 {
        let name = if self.endpoint == "sba" { format!("sba:{op}") } else { op.to_string() };
        self.gp.control().counters().calls.get(&name).copied().unwrap_or(0)
    }
}

pub fn today() -> String {
    gp_sandbox::date::Date::today().iso()
}

pub fn batch(source: &str, id: &str) -> BatchKey {
    BatchKey { source: source.into(), id: id.into() }
}

pub fn customer(id: &str, name: &str) -> GpCustomer {
    GpCustomer {
        id: id.into(),
        source_id: id.to_lowercase(),
        name: name.into(),
        short_name: Some("ACME".into()),
        email: Some("ap@acme.example".into()),
        phone: None,
        currency: "USD".into(),
        currency_id: "Z-US$".into(),
        class_id: None,
        payment_terms: None,
        address: None,
    }
}

pub fn invoice(number: &str, customer: &str, sales: i64, tax: i64) -> ReceivablesInvoice {
    ReceivablesInvoice {
        description: Some("Plan".into()),
        ..ml_connector_tests::receivables_invoice(number, customer, SLS, &today(), sales, tax)
    }
}

/// A refund paid out: a debit memo (the invoice record, RMDTYPAL 3) of `amount`.
pub fn debit_memo(number: &str, customer: &str, amount: i64) -> ReceivablesInvoice {
    ReceivablesInvoice { description: Some("Refund".into()), ..invoice(number, customer, amount, 0) }
}

pub fn receipt(number: &str, customer: &str, amount: i64) -> CashReceipt {
    CashReceipt {
        number: number.into(),
        customer_id: customer.into(),
        customer_source_id: customer.to_lowercase(),
        batch: batch("RM_Cash", CASH),
        date: today(),
        currency: "USD".into(),
        currency_id: "Z-US$".into(),
        exchange: None,
        amount,
        checkbook: "UPTOWN TRUST".into(),
        receipt_type: ReceiptType::PaymentCard,
        check_card_number: Some("txn_42".into()),
        card_name: Some("VISA".into()),
        description: Some("Card payment".into()),
        distributions: vec![],
    }
}

pub fn memo(number: &str, customer: &str, sales: i64, tax: i64) -> CreditMemo {
    CreditMemo {
        number: number.into(),
        customer_id: customer.into(),
        customer_source_id: customer.to_lowercase(),
        batch: batch("RM_Sales", SLS),
        date: today(),
        currency: "USD".into(),
        currency_id: "Z-US$".into(),
        exchange: None,
        sales,
        trade_discount: 0,
        misc: 0,
        tax,
        total: sales + tax,
        description: Some("Credit".into()),
        distributions: vec![],
        tax_schedule: None,
        tax_details: vec![],
    }
}

/// Chargebee's cumulative `amount` applied from a credit document to a debit document of
/// `customer`, dated today.
pub fn apply(from: (WitKind, &str), to: (WitKind, &str), customer: &str, amount: i64) -> LedgerDoc {
    LedgerDoc::Apply(Apply {
        from_kind: from.0,
        from_number: from.1.into(),
        to_kind: to.0,
        to_number: to.1.into(),
        customer_id: customer.into(),
        customer_source_id: customer.to_lowercase(),
        currency: "USD".into(),
        amount,
        write_off: 0,
        date: today(),
    })
}

/// A receipt's cumulative apply to an invoice.
pub fn pay(receipt: &str, invoice: &str, customer: &str, amount: i64) -> LedgerDoc {
    apply((WitKind::CashReceipt, receipt), (WitKind::Invoice, invoice), customer, amount)
}

pub fn void(kind: WitKind, number: &str, customer: &str) -> LedgerDoc {
    LedgerDoc::Void(VoidDoc {
        kind,
        number: number.into(),
        customer_id: customer.into(),
        customer_source_id: customer.to_lowercase(),
        date: today(),
        description: Some("Payment voided".into()),
    })
}

/// The WIT's kind of an emulator document type.
pub fn wit_kind(t: DocType) -> WitKind {
    match t {
        DocType::Invoice => WitKind::Invoice,
        DocType::DebitMemo => WitKind::DebitMemo,
        DocType::CreditMemo => WitKind::CreditMemo,
        DocType::CashReceipt => WitKind::CashReceipt,
    }
}
