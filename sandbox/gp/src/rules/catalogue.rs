//! Every error number the emulator returns, with the text `DYNAMICS..taErrorCode` holds for it
//! (the eConnect `error-text` query answers from it). Texts of the numbers GP has are GP's;
//! the emulator's own numbers (9001 up) carry a generic form of the message (the message a
//! SOAP/SBA caller gets names the values too).

/// One taErrorCode row: number, source procedure, text, and whether number + text are GP's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    pub number: u32,
    pub source: &'static str,
    pub text: &'static str,
    pub real: bool,
}

const fn real(number: u32, source: &'static str, text: &'static str) -> ErrorCode {
    ErrorCode { number, source, text, real: true }
}

const fn ours(number: u32, text: &'static str) -> ErrorCode {
    ErrorCode { number, source: "gp-sandbox", text, real: false }
}

pub const CATALOGUE: &[ErrorCode] = &[
    real(
        190,
        "taRMTransaction",
        "Document number (DOCNUMBR) already exists in either RM00401, RM10301, RM20101 or RM30101",
    ),
    real(
        221,
        "taRMTransaction",
        "The Customer Number (CUSTNMBR) does not exist in the Customer Master Table - RM00101",
    ),
    real(483, "taRMTransaction", "The Currency ID does not exist in MC40200"),
    real(
        621,
        "taRMTransaction",
        "Document Amount is incorrect - (DOCAMNT <> SLSAMNT - TRDISAMT + FRTAMNT + MISCAMNT + TAXAMNT)",
    ),
    real(712, "taRMTransaction", "Tax amount (TAXAMNT) does not equal tax details in RM10601"),
    real(716, "taRMDistribution", "Account does not exist for Account Number String (ACTNUMST) passed"),
    real(
        7023,
        "taRMTransaction",
        "The Tax Schedule ID entered (TAXSCHID) does not exist in the Sales Tax master table - TX00101",
    ),
    ours(9001, "The fiscal period that contains the document date is closed."),
    ours(9002, "A fiscal period has not been set up for the document date"),
    ours(9003, "A required value was not supplied"),
    ours(9004, "A value is longer than its column"),
    ours(9005, "Customer Number (CUSTNMBR) is not valid"),
    ours(9006, "Customer Number (CUSTNMBR) already exists in the Customer Master Table - RM00101"),
    ours(9007, "The batch has another source than this document needs"),
    ours(9008, "The Checkbook ID (CHEKBKID) does not exist in the Checkbook Master Table - CM00100"),
    ours(9009, "The checkbook is in another currency than the cash receipt"),
    ours(9010, "An amount has more decimal places than its currency allows"),
    ours(9011, "An amount is not a valid amount"),
    ours(9012, "An amount must not be negative"),
    ours(9013, "An amount is in another currency than the document"),
    ours(9014, "The company does not exist"),
    ours(9015, "A Policy is required: get one with GetPolicyByOperation"),
    ours(9016, "The object does not exist"),
    ours(9020, "Apply To Document Number (APTODCNM) does not exist"),
    ours(9021, "Apply To Document Number (APTODCNM) belongs to another customer"),
    ours(9022, "Apply To Document Number (APTODCNM) is in another currency than the applying document"),
    ours(9023, "Apply amount (APPTOAMT) exceeds the remaining amount of the document"),
    ours(9024, "Applied amounts total more than the applying document's amount"),
    ours(9025, "Apply To Document Number (APTODCNM) is not posted; GP applies to posted documents only"),
    ours(9026, "Apply amount (APPTOAMT) must be greater than zero"),
    ours(9030, "The request does not follow the interface's contract"),
    ours(9031, "Distributions do not balance (debits <> credits)"),
    ours(9032, "Distribution type (DISTTYPE) is not valid for the document type (RMDTYPAL)"),
    ours(9033, "The receivables distributions do not equal the document amount"),
    ours(9034, "Distributions are required when GP does not create them (CREATEDIST = 0)"),
    ours(9035, "The Tax Detail ID (TAXDTLID) does not exist in the Sales Tax Detail master table - TX00201"),
    ours(9036, "The Customer Class (CUSTCLAS) does not exist in the Customer Class master table - RM00201"),
    ours(9037, "The Payment Terms ID (PYMTRMID) does not exist in the Payment Terms master table - SY03300"),
    ours(9038, "The Credit Card ID (CRCARDID) does not exist in the Credit Card master table - SY03100"),
    ours(9039, "No exchange rate is valid for the currency, rate type and date; pass XCHGRATE or enter a rate"),
    ours(9040, "Exchange rate (XCHGRATE) must be greater than zero"),
    ours(9041, "The Policy is not a policy of this GP installation"),
    ours(9042, "Document type (RMDTYPAL) is not valid for this procedure"),
    ours(9043, "Cash receipt type (CSHRCTYP) is not valid: 0 check, 1 cash, 2 credit card"),
    ours(9044, "The document is already voided"),
    ours(9045, "Master_Type is not valid; CUS is the customer master"),
    // GP client text (KB 850289); the number is the emulator's. Retry once the batch is posted.
    ours(9046, "Batch is marked for posting by another user."),
    ours(9047, "Extension RMApply is not installed on this GP Web Services instance"),
    ours(9048, "The document is not posted; GP voids posted documents only"),
    ours(9049, "The batch header is not valid for Receivables (SERIES 3, BCHSOURC RM_Sales / RM_Cash, ORIGIN 1 / 2)"),
    ours(9050, "Void status (VOIDSTTS) is not valid: 1 void (NSF and waived are not emulated)"),
    ours(9051, "taRMVoidTransaction does not void multicurrency documents"),
];

/// The catalogue row of a number.
pub fn lookup(number: u32) -> Option<&'static ErrorCode> {
    CATALOGUE.iter().find(|c| c.number == number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::GpError;

    #[test]
    fn every_returned_number_has_a_text() {
        let s = || "x".to_string();
        let samples = [
            GpError::DuplicateDocument { number: s() },
            GpError::CustomerMissing { customer: s() },
            GpError::CurrencyMissing { iso: s() },
            GpError::AccountMissing { account: s() },
            GpError::TaxMismatch { details: s(), document: s() },
            GpError::TaxScheduleMissing { id: s() },
            GpError::ApplyAmountZero,
            GpError::DistributionsRequired,
            GpError::MasterTypeInvalid { value: s() },
            GpError::BatchBusy { id: s() },
            GpError::ExtensionNotInstalled { id: s() },
            GpError::DocumentUnposted { number: s() },
            GpError::BatchHeaderInvalid { field: "SERIES", value: s(), expected: "3" },
            GpError::VoidStatusInvalid { value: 2 },
            GpError::VoidMulticurrency { number: s(), currency: s() },
            GpError::Contract(s()),
        ];
        for e in samples {
            assert!(lookup(e.code()).is_some(), "{} has no taErrorCode row", e.code());
        }
        let mut numbers: Vec<u32> = CATALOGUE.iter().map(|c| c.number).collect();
        numbers.dedup();
        assert_eq!(numbers.len(), CATALOGUE.len(), "numbers are unique and sorted");
    }
}
