//! GP's business rules as the emulator enforces them, and the errors it reports.
//!
//! Texts tagged REAL below are eConnect's own (taErrorCode) or GP's client message; the others
//! are the emulator's wording for conditions GP also refuses, with synthetic numbers from 9001
//! up so a caller can tell them apart. The same error is returned by SOAP (through the logged
//! ValidationResult), by SBA (in the JSON error body) and by eConnect (`@oErrString`, texts in
//! `DYNAMICS..taErrorCode`, [`catalogue`]).

pub mod catalogue;

/// Field lengths: GP's table definitions (RM00101, RM10301, SY00500…) as eConnect enforces them.
pub mod len {
    pub const CUSTNMBR: usize = 15;
    pub const CUSTNAME: usize = 64;
    pub const SHRTNAME: usize = 15;
    pub const STMTNAME: usize = 64;
    pub const CUSTCLAS: usize = 15;
    pub const PYMTRMID: usize = 20;
    pub const COMMENT: usize = 30;
    pub const USERDEF: usize = 20;
    pub const TXRGNNUM: usize = 25;
    pub const ADRSCODE: usize = 15;
    pub const ADDRESS_LINE: usize = 60;
    pub const BACHNUMB: usize = 15;
    pub const DOCDESCR: usize = 30;
    pub const CSTPONBR: usize = 20;
    pub const CHEKBKID: usize = 15;
    pub const CHEKNMBR: usize = 20;
}

/// Knobs for rules whose exact GP behaviour is not public (see README, "Decisions").
#[derive(Debug, Clone)]
pub struct RulesConfig {
    /// Longest RM sales/credit-memo document number. GP's RM work table keys it as RMDNUMWK
    /// (17) although DOCNUMBR is 20 wide; 17 is what a document must fit to be entered at all.
    pub sales_doc_number_max: usize,
    /// Longest cash receipt number (taRMCashReceiptInsert DOCNUMBR, 20).
    pub cash_receipt_number_max: usize,
    /// Whether a document number must be unique per document type (RM00401's key is
    /// DOCNUMBR + RMDTYPAL) or across all RM document types.
    pub doc_number_unique_across_types: bool,
    /// Lenient: an apply may target a document that is still unposted (work). GP's Apply
    /// Sales Documents lists posted documents only; whether taRMApply accepts an unposted
    /// apply-to document is not documented, so the default refuses it (9025). An unposted
    /// apply-FROM document (a receipt in the same eConnect document) is allowed either way:
    /// real integrations do that (econnect-sql.md §2, REAL).
    pub allow_apply_to_unposted: bool,
    /// Lenient: taRMVoidTransaction / VoidCashReceipt may void an unposted document.
    /// INFERRED default: posted documents only, like GP's Posted Transaction Maintenance
    /// (econnect-sql.md §5); refused with 9048.
    pub allow_void_unposted: bool,
    /// Lower-case customer ids: refused (default) or upper-cased as GP's field format does.
    pub upcase_customer_ids: bool,
    /// Lenient: store distributions as sent, without the account, DISTTYPE, balance and
    /// receivables checks (off: refused like GP).
    pub skip_distribution_checks: bool,
    /// Lenient: store tax details as sent, without the TAXDTLID and Σ TAXAMNT checks.
    pub skip_tax_checks: bool,
    /// Lenient: accept unknown customer classes, payment terms, card names and tax schedules.
    pub allow_unknown_setup_ids: bool,
    /// Lenient: a non-functional currency with no rate given and none in MC00100 is taken at
    /// rate 1 instead of being refused.
    pub allow_missing_exchange_rate: bool,
    /// Lenient: accept any Policy key (off: only the empty GUID or one GetPolicyByOperation gave).
    pub allow_any_policy: bool,
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            sales_doc_number_max: 17,
            cash_receipt_number_max: 20,
            doc_number_unique_across_types: false,
            allow_apply_to_unposted: false,
            allow_void_unposted: false,
            upcase_customer_ids: false,
            skip_distribution_checks: false,
            skip_tax_checks: false,
            allow_unknown_setup_ids: false,
            allow_missing_exchange_rate: false,
            allow_any_policy: false,
        }
    }
}

/// The exact text GP shows for a document dated in a closed period (KB 933357).
pub const PERIOD_CLOSED: &str = "The fiscal period that contains the document date is closed.";

/// One refusal. `property` is the WSDL member it concerns (for ValidationError.PropertyNames).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GpError {
    #[error("Document number (DOCNUMBR) already exists in either RM00401, RM10301, RM20101 or RM30101")]
    DuplicateDocument { number: String },
    #[error("The Customer Number (CUSTNMBR) does not exist in the Customer Master Table - RM00101")]
    CustomerMissing { customer: String },
    #[error("The Currency ID does not exist in MC40200")]
    CurrencyMissing { iso: String },
    #[error("Document Amount is incorrect - (DOCAMNT <> SLSAMNT - TRDISAMT + FRTAMNT + MISCAMNT + TAXAMNT)")]
    DocumentAmountMismatch { expected: String, got: String },
    #[error("{PERIOD_CLOSED}")]
    PeriodClosed { date: String },
    #[error("A fiscal period has not been set up for the document date {date}")]
    PeriodMissing { date: String },
    #[error("{property} is required")]
    Required { property: &'static str },
    #[error("{property} ({field}) is longer than {max} characters: {value:?}")]
    TooLong { property: &'static str, field: &'static str, max: usize, value: String },
    #[error("Customer Number (CUSTNMBR) {id:?} is not valid: {reason}")]
    BadCustomerId { id: String, reason: &'static str },
    #[error("Customer Number (CUSTNMBR) {id:?} already exists in the Customer Master Table - RM00101")]
    CustomerExists { id: String },
    #[error("Batch {id} has source {found}; this document needs a {expected} batch")]
    BatchSource { id: String, found: String, expected: &'static str },
    #[error("The Checkbook ID (CHEKBKID) {id:?} does not exist in the Checkbook Master Table - CM00100")]
    CheckbookMissing { id: String },
    #[error("Checkbook {id} is in currency {checkbook}, the cash receipt in {document}")]
    CheckbookCurrency { id: String, checkbook: String, document: String },
    #[error("{property} {value:?} has more decimal places than currency {currency} allows ({digits})")]
    TooPrecise { property: &'static str, value: String, currency: String, digits: u32 },
    #[error("{property} {value:?} is not a valid amount")]
    BadAmount { property: &'static str, value: String },
    #[error("{property} must not be negative")]
    Negative { property: &'static str },
    #[error("{property} is in currency {found}, the document in {expected}")]
    AmountCurrency { property: &'static str, found: String, expected: String },
    #[error("Company {company} does not exist")]
    CompanyMissing { company: String },
    #[error("A Policy is required for {operation}: get one with GetPolicyByOperation")]
    PolicyMissing { operation: String },
    #[error("{kind} {id} does not exist")]
    NotFound { kind: &'static str, id: String },
    #[error("Apply To Document Number (APTODCNM) {number} does not exist as {kind}")]
    ApplyTargetMissing { number: String, kind: &'static str },
    #[error("Apply To Document Number (APTODCNM) {number} belongs to customer {owner}, not {customer}")]
    ApplyCustomer { number: String, owner: String, customer: String },
    #[error(
        "Apply To Document Number (APTODCNM) {number} is in currency {target}, the applying document in {applying}"
    )]
    ApplyCurrency { number: String, target: String, applying: String },
    #[error("Apply amount (APPTOAMT) {amount} exceeds the remaining amount {remaining} of document {number}")]
    ApplyExceedsBalance { number: String, amount: String, remaining: String },
    #[error("Applied amounts total {total}, more than the applying document's amount {available}")]
    ApplyExceedsDocument { total: String, available: String },
    #[error("Apply To Document Number (APTODCNM) {number} is not posted; GP applies to posted documents only")]
    ApplyTargetUnposted { number: String },
    #[error("Apply amount (APPTOAMT) must be greater than zero")]
    ApplyAmountZero,
    #[error("Account does not exist for Account Number String (ACTNUMST) passed: {account:?}")]
    AccountMissing { account: String },
    #[error(
        "Tax amount (TAXAMNT) does not equal tax details in RM10601 ({details} in the details, {document} on the document)"
    )]
    TaxMismatch { details: String, document: String },
    #[error("The Tax Schedule ID entered (TAXSCHID) does not exist in the Sales Tax master table - TX00101: {id:?}")]
    TaxScheduleMissing { id: String },
    #[error("Distributions do not balance: debits {debits}, credits {credits}")]
    DistributionsUnbalanced { debits: String, credits: String },
    #[error("Distribution type (DISTTYPE) {dist_type} is not valid for document type (RMDTYPAL) {rmdtypal}")]
    DistributionTypeInvalid { dist_type: i64, rmdtypal: i64 },
    #[error("The receivables distributions total {got}; the document amount is {expected}")]
    ReceivablesMismatch { expected: String, got: String },
    #[error("Distributions are required when GP does not create them (CREATEDIST = 0)")]
    DistributionsRequired,
    #[error("The Tax Detail ID (TAXDTLID) {id:?} does not exist in the Sales Tax Detail master table - TX00201")]
    TaxDetailMissing { id: String },
    #[error("The Customer Class (CUSTCLAS) {id:?} does not exist in the Customer Class master table - RM00201")]
    ClassMissing { id: String },
    #[error("The Payment Terms ID (PYMTRMID) {id:?} does not exist in the Payment Terms master table - SY03300")]
    PaymentTermsMissing { id: String },
    #[error("The Credit Card ID (CRCARDID) {id:?} does not exist in the Credit Card master table - SY03100")]
    CardNameMissing { id: String },
    #[error(
        "No exchange rate for currency {currency} (rate type {rate_type}) is valid on {date}; pass XCHGRATE or enter a rate in the rate table"
    )]
    ExchangeRateMissing { currency: String, rate_type: String, date: String },
    #[error("Exchange rate (XCHGRATE) {value:?} must be greater than zero")]
    ExchangeRateInvalid { value: String },
    #[error("Policy {id} is not a policy of this GP installation; get one with GetPolicyByOperation")]
    PolicyUnknown { id: String },
    #[error("Document type (RMDTYPAL) {rmdtypal} is not valid for {procedure}")]
    DocTypeInvalid { rmdtypal: i64, procedure: &'static str },
    #[error("Cash receipt type (CSHRCTYP) {value} is not valid: 0 check, 1 cash, 2 credit card")]
    CashTypeInvalid { value: i64 },
    #[error("Document {number} is already voided")]
    AlreadyVoided { number: String },
    #[error("Master_Type {value:?} is not valid; CUS is the customer master")]
    MasterTypeInvalid { value: String },
    /// GP client text (KB 850289) for a batch that is being posted; eConnect's number is
    /// NOT FOUND, so the number is synthetic.
    #[error("Batch is marked for posting by another user.")]
    BatchBusy { id: String },
    /// INFERRED: without the RMApply add-on GP Web Services has no handler for the extension;
    /// the emulator refuses it rather than ignoring the applies silently.
    #[error("Extension {id} is not installed on this GP Web Services instance")]
    ExtensionNotInstalled { id: String },
    /// INFERRED (GP voids in Posted Transaction Maintenance): an unposted document is voided
    /// by deleting it in GP, not by taRMVoidTransaction.
    #[error("Document {number} is not posted; GP voids posted documents only")]
    DocumentUnposted { number: String },
    #[error("Batch header {field} {value:?} is not valid for a Receivables batch: {expected}")]
    BatchHeaderInvalid { field: &'static str, value: String, expected: &'static str },
    #[error("Void status (VOIDSTTS) {value} is not valid: 1 void (2 NSF and 3 waived are not emulated)")]
    VoidStatusInvalid { value: i64 },
    /// DOC (eConnect taRMVoidTransaction): not for multicurrency payments.
    #[error("Document {number} is in currency {currency}; taRMVoidTransaction does not void multicurrency documents")]
    VoidMulticurrency { number: String, currency: String },
    #[error("{0}")]
    Contract(String),
}

impl GpError {
    /// ValidationError.Id: eConnect's number where GP has one, otherwise a synthetic one.
    pub fn code(&self) -> u32 {
        match self {
            Self::DuplicateDocument { .. } => 190,
            Self::CustomerMissing { .. } => 221,
            Self::CurrencyMissing { .. } => 483,
            Self::DocumentAmountMismatch { .. } => 621,
            Self::PeriodClosed { .. } => 9001,
            Self::PeriodMissing { .. } => 9002,
            Self::Required { .. } => 9003,
            Self::TooLong { .. } => 9004,
            Self::BadCustomerId { .. } => 9005,
            Self::CustomerExists { .. } => 9006,
            Self::BatchSource { .. } => 9007,
            Self::CheckbookMissing { .. } => 9008,
            Self::CheckbookCurrency { .. } => 9009,
            Self::TooPrecise { .. } => 9010,
            Self::BadAmount { .. } => 9011,
            Self::Negative { .. } => 9012,
            Self::AmountCurrency { .. } => 9013,
            Self::CompanyMissing { .. } => 9014,
            Self::PolicyMissing { .. } => 9015,
            Self::NotFound { .. } => 9016,
            Self::ApplyTargetMissing { .. } => 9020,
            Self::ApplyCustomer { .. } => 9021,
            Self::ApplyCurrency { .. } => 9022,
            Self::ApplyExceedsBalance { .. } => 9023,
            Self::ApplyExceedsDocument { .. } => 9024,
            Self::ApplyTargetUnposted { .. } => 9025,
            Self::ApplyAmountZero => 9026,
            Self::Contract(_) => 9030,
            Self::AccountMissing { .. } => 716,
            Self::TaxMismatch { .. } => 712,
            Self::TaxScheduleMissing { .. } => 7023,
            Self::DistributionsUnbalanced { .. } => 9031,
            Self::DistributionTypeInvalid { .. } => 9032,
            Self::ReceivablesMismatch { .. } => 9033,
            Self::DistributionsRequired => 9034,
            Self::TaxDetailMissing { .. } => 9035,
            Self::ClassMissing { .. } => 9036,
            Self::PaymentTermsMissing { .. } => 9037,
            Self::CardNameMissing { .. } => 9038,
            Self::ExchangeRateMissing { .. } => 9039,
            Self::ExchangeRateInvalid { .. } => 9040,
            Self::PolicyUnknown { .. } => 9041,
            Self::DocTypeInvalid { .. } => 9042,
            Self::CashTypeInvalid { .. } => 9043,
            Self::AlreadyVoided { .. } => 9044,
            Self::MasterTypeInvalid { .. } => 9045,
            Self::BatchBusy { .. } => 9046,
            Self::ExtensionNotInstalled { .. } => 9047,
            Self::DocumentUnposted { .. } => 9048,
            Self::BatchHeaderInvalid { .. } => 9049,
            Self::VoidStatusInvalid { .. } => 9050,
            Self::VoidMulticurrency { .. } => 9051,
        }
    }

    /// The WSDL members the error is about.
    pub fn properties(&self) -> Vec<String> {
        let p: &[&str] = match self {
            Self::DuplicateDocument { .. } => &["Key"],
            Self::CustomerMissing { .. } | Self::BadCustomerId { .. } | Self::CustomerExists { .. } => &["CustomerKey"],
            Self::CurrencyMissing { .. } => &["CurrencyKey"],
            Self::DocumentAmountMismatch { .. } => &["DocumentAmount"],
            Self::PeriodClosed { .. } | Self::PeriodMissing { .. } => &["Date"],
            Self::Required { property } | Self::TooLong { property, .. } => std::slice::from_ref(property),
            Self::TooPrecise { property, .. } | Self::BadAmount { property, .. } => std::slice::from_ref(property),
            Self::Negative { property } | Self::AmountCurrency { property, .. } => std::slice::from_ref(property),
            Self::BatchSource { .. } | Self::BatchBusy { .. } => &["BatchKey"],
            Self::ExtensionNotInstalled { .. } => &["Extensions"],
            Self::CheckbookMissing { .. } | Self::CheckbookCurrency { .. } => &["BankAccountKey"],
            Self::CompanyMissing { .. } => &["Context"],
            Self::PolicyMissing { .. } | Self::PolicyUnknown { .. } => &["Policy"],
            Self::AccountMissing { .. }
            | Self::DistributionsUnbalanced { .. }
            | Self::DistributionTypeInvalid { .. }
            | Self::ReceivablesMismatch { .. }
            | Self::DistributionsRequired => &["Distributions"],
            Self::TaxMismatch { .. } | Self::TaxDetailMissing { .. } => &["Taxes"],
            Self::TaxScheduleMissing { .. } => &["TaxScheduleKey"],
            Self::ClassMissing { .. } => &["ClassKey"],
            Self::PaymentTermsMissing { .. } => &["PaymentTermsKey"],
            Self::CardNameMissing { .. } => &["PaymentCardTypeKey"],
            Self::ExchangeRateMissing { .. } | Self::ExchangeRateInvalid { .. } => &["CurrencyKey"],
            _ if self.code() >= 9020 && self.code() < 9030 => &["Extensions"],
            _ => &[],
        };
        p.iter().map(|s| s.to_string()).collect()
    }

    /// HTTP status SBA answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            // 409 also for a batch being posted: a conflict with the batch's state, to retry
            // once it is posted (told apart from a duplicate by ValidationError.Id 9046).
            Self::DuplicateDocument { .. } | Self::CustomerExists { .. } | Self::BatchBusy { .. } => 409,
            Self::NotFound { .. } | Self::CompanyMissing { .. } => 404,
            _ => 400,
        }
    }
}

/// Checks a customer id against GP's rules; may upper-case it when configured to.
pub fn customer_id(raw: &str, cfg: &RulesConfig) -> Result<String, GpError> {
    let id = if cfg.upcase_customer_ids { raw.to_uppercase() } else { raw.to_string() };
    let bad = |reason| Err(GpError::BadCustomerId { id: raw.to_string(), reason });
    if id.trim().is_empty() {
        return bad("it is empty");
    }
    if id.chars().count() > len::CUSTNMBR {
        return bad("it is longer than 15 characters");
    }
    if id.starts_with(' ') || id.ends_with(' ') {
        return bad("leading or trailing spaces are dropped by GP and would make it another id");
    }
    if id.chars().any(|c| c.is_ascii_lowercase()) {
        return bad("GP shows customer ids upper-case; send it upper-case");
    }
    if !id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, ' ' | '.' | '_' | '-')) {
        return bad("only 0-9 A-Z space . _ - are safe (quotes and other characters break GP's stored procedures)");
    }
    Ok(id)
}

/// Length check for an optional string member.
pub fn max_len(
    errors: &mut Vec<GpError>,
    property: &'static str,
    field: &'static str,
    value: Option<&str>,
    max: usize,
) {
    if let Some(v) = value
        && v.chars().count() > max
    {
        errors.push(GpError::TooLong { property, field, max, value: v.to_string() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids() {
        let cfg = RulesConfig::default();
        assert_eq!(customer_id("AARON-FIT.01_X", &cfg).unwrap(), "AARON-FIT.01_X");
        assert!(customer_id("aaron", &cfg).is_err());
        assert!(customer_id("O'BRIEN", &cfg).is_err());
        assert!(customer_id("ABCDEFGHIJKLMNOP", &cfg).is_err());
        assert!(customer_id(" A", &cfg).is_err());
        let up = RulesConfig { upcase_customer_ids: true, ..cfg };
        assert_eq!(customer_id("aaron", &up).unwrap(), "AARON");
    }

    #[test]
    fn known_codes() {
        assert_eq!(GpError::DuplicateDocument { number: "X".into() }.code(), 190);
        assert_eq!(GpError::PeriodClosed { date: "d".into() }.to_string(), PERIOD_CLOSED);
        assert_eq!(GpError::CustomerMissing { customer: "C".into() }.properties(), ["CustomerKey"]);
        let busy = GpError::BatchBusy { id: "B".into() };
        assert_eq!((busy.code(), busy.http_status()), (9046, 409));
        assert_eq!(busy.to_string(), "Batch is marked for posting by another user.");
    }
}
