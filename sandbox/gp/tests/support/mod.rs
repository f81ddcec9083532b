//! Test client: one keep-alive HTTP/1.1 connection, NTLM by the `sspi` crate (an independent
//! implementation of the client side), and SOAP envelope builders.
#![allow(dead_code)]
// Test helpers: a failed step should stop the test loudly (clippy.toml allows this only in #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod ec;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use gp_sandbox::{Credentials, GpConfig, GpSandbox, Sandbox};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, WWW_AUTHENTICATE};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use sspi::{
    AuthIdentity, BufferType, ClientRequestFlags, CredentialUse, DataRepresentation, Ntlm, SecurityBuffer, Sspi,
    SspiImpl, Username,
};

pub const NS_GP: &str = "http://schemas.microsoft.com/dynamics/gp/2006/01";
pub const NS_DYN: &str = "http://schemas.microsoft.com/dynamics/2006/01";
pub const FABRIKAM: i32 = -1;

pub async fn start() -> Sandbox {
    start_with(GpConfig::default()).await
}

/// A sandbox with the RMApply extension installed (applies in SOAP `Extensions` / SBA
/// `Applies`); GP's other rules as by default (the apply-to document must be posted).
pub async fn start_with_extension() -> Sandbox {
    start_with(GpConfig { rmapply_extension: true, ..GpConfig::default() }).await
}

/// The extension installed and applies to unposted documents allowed: for tests about
/// something else than when GP applies.
pub async fn start_lenient_applies() -> Sandbox {
    let rules = gp_sandbox::RulesConfig { allow_apply_to_unposted: true, ..Default::default() };
    start_with(GpConfig { rmapply_extension: true, rules, ..GpConfig::default() }).await
}

pub async fn start_with(config: GpConfig) -> Sandbox {
    GpSandbox::start(config).await.expect("sandbox starts")
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

/// One TCP connection to the sandbox.
pub struct Client {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Client {
    pub async fn connect(sandbox: &Sandbox) -> Client {
        let stream = tokio::net::TcpStream::connect(sandbox.addr()).await.expect("connect");
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Client { sender, host: sandbox.addr().to_string() }
    }

    /// Connects and authenticates with the sandbox's own account.
    pub async fn login(sandbox: &Sandbox) -> Client {
        let mut c = Client::connect(sandbox).await;
        let creds = sandbox.credentials().clone();
        let status = c.ntlm(gp_sandbox::soap::PATH, &creds).await.expect("NTLM exchange");
        assert_eq!(status, StatusCode::OK, "NTLM login with the right password");
        c
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> Result<Answer, hyper::Error> {
        let mut req = Request::builder().method(method).uri(path).header("host", &self.host);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let req = req.body(Full::new(Bytes::from(body.to_string()))).expect("request");
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
    }

    /// NTLM handshake on this connection with the `sspi` crate; returns the status of the
    /// AUTHENTICATE leg (200 when accepted).
    pub async fn ntlm(&mut self, path: &str, creds: &Credentials) -> anyhow::Result<StatusCode> {
        self.ntlm_with(path, creds, |_| {}).await
    }

    /// As [`Client::ntlm`], letting the test alter the AUTHENTICATE message before it is sent.
    pub async fn ntlm_with(
        &mut self,
        path: &str,
        creds: &Credentials,
        tamper: impl FnOnce(&mut Vec<u8>),
    ) -> anyhow::Result<StatusCode> {
        let host = self.host.clone();
        ntlm_handshake(&host, creds, tamper, async |authorization| {
            let a = self.send(Method::GET, path, &[("authorization", authorization)], "").await?;
            Ok((a.status, a.headers))
        })
        .await
    }

    pub async fn soap(&mut self, operation: &str, inner: &str) -> Answer {
        let body = envelope(operation, inner);
        self.soap_raw(operation, &body).await
    }

    pub async fn soap_raw(&mut self, operation: &str, body: &str) -> Answer {
        let headers = [
            ("soapaction", format!("\"{NS_GP}/{operation}\"")),
            (CONTENT_TYPE.as_str(), "text/xml; charset=utf-8".to_string()),
        ];
        self.send(Method::POST, gp_sandbox::soap::PATH, &headers, body).await.expect("SOAP call")
    }

    pub async fn json(&mut self, method: Method, path: &str, body: Option<serde_json::Value>, auth: &str) -> Answer {
        let mut headers = vec![("accept", "application/json".to_string()), (AUTHORIZATION.as_str(), auth.to_string())];
        if body.is_some() {
            headers.push((CONTENT_TYPE.as_str(), "application/json".to_string()));
        }
        let text = body.map(|b| b.to_string()).unwrap_or_default();
        self.send(method, path, &headers, &text).await.expect("SBA call")
    }
}

/// NTLM handshake with the `sspi` crate over any HTTP client on one keep-alive connection:
/// `send` sends a request with the given `Authorization` value and returns the status and
/// headers. Returns the status of the AUTHENTICATE leg (200 when accepted); `tamper` may alter
/// the AUTHENTICATE message before it is sent.
pub async fn ntlm_handshake(
    host: &str,
    creds: &Credentials,
    tamper: impl FnOnce(&mut Vec<u8>),
    mut send: impl AsyncFnMut(String) -> anyhow::Result<(StatusCode, HeaderMap)>,
) -> anyhow::Result<StatusCode> {
    let mut ntlm = Ntlm::new();
    let identity = AuthIdentity {
        username: Username::new(&creds.user, Some(&creds.domain))?,
        password: creds.password.clone().into(),
    };
    let mut acq = ntlm
        .acquire_credentials_handle()
        .with_credential_use(CredentialUse::Outbound)
        .with_auth_data(&identity)
        .execute(&mut ntlm)?;
    let target = format!("HTTP/{host}");
    let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
    let mut builder = ntlm
        .initialize_security_context()
        .with_credentials_handle(&mut acq.credentials_handle)
        .with_context_requirements(ClientRequestFlags::ALLOCATE_MEMORY)
        .with_target_data_representation(DataRepresentation::Native)
        .with_target_name(&target)
        .with_output(&mut output);
    ntlm.initialize_security_context_impl(&mut builder)?.resolve_to_result()?;
    let negotiate = B64.encode(&output[0].buffer);
    let (status, headers) = send(format!("NTLM {negotiate}")).await?;
    anyhow::ensure!(status == StatusCode::UNAUTHORIZED, "expected 401 with a challenge, got {status}");
    let header = headers
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("NTLM "))
        .ok_or_else(|| anyhow::anyhow!("no NTLM challenge in {headers:?}"))?;
    let mut input = vec![SecurityBuffer::new(B64.decode(header)?, BufferType::Token)];
    let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
    let mut builder = ntlm
        .initialize_security_context()
        .with_credentials_handle(&mut acq.credentials_handle)
        .with_context_requirements(ClientRequestFlags::ALLOCATE_MEMORY)
        .with_target_data_representation(DataRepresentation::Native)
        .with_target_name(&target)
        .with_input(&mut input)
        .with_output(&mut output);
    ntlm.initialize_security_context_impl(&mut builder)?.resolve_to_result()?;
    let mut type3 = output[0].buffer.clone();
    tamper(&mut type3);
    let (status, _) = send(format!("NTLM {}", B64.encode(&type3))).await?;
    Ok(status)
}

pub fn basic(creds: &Credentials) -> String {
    format!("Basic {}", B64.encode(creds.user_spec()))
}

pub fn envelope(operation: &str, inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body><{operation} xmlns="{NS_GP}">{inner}</{operation}></soap:Body></soap:Envelope>"#
    )
}

pub fn context(company: i32) -> String {
    format!(
        r#"<context><OrganizationKey xmlns="{NS_DYN}" xsi:type="CompanyKey"><Id>{company}</Id></OrganizationKey><CurrencyType xmlns="{NS_DYN}">Transactional</CurrencyType></context>"#
    )
}

pub fn policy() -> &'static str {
    "<policy><Key><Id>00000000-0000-0000-0000-000000000000</Id></Key></policy>"
}

pub fn money(value: &str) -> String {
    format!("<Value>{value}</Value><DecimalDigits>2</DecimalDigits>")
}

/// A Customer with the members the WSDL requires.
pub fn customer_xml(id: &str, name: &str, extra: &str) -> String {
    format!(
        "<customer><Key><Id>{id}</Id></Key><Name>{name}</Name><PostResultsTo>Receivables/Discount Account</PostResultsTo>{extra}\
         <CreatedDate>0001-01-01T00:00:00</CreatedDate><ModifiedDate>0001-01-01T00:00:00</ModifiedDate>\
         <LastModifiedDate>0001-01-01T00:00:00</LastModifiedDate></customer>"
    )
}

pub async fn create_customer(c: &mut Client, id: &str, name: &str) -> Answer {
    c.soap("CreateCustomer", &format!("{}{}{}", customer_xml(id, name, ""), context(FABRIKAM), policy())).await
}

/// Members of an invoice / credit memo in WSDL order. `extensions` goes first (Extensions is
/// the first member of every business object).
pub struct Doc<'a> {
    pub number: &'a str,
    pub customer: &'a str,
    pub batch: &'a str,
    pub date: &'a str,
    pub sales: &'a str,
    pub document: Option<&'a str>,
    pub tax: Option<&'a str>,
    pub description: Option<&'a str>,
    pub iso: Option<&'a str>,
    pub extensions: &'a str,
}

impl<'a> Doc<'a> {
    pub fn new(number: &'a str, customer: &'a str, date: &'a str, sales: &'a str) -> Self {
        Doc {
            number,
            customer,
            batch: "SANDBOX-B1",
            date,
            sales,
            document: None,
            tax: None,
            description: None,
            iso: None,
            extensions: "",
        }
    }

    /// ReceivablesInvoice / ReceivablesCreditMemo body (member `wrapper`).
    pub fn sales_xml(&self, wrapper: &str) -> String {
        let mut s =
            format!("<{wrapper}>{}<Key><Id>{}</Id></Key><Date>{}</Date>", self.extensions, self.number, self.date);
        if let Some(d) = self.document {
            s += &format!("<DocumentAmount>{}</DocumentAmount>", money(d));
        }
        s += &format!("<SalesAmount>{}</SalesAmount>", money(self.sales));
        if let Some(d) = self.description {
            s += &format!("<Description>{d}</Description>");
        }
        if let Some(t) = self.tax {
            s += &format!("<TaxAmount>{}</TaxAmount>", money(t));
        }
        s += &format!(
            "<BatchKey><Id>{}</Id><CreatedDateTime>0001-01-01T00:00:00</CreatedDateTime></BatchKey><CustomerKey><Id>{}</Id></CustomerKey>",
            self.batch, self.customer
        );
        if let Some(iso) = self.iso {
            s += &format!("<CurrencyKey><ISOCode>{iso}</ISOCode></CurrencyKey>");
        }
        s += &format!("</{wrapper}>");
        s
    }

    /// CashReceipt body (`sales` is the receipt amount).
    pub fn receipt_xml(&self) -> String {
        let mut s = format!(
            "<cashReceipt>{}<CustomerKey><Id>{}</Id></CustomerKey><Key><Id>{}</Id></Key><BatchKey><Id>{}</Id>\
             <CreatedDateTime>0001-01-01T00:00:00</CreatedDateTime></BatchKey><Type>Check</Type><Date>{}</Date><Amount>{}</Amount>",
            self.extensions,
            self.customer,
            self.number,
            self.batch,
            self.date,
            money(self.sales)
        );
        if let Some(d) = self.description {
            s += &format!("<Description>{d}</Description>");
        }
        if let Some(iso) = self.iso {
            s += &format!("<CurrencyKey><ISOCode>{iso}</ISOCode></CurrencyKey>");
        }
        s += "</cashReceipt>";
        s
    }
}

/// The eConnect-style apply extension (see README "Applies").
pub fn apply_extension(to: &str, amount: &str) -> String {
    format!(
        "<Extensions><Extension ExtensionId=\"RMApply\"><DocExtension xmlns=\"{NS_DYN}\"><taRMApply xmlns=\"\"><APTODCNM>{to}</APTODCNM><APPTOAMT>{amount}</APPTOAMT></taRMApply></DocExtension></Extension></Extensions>"
    )
}

pub async fn create_invoice(c: &mut Client, doc: &Doc<'_>) -> Answer {
    c.soap(
        "CreateReceivablesInvoice",
        &format!("{}{}{}", doc.sales_xml("receivablesInvoice"), context(FABRIKAM), policy()),
    )
    .await
}

pub async fn create_credit_memo(c: &mut Client, doc: &Doc<'_>) -> Answer {
    c.soap(
        "CreateReceivablesCreditMemo",
        &format!("{}{}{}", doc.sales_xml("receivablesCreditMemo"), context(FABRIKAM), policy()),
    )
    .await
}

pub async fn create_receipt(c: &mut Client, doc: &Doc<'_>) -> Answer {
    c.soap("CreateCashReceipt", &format!("{}{}{}", doc.receipt_xml(), context(FABRIKAM), policy())).await
}

/// The `<Message>` GUID of a validation fault.
pub fn fault_log_id(body: &str) -> Option<String> {
    let start = body.find("<Message>")? + "<Message>".len();
    let end = body[start..].find("</Message>")? + start;
    Some(body[start..end].to_string())
}

/// Resolves a validation fault to its ValidationError messages via
/// GetLoggedValidationResultByKey.
pub async fn validation_messages(c: &mut Client, fault_body: &str) -> Vec<String> {
    let id = fault_log_id(fault_body).unwrap_or_else(|| panic!("not a validation fault: {fault_body}"));
    let a = c.soap("GetLoggedValidationResultByKey", &format!("<logId>{id}</logId>{}", context(FABRIKAM))).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let mut out = Vec::new();
    let mut rest = a.body.as_str();
    while let Some(i) = rest.find("<ValidationError>") {
        rest = &rest[i..];
        let m0 = rest.find("<Message>").map(|m| m + 9).unwrap_or(0);
        let m1 = rest[m0..].find("</Message>").map(|m| m + m0).unwrap_or(m0);
        out.push(unescape(&rest[m0..m1]));
        rest = &rest[m1..];
    }
    out
}

pub fn this_year() -> i32 {
    gp_sandbox::date::Date::today().year
}

/// A date in the current (open) fiscal year.
pub fn open_date() -> String {
    format!("{}-03-15T00:00:00", this_year())
}

/// Extracts the text of the first `<tag>` (no attributes) in `xml`.
pub fn tag<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(&xml[start..end])
}

pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&apos;", "'").replace("&quot;", "\"").replace("&amp;", "&")
}

/// How many invoices Fabrikam has, in any state.
pub async fn invoices(sb: &Sandbox) -> usize {
    sb.control().documents_of(FABRIKAM, gp_sandbox::DocType::Invoice).await.expect("documents").len()
}
