//! gp-target, the Dynamics GP target component.
//!
//! - `wire`: every request gp-target can build, built natively (the crate without its
//!   `component` feature), read by the GP emulator's own strict request readers against the
//!   real WSDL (names, namespaces, order, required members, enumerations; SBA payloads as WSDL
//!   objects, paths and methods routed) and compared byte for byte with golden copies under
//!   `tests/golden/` (`UPDATE_GOLDEN=1` rewrites them after a reviewed change); the eConnect
//!   documents of settle (taRMApply, taRMVoidTransaction) and of documents with a moved GL
//!   posting date (batch header) likewise, read by the host's eConnect document reader.
//! - `documents`: the real component in the real host against the emulator, once per transport
//!   (SOAP, SBA, eConnect): every document type written unapplied and read back, the customer
//!   first, a closed fiscal period, duplicates, conflicts, ambiguous failures, refusals, a
//!   batch being posted, list-documents.
//! - `settle`: applies and voids through `settle` once the test has posted GP's batches
//!   (`unposted` before, the difference only, `already-done`, GP's refusals, voids undoing
//!   applies, debit memos), `batch-posted`, SOAP/SBA settling through their `econnect` grant.
//! - `periods`: `gp.closed_period = next_open_period` (GL posting date in the next open period,
//!   document date kept) on every transport with the grant, and without it; `wait`; batch caps.
//! - `end_to_end`: one run on SBA through the whole stack (SOAP's are in e2e.rs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// One call of the target's export on a fresh sandboxed instance, as the host makes it.
macro_rules! target {
    ($env:expr, $call:ident $(, $arg:expr)*) => {{
        let c = &$env.app.connections["t"];
        let mut store = ml_connector::call::new_store(&$env.app, "t", &c.target, Default::default()).unwrap();
        let inst = c.target.pre.instantiate_async(&mut store).await.unwrap();
        inst.ml_connector_plugin_target_api().$call(&mut store $(, $arg)*).await.expect("the call completes")
    }};
}

/// Each scenario once per HTTP protocol: `mod name { soap, sba }`.
macro_rules! both_protocols {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn soap() {
                super::$name("soap").await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sba() {
                super::$name("sba").await
            }
        }
    };
}

/// Each scenario once per transport: SOAP, SBA and eConnect (`mod name { soap, sba, econnect }`).
macro_rules! every_transport {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn soap() {
                super::$name("soap").await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sba() {
                super::$name("sba").await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn econnect() {
                super::$name("econnect").await
            }
        }
    };
}

mod documents;
mod end_to_end;
mod periods;
mod settle;
mod support;
mod wire;
