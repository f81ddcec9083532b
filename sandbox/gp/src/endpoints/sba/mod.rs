//! GP Service Based Architecture (REST/JSON), as far as public material shows it — and every
//! SBA shape this sandbox assumes, in this one module.
//!
//! Known from real traffic: the base path `/GPService/Tenants(<tenant>)/Companies(<name>)/…`
//! (case-insensitive, parens sometimes %-encoded, company names that contain parens), request
//! bodies wrapped in `{"Payload": {…}}` with PascalCase members, `.json` suffix for JSON, POST
//! to create (key not in the URL), PATCH to update, composite keys as `(a;b)`.
//!
//! NOT public, decided here (see README "SBA"): the resource paths below for customers,
//! receivables documents, cash receipts and batches; members identical to the WSDL objects
//! (so `ArrayOfX` become JSON arrays, decimals are JSON numbers); responses `{"Payload": …}`;
//! the error body; applies as an `Applies` array beside `Payload`.
//!
//! | method | path (after `Companies(<name>)/`)           | operation                     |
//! |--------|----------------------------------------------|-------------------------------|
//! | GET    | `Sales/Customers`                            | GetCustomerList               |
//! | POST   | `Sales/Customers`                            | CreateCustomer                |
//! | GET    | `Sales/Customers(<id>)`                      | GetCustomerByKey              |
//! | PATCH  | `Sales/Customers(<id>)`                      | UpdateCustomer                |
//! | POST   | `Sales/ReceivablesInvoices`                  | CreateReceivablesInvoice      |
//! | GET    | `Sales/ReceivablesInvoices[(<id>)]`          | GetReceivablesInvoiceByKey / list |
//! | POST   | `Sales/ReceivablesCreditMemos`               | CreateReceivablesCreditMemo   |
//! | GET    | `Sales/ReceivablesCreditMemos[(<id>)]`       | GetReceivablesCreditMemoByKey / list |
//! | POST   | `Sales/CashReceipts`                         | CreateCashReceipt             |
//! | GET    | `Sales/CashReceipts[(<id>)]`                 | GetCashReceiptByKey / list    |
//! | GET    | `Sales/Batches`, `Sales/Batches(<source>;<id>)` or `(<id>)` | GetBatchList / GetBatchByKey |
//! | GET    | `…/Tenants(<tenant>)/Companies`              | GetCompanyList                |

mod handlers;
mod path;
mod request;
mod response;

use bytes::Bytes;
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};

use crate::server::{Reply, Shared};
use response::{op_error, payload, render_fault, simple_error};

pub use path::{SbaPath, parse_path, route};
pub use request::{APPLIES_MEMBER, read_payload};

pub async fn handle(shared: &Shared, parts: &Parts, body: Bytes) -> Reply {
    let Some(path) = parse_path(parts.uri.path()) else {
        return Reply::Respond(simple_error(
            StatusCode::NOT_FOUND,
            "not an SBA path: expected /GPService/Tenants(<tenant>)/Companies(<company>)/<Area>/<Collection>",
        ));
    };
    if !path.tenant.eq_ignore_ascii_case(&shared.tenant) {
        return Reply::Respond(simple_error(StatusCode::NOT_FOUND, &format!("tenant {} does not exist", path.tenant)));
    }
    let Some(company_name) = path.company.clone() else {
        if parts.method != Method::GET {
            return Reply::Respond(simple_error(StatusCode::METHOD_NOT_ALLOWED, "Companies is read-only"));
        }
        let work = async {
            match shared.service.company_list(None).await {
                Ok(list) => payload(shared, StatusCode::OK, "ArrayOfCompany", &list),
                Err(e) => op_error(e, "Microsoft.Dynamics.GP.Company"),
            }
        };
        return shared.paced("GetCompanyList", "sba:GetCompanyList", render_fault, work).await;
    };
    let Some(res) = path::resource(&path.resource) else {
        return Reply::Respond(simple_error(
            StatusCode::NOT_FOUND,
            &format!("no SBA resource {}", path.resource.join("/")),
        ));
    };
    let Some(op) = path::operation(&parts.method, res, path.key.is_some()) else {
        return Reply::Respond(simple_error(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{} is not supported on {}", parts.method, path.resource.join("/")),
        ));
    };
    let label = format!("sba:{op}");
    let work = async {
        let company = match shared.service.company_by_name(&company_name).await {
            Ok(c) => c,
            Err(e) => return op_error(e, "Microsoft.Dynamics.GP.Company"),
        };
        handlers::execute(shared, &company, &parts.method, res, path.key.as_deref(), &body).await
    };
    shared.paced(op, &label, render_fault, work).await
}
