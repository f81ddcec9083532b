//! The emulated GP Web Services operations.

use crate::model::{Company, DocType};
use crate::node::Node;
use crate::rules::GpError;
use crate::server::{HttpResponse, Shared};
use crate::service::{ApplyRequest, OpError, OpResult};
use crate::xmldom::Element;

use super::SoapRequest;
use super::envelope;

/// Operations this sandbox answers (the rest of the WSDL's 367 are refused by name).
pub const OPERATIONS: &[&str] = &[
    "GetPolicyByOperation",
    "GetCompanyList",
    "CreateCustomer",
    "UpdateCustomer",
    "GetCustomerByKey",
    "GetCustomerList",
    "CreateReceivablesInvoice",
    "GetReceivablesInvoiceByKey",
    "CreateReceivablesDebitMemo",
    "GetReceivablesDebitMemoByKey",
    "CreateReceivablesCreditMemo",
    "GetReceivablesCreditMemoByKey",
    "CreateCashReceipt",
    "GetCashReceiptByKey",
    "VoidCashReceipt",
    "VoidReceivablesCreditMemo",
    "GetBatchByKey",
    "GetBatchList",
    "GetReceivablesDocumentList",
    "GetLoggedValidationResultByKey",
    "GetCustomerReceivablesSummaryByKey",
];

/// `Extension/@ExtensionId` that carries applies on a CashReceipt or ReceivablesCreditMemo.
/// Its `DocExtension` holds one or more eConnect-style `<taRMApply>` elements
/// (`APTODCNM`, `APPTOAMT`); see README "Applies".
pub const APPLY_EXTENSION_ID: &str = "RMApply";

/// Business object named in ValidationError.ObjectType, per operation.
fn object_type(operation: &str) -> &'static str {
    match operation {
        "CreateCustomer" | "UpdateCustomer" | "GetCustomerByKey" | "GetCustomerList" => {
            "Microsoft.Dynamics.GP.Customer"
        }
        "CreateReceivablesInvoice" | "GetReceivablesInvoiceByKey" => "Microsoft.Dynamics.GP.ReceivablesInvoice",
        "CreateReceivablesDebitMemo" | "GetReceivablesDebitMemoByKey" => "Microsoft.Dynamics.GP.ReceivablesDebitMemo",
        "CreateReceivablesCreditMemo" | "GetReceivablesCreditMemoByKey" => {
            "Microsoft.Dynamics.GP.ReceivablesCreditMemo"
        }
        "CreateCashReceipt" | "GetCashReceiptByKey" | "VoidCashReceipt" => "Microsoft.Dynamics.GP.CashReceipt",
        "VoidReceivablesCreditMemo" => "Microsoft.Dynamics.GP.ReceivablesCreditMemo",
        "GetBatchByKey" | "GetBatchList" => "Microsoft.Dynamics.GP.Batch",
        "GetReceivablesDocumentList" => "Microsoft.Dynamics.GP.ReceivablesDocumentSummary",
        "GetPolicyByOperation" => "Microsoft.Dynamics.GP.Policy",
        "GetCustomerReceivablesSummaryByKey" => "Microsoft.Dynamics.GP.CustomerReceivablesSummary",
        _ => "Microsoft.Dynamics.GP.BusinessObject",
    }
}

/// A stable GUID per operation for its Policy key (GP's policies have fixed ids).
fn policy_id(operation: &str) -> String {
    use md5::{Digest, Md5};
    let h: [u8; 16] = Md5::digest(format!("gp-sandbox policy {operation}").as_bytes()).into();
    let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

pub async fn execute(shared: &Shared, req: &SoapRequest) -> HttpResponse {
    match run(shared, req).await {
        Ok(result) => envelope::success(&shared.schema, &req.operation, result.as_ref()),
        Err(OpError::Rejected(errors)) => {
            let company = company_id(&req.body);
            match log_validation(shared, company, &req.operation, &errors).await {
                Ok(log_id) => {
                    let text = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
                    envelope::validation_fault(&log_id, &text)
                }
                Err(e) => {
                    tracing::error!(error = %e, "GP sandbox: cannot log validation result");
                    envelope::system_fault()
                }
            }
        }
        Err(OpError::System(e)) => {
            tracing::error!(operation = %req.operation, error = format!("{e:#}"), "GP sandbox system exception");
            envelope::system_fault()
        }
    }
}

fn company_id(body: &Node) -> Option<i32> {
    body.str_at(&["context", "OrganizationKey", "Id"]).and_then(|s| s.trim().parse().ok())
}

/// Stores the errors under a new log id, as GP's exception log does, and returns the id.
async fn log_validation(
    shared: &Shared,
    company: Option<i32>,
    operation: &str,
    errors: &[GpError],
) -> anyhow::Result<String> {
    let log_id = uuid::Uuid::new_v4().to_string();
    let items: Vec<serde_json::Value> = errors
        .iter()
        .map(|e| {
            serde_json::json!({
                "ObjectType": object_type(operation),
                "PropertyNames": e.properties(),
                "Message": e.to_string(),
                "Id": e.code().to_string(),
            })
        })
        .collect();
    shared.service.db.log_validation(&log_id, company, operation, &serde_json::Value::Array(items).to_string()).await?;
    Ok(log_id)
}

async fn validation_result(shared: &Shared, log_id: &str) -> OpResult<Option<Node>> {
    let Some(json) = shared.service.db.logged_validation(log_id).await? else {
        return Ok(None);
    };
    let items: Vec<serde_json::Value> = serde_json::from_str(&json).map_err(anyhow::Error::from)?;
    let errors = items.iter().map(|i| {
        let s = |k: &str| i.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let props = i
            .get("PropertyNames")
            .and_then(|p| p.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str()).map(Node::from).collect::<Vec<_>>())
            .unwrap_or_default();
        Node::tree()
            .with("ObjectType", s("ObjectType"))
            .with("PropertyNames", Node::list("string", props))
            .with("Message", s("Message"))
            .with("Id", s("Id"))
    });
    Ok(Some(Node::tree().with("Errors", Node::list("ValidationError", errors)).with("Warnings", Node::tree())))
}

async fn company(shared: &Shared, body: &Node) -> OpResult<Company> {
    let ctx = body
        .at(&["context"])
        .ok_or_else(|| GpError::Contract("context is required (Context with OrganizationKey)".into()))?;
    let id = ctx
        .str_at(&["OrganizationKey", "Id"])
        .ok_or_else(|| GpError::Contract("context/OrganizationKey (xsi:type=\"CompanyKey\", Id) is required".into()))?;
    let id: i32 =
        id.trim().parse().map_err(|_| GpError::Contract(format!("OrganizationKey Id {id:?} is not a company id")))?;
    shared.service.company(id).await
}

/// A Policy must be sent; its key must be the empty GUID or the one GetPolicyByOperation gives
/// for this operation (unless `allow_any_policy`).
fn require_policy(shared: &Shared, body: &Node, operation: &str) -> OpResult<()> {
    let policy = match body.get("policy") {
        Some(p) if !p.is_nil() => p,
        _ => return Err(GpError::PolicyMissing { operation: operation.to_string() }.into()),
    };
    let id = policy.str_at(&["Key", "Id"]).map(str::trim).unwrap_or_default().to_ascii_lowercase();
    let known = id.is_empty() || id == EMPTY_GUID || id == policy_id(operation);
    if known || shared.service.rules.allow_any_policy { Ok(()) } else { Err(GpError::PolicyUnknown { id }.into()) }
}

const EMPTY_GUID: &str = "00000000-0000-0000-0000-000000000000";

fn object<'a>(body: &'a Node, member: &str) -> OpResult<&'a Node> {
    body.at(&[member]).ok_or_else(|| GpError::Contract(format!("{member} is required")).into())
}

fn key_id(body: &Node) -> OpResult<String> {
    body.str_at(&["key", "Id"])
        .map(|s| s.trim_end().to_string())
        .ok_or_else(|| GpError::Contract("key/Id is required".into()).into())
}

/// Applies carried in the document's Extensions (see [`APPLY_EXTENSION_ID`]).
pub fn applies_from_extensions(document: &Node) -> OpResult<Vec<ApplyRequest>> {
    let mut out = Vec::new();
    let Some(list) = document.at(&["Extensions"]) else {
        return Ok(out);
    };
    for ext in list.all("Extension") {
        if ext.str_at(&["@ExtensionId"]) != Some(APPLY_EXTENSION_ID) {
            continue;
        }
        let Some(Node::Any(elements)) = ext.get("DocExtension") else {
            continue;
        };
        for el in elements {
            out.extend(apply_elements(el)?);
        }
    }
    Ok(out)
}

fn apply_elements(el: &Element) -> OpResult<Vec<ApplyRequest>> {
    if el.name.local != "taRMApply" {
        // A wrapper element (e.g. <RMApplies>) around the applies.
        let mut out = Vec::new();
        for c in &el.children {
            out.extend(apply_elements(c)?);
        }
        return Ok(out);
    }
    let field = |name: &str| el.children.iter().find(|c| c.name.local == name).map(|c| c.text.trim().to_string());
    let to_type = ApplyRequest::to_type_from(field("APTODCTY").as_deref())?;
    match (field("APTODCNM"), field("APPTOAMT")) {
        (Some(to), Some(amount)) if !to.is_empty() => Ok(vec![ApplyRequest { to_type, to_number: to, amount }]),
        _ => Err(GpError::Contract("taRMApply needs APTODCNM (apply-to document number) and APPTOAMT (amount)".into())
            .into()),
    }
}

async fn run(shared: &Shared, req: &SoapRequest) -> OpResult<Option<Node>> {
    let body = &req.body;
    match req.operation.as_str() {
        "GetPolicyByOperation" => policy(body).map(Some),
        "GetCompanyList" => Ok(Some(shared.service.company_list(body.at(&["criteria"])).await?)),
        "GetLoggedValidationResultByKey" => {
            let id = body.str_at(&["logId"]).ok_or_else(|| GpError::Contract("logId is required".into()))?;
            validation_result(shared, id).await
        }
        op => {
            let co = company(shared, body).await?;
            run_in_company(shared, &co, op, body).await
        }
    }
}

/// GetPolicyByOperation: a Policy with a stable id per operation and no behaviours.
fn policy(body: &Node) -> OpResult<Node> {
    let name = body.str_at(&["operation"]).ok_or_else(|| GpError::Contract("operation is required".into()))?;
    if !OPERATIONS.contains(&name) {
        return Err(GpError::NotFound { kind: "Policy for operation", id: name.to_string() }.into());
    }
    let root = object_type(name).trim_start_matches("Microsoft.Dynamics.GP.");
    Ok(Node::tree()
        .with("Key", Node::tree().with("Id", policy_id(name)))
        .with("Name", name)
        .with("RootBusinessObjectName", root))
}

/// The operations on one company's data (`context/OrganizationKey`).
async fn run_in_company(shared: &Shared, co: &Company, op: &str, body: &Node) -> OpResult<Option<Node>> {
    let svc = &shared.service;
    match op {
        "CreateCustomer" => {
            require_policy(shared, body, op)?;
            svc.create_customer(co, object(body, "customer")?).await?;
            Ok(None)
        }
        "UpdateCustomer" => {
            require_policy(shared, body, op)?;
            svc.update_customer(co, object(body, "customer")?).await?;
            Ok(None)
        }
        "GetCustomerByKey" => {
            let id = key_id(body)?;
            let found = svc.get_customer(co, &id).await?;
            found.map(Some).ok_or_else(|| GpError::CustomerMissing { customer: id }.into())
        }
        "GetCustomerList" => Ok(Some(svc.customer_list(co, body.at(&["criteria"])).await?)),
        "CreateReceivablesInvoice"
        | "CreateReceivablesDebitMemo"
        | "CreateReceivablesCreditMemo"
        | "CreateCashReceipt" => {
            require_policy(shared, body, op)?;
            let (member, doc_type) = match op {
                "CreateReceivablesInvoice" => ("receivablesInvoice", DocType::Invoice),
                "CreateReceivablesDebitMemo" => ("receivablesDebitMemo", DocType::DebitMemo),
                "CreateReceivablesCreditMemo" => ("receivablesCreditMemo", DocType::CreditMemo),
                _ => ("cashReceipt", DocType::CashReceipt),
            };
            let doc = object(body, member)?;
            let applies = applies_from_extensions(doc)?;
            if !applies.is_empty() && !shared.rmapply_extension {
                return Err(GpError::ExtensionNotInstalled { id: APPLY_EXTENSION_ID.into() }.into());
            }
            svc.create_document(co, doc_type, doc, &applies).await?;
            Ok(None)
        }
        "GetReceivablesInvoiceByKey"
        | "GetReceivablesDebitMemoByKey"
        | "GetReceivablesCreditMemoByKey"
        | "GetCashReceiptByKey" => {
            let doc_type = match op {
                "GetReceivablesInvoiceByKey" => DocType::Invoice,
                "GetReceivablesDebitMemoByKey" => DocType::DebitMemo,
                "GetReceivablesCreditMemoByKey" => DocType::CreditMemo,
                _ => DocType::CashReceipt,
            };
            let id = key_id(body)?;
            let found = svc.get_document(co, doc_type, &id).await?;
            found.map(Some).ok_or_else(|| GpError::NotFound { kind: doc_type.label(), id }.into())
        }
        "VoidCashReceipt" | "VoidReceivablesCreditMemo" => {
            require_policy(shared, body, op)?;
            let doc_type = if op == "VoidCashReceipt" { DocType::CashReceipt } else { DocType::CreditMemo };
            svc.void_document(co, doc_type, &key_id(body)?).await?;
            Ok(None)
        }
        "GetReceivablesDocumentList" => Ok(Some(svc.document_list(co, body.at(&["criteria"])).await?)),
        "GetBatchByKey" => {
            let id = key_id(body)?;
            let source = body.str_at(&["key", "Source"]);
            let found = svc.get_batch(co, source, &id).await?;
            found.map(Some).ok_or_else(|| GpError::NotFound { kind: "Batch", id }.into())
        }
        "GetBatchList" => Ok(Some(svc.batch_list(co, body.at(&["criteria"])).await?)),
        "GetCustomerReceivablesSummaryByKey" => {
            let id = key_id(body)?;
            let found = svc.receivables_summary(co, &id).await?;
            found.map(Some).ok_or_else(|| GpError::CustomerMissing { customer: id }.into())
        }
        _ => Err(GpError::Contract(format!("operation {op} is not emulated")).into()),
    }
}
