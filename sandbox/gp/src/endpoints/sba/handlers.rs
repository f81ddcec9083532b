//! SBA handlers, one per resource (customers, receivables documents, batches): read the body,
//! call the service, answer with the object, `201` + `Location`, or the error body.

use hyper::{Method, StatusCode};

use super::path::{Resource, document_type_name, path_collection};
use super::request::{read_payload, set_key};
use super::response::{created, one, op_error, payload, simple_error};
use crate::model::{Company, DocType};
use crate::node::Node;
use crate::rules::GpError;
use crate::server::{HttpResponse, Shared};
use crate::service::{ApplyRequest, OpError};

/// One SBA call under a company, routed to its resource.
struct Call<'a> {
    shared: &'a Shared,
    company: &'a Company,
    /// The URL key, split at `;`.
    key: Option<&'a [String]>,
    body: &'a [u8],
    /// Business object named in ValidationError.ObjectType.
    object_type: &'static str,
}

impl Call<'_> {
    fn fail(&self, e: OpError) -> HttpResponse {
        op_error(e, self.object_type)
    }

    /// The last part of the URL key (the id of `(<source>;<id>)`).
    fn id(&self) -> String {
        self.key.and_then(|k| k.last()).cloned().unwrap_or_default()
    }

    fn read(&self, type_name: &str) -> Result<(Node, Vec<ApplyRequest>), GpError> {
        read_payload(&self.shared.schema, self.shared.strict_schema, self.body, type_name)
    }

    /// 200 with a list of `type_name`, or the error.
    fn list(&self, found: Result<Node, OpError>, type_name: &str) -> HttpResponse {
        match found {
            Ok(list) => payload(self.shared, StatusCode::OK, type_name, &list),
            Err(e) => self.fail(e),
        }
    }
}

fn object_type(res: Resource) -> &'static str {
    match res {
        Resource::Customers => "Microsoft.Dynamics.GP.Customer",
        Resource::Documents(DocType::Invoice) => "Microsoft.Dynamics.GP.ReceivablesInvoice",
        Resource::Documents(DocType::DebitMemo) => "Microsoft.Dynamics.GP.ReceivablesDebitMemo",
        Resource::Documents(DocType::CreditMemo) => "Microsoft.Dynamics.GP.ReceivablesCreditMemo",
        Resource::Documents(DocType::CashReceipt) => "Microsoft.Dynamics.GP.CashReceipt",
        Resource::Batches => "Microsoft.Dynamics.GP.Batch",
    }
}

pub(super) async fn execute(
    shared: &Shared,
    company: &Company,
    method: &Method,
    res: Resource,
    key: Option<&[String]>,
    body: &[u8],
) -> HttpResponse {
    let call = Call { shared, company, key, body, object_type: object_type(res) };
    let keyed = key.is_some();
    match (method.as_str(), res) {
        ("GET", Resource::Customers) if keyed => get_customer(&call, call.id()).await,
        ("GET", Resource::Customers) => {
            call.list(shared.service.customer_list(company, None).await, "ArrayOfCustomerSummary")
        }
        ("POST", Resource::Customers) => create_customer(&call).await,
        ("PATCH", Resource::Customers) => update_customer(&call).await,
        ("POST", Resource::Documents(doc_type)) => create_document(&call, doc_type).await,
        ("GET", Resource::Documents(doc_type)) if keyed => get_document(&call, doc_type).await,
        ("GET", Resource::Documents(doc_type)) => list_documents(&call, doc_type).await,
        ("GET", Resource::Batches) if keyed => get_batch(&call).await,
        ("GET", Resource::Batches) => call.list(shared.service.batch_list(company, None).await, "ArrayOfBatch"),
        _ => simple_error(StatusCode::METHOD_NOT_ALLOWED, "method not supported on this resource"),
    }
}

// ---- customers ---------------------------------------------------------------------------------

async fn get_customer(call: &Call<'_>, id: String) -> HttpResponse {
    let found = call.shared.service.get_customer(call.company, &id).await;
    one(call.shared, found, "Customer", "Customer", id, |e| call.fail(e))
}

async fn create_customer(call: &Call<'_>) -> HttpResponse {
    let (node, _) = match call.read("Customer") {
        Ok(p) => p,
        Err(e) => return call.fail(e.into()),
    };
    let svc = &call.shared.service;
    if let Err(e) = svc.create_customer(call.company, &node).await {
        return call.fail(e);
    }
    let id = node.str_at(&["Key", "Id"]).unwrap_or_default().to_string();
    let found = svc.get_customer(call.company, &id).await;
    created(call.shared, call.company, found, "Customer", &format!("Sales/Customers({id})"))
}

/// PATCH: the members sent replace the stored ones; the URL key is the customer, and a
/// `Key.Id` in the payload must agree with it.
async fn update_customer(call: &Call<'_>) -> HttpResponse {
    let (mut node, _) = match call.read("Customer") {
        Ok(p) => p,
        Err(e) => return call.fail(e.into()),
    };
    let url_id = call.id();
    match node.str_at(&["Key", "Id"]) {
        Some(id) if id != url_id => {
            let differs = format!("Payload Key.Id {id} differs from the URL key {url_id}");
            return call.fail(GpError::Contract(differs).into());
        }
        Some(_) => {}
        None => set_key(&mut node, &url_id),
    }
    if let Err(e) = call.shared.service.update_customer(call.company, &node).await {
        return call.fail(e);
    }
    get_customer(call, url_id).await
}

// ---- receivables documents -----------------------------------------------------------------

async fn create_document(call: &Call<'_>, doc_type: DocType) -> HttpResponse {
    let type_name = document_type_name(doc_type);
    let (node, applies) = match call.read(type_name) {
        Ok(p) => p,
        Err(e) => return call.fail(e.into()),
    };
    if !applies.is_empty() && !call.shared.rmapply_extension {
        let id = crate::endpoints::soap::APPLY_EXTENSION_ID.to_string();
        return call.fail(GpError::ExtensionNotInstalled { id }.into());
    }
    let svc = &call.shared.service;
    match svc.create_document(call.company, doc_type, &node, &applies).await {
        Ok(doc) => {
            let found = svc.get_document(call.company, doc_type, &doc.number).await;
            let location = format!("{}({})", path_collection(doc_type), doc.number);
            created(call.shared, call.company, found, type_name, &location)
        }
        Err(e) => call.fail(e),
    }
}

async fn get_document(call: &Call<'_>, doc_type: DocType) -> HttpResponse {
    let id = call.id();
    let found = call.shared.service.get_document(call.company, doc_type, &id).await;
    one(call.shared, found, document_type_name(doc_type), doc_type.label(), id, |e| call.fail(e))
}

/// A collection lists the documents of its type (GetReceivablesDocumentList with a Type criterion).
async fn list_documents(call: &Call<'_>, doc_type: DocType) -> HttpResponse {
    let criteria = Node::tree().with("Type", Node::tree().with("EqualValue", doc_type.wsdl_name()));
    let found = call.shared.service.document_list(call.company, Some(&criteria)).await;
    call.list(found, "ArrayOfReceivablesDocumentSummary")
}

// ---- batches -------------------------------------------------------------------------------

/// `Batches(<source>;<id>)` or `Batches(<id>)` (any source).
async fn get_batch(call: &Call<'_>) -> HttpResponse {
    let (source, id) = match call.key.unwrap_or_default() {
        [source, id] => (Some(source.as_str()), id.clone()),
        _ => (None, call.id()),
    };
    let found = call.shared.service.get_batch(call.company, source, &id).await;
    one(call.shared, found, "Batch", "Batch", id, |e| call.fail(e))
}
