//! The receivables procedures of docs/econnect.md: each one's `@I_v` parameters in eConnect's
//! element order, with their SQL types and whether the element is required; and the
//! transaction types, with the order their nodes run in (children before their header).

/// A parameter's SQL type as the procedure declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    /// `char(n)`: at most n characters.
    Char(u16),
    /// `varchar(n)`: at most n characters.
    VarChar(u16),
    TinyInt,
    SmallInt,
    Int,
    /// `numeric(19,5)` (amounts) or `numeric(19,7)` (rates): the scale.
    Numeric(u8),
    DateTime,
}

impl std::fmt::Display for SqlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SqlType::Char(n) => write!(f, "char({n})"),
            SqlType::VarChar(n) => write!(f, "varchar({n})"),
            SqlType::TinyInt => f.write_str("tinyint"),
            SqlType::SmallInt => f.write_str("smallint"),
            SqlType::Int => f.write_str("int"),
            SqlType::Numeric(s) => write!(f, "numeric(19,{s})"),
            SqlType::DateTime => f.write_str("datetime"),
        }
    }
}

/// One `@I_v<name>` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// The element name (the parameter without `@I_v`).
    pub name: &'static str,
    pub ty: SqlType,
    pub required: bool,
}

/// One eConnect procedure (= node element).
#[derive(Debug, PartialEq, Eq)]
pub struct Proc {
    pub name: &'static str,
    /// In eConnect's element order: the order the statement lists them.
    pub params: &'static [Param],
}

impl Proc {
    pub fn param(&self, element: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == element)
    }
}

const fn req(name: &'static str, ty: SqlType) -> Param {
    Param { name, ty, required: true }
}
const fn opt(name: &'static str, ty: SqlType) -> Param {
    Param { name, ty, required: false }
}

use SqlType::{Char, DateTime, Int, Numeric, SmallInt, TinyInt, VarChar};
const AMOUNT: SqlType = Numeric(5);
const RATE: SqlType = Numeric(7);

pub const CUSTOMER: Proc = Proc {
    name: "taUpdateCreateCustomerRcd",
    params: &[
        req("CUSTNMBR", Char(15)),
        opt("CUSTNAME", Char(64)),
        opt("SHRTNAME", Char(15)),
        opt("STMTNAME", Char(64)),
        opt("CUSTCLAS", Char(15)),
        opt("ADRSCODE", Char(15)),
        opt("CNTCPRSN", Char(60)),
        opt("ADDRESS1", Char(60)),
        opt("ADDRESS2", Char(60)),
        opt("ADDRESS3", Char(60)),
        opt("CITY", Char(35)),
        opt("STATE", Char(29)),
        opt("ZIPCODE", Char(10)),
        opt("COUNTRY", Char(60)),
        opt("PHNUMBR1", Char(21)),
        opt("TAXSCHID", Char(15)),
        opt("PYMTRMID", Char(20)),
        opt("CURNCYID", Char(15)),
        opt("HOLD", TinyInt),
        opt("INACTIVE", TinyInt),
        opt("UseCustomerClass", TinyInt),
        opt("UpdateIfExists", TinyInt),
    ],
};

pub const INTERNET_ADDRESSES: Proc = Proc {
    name: "taCreateInternetAddresses",
    params: &[
        req("Master_Type", Char(3)),
        req("Master_ID", Char(30)),
        req("ADRSCODE", Char(15)),
        opt("INET1", VarChar(200)),
        opt("EmailToAddress", VarChar(8000)),
    ],
};

pub const DISTRIBUTION: Proc = Proc {
    name: "taRMDistribution",
    params: &[
        req("RMDTYPAL", SmallInt),
        req("DOCNUMBR", Char(20)),
        req("CUSTNMBR", Char(15)),
        opt("SEQNUMBR", Int),
        req("DISTTYPE", SmallInt),
        opt("DistRef", Char(30)),
        opt("ACTNUMST", VarChar(75)),
        opt("DEBITAMT", AMOUNT),
        opt("CRDTAMNT", AMOUNT),
    ],
};

pub const TAX: Proc = Proc {
    name: "taRMTransactionTaxInsert",
    params: &[
        req("CUSTNMBR", Char(15)),
        req("DOCNUMBR", Char(20)),
        req("RMDTYPAL", SmallInt),
        req("BACHNUMB", Char(15)),
        req("TAXDTLID", Char(15)),
        req("TAXAMNT", AMOUNT),
        req("STAXAMNT", AMOUNT),
        req("TAXDTSLS", AMOUNT),
        opt("ACTNUMST", VarChar(75)),
        opt("SEQNUMBR", Int),
    ],
};

pub const TRANSACTION: Proc = Proc {
    name: "taRMTransaction",
    params: &[
        req("RMDTYPAL", SmallInt),
        req("DOCNUMBR", Char(20)),
        req("DOCDATE", DateTime),
        req("BACHNUMB", Char(15)),
        req("CUSTNMBR", Char(15)),
        req("DOCAMNT", AMOUNT),
        req("SLSAMNT", AMOUNT),
        opt("DOCDESCR", Char(30)),
        opt("CSTPONBR", Char(20)),
        opt("TAXSCHID", Char(15)),
        opt("TRDISAMT", AMOUNT),
        opt("FRTAMNT", AMOUNT),
        opt("MISCAMNT", AMOUNT),
        opt("TAXAMNT", AMOUNT),
        opt("PYMTRMID", Char(20)),
        opt("DUEDATE", DateTime),
        opt("CURNCYID", Char(15)),
        opt("XCHGRATE", RATE),
        opt("RATETPID", Char(15)),
        opt("EXCHDATE", DateTime),
        opt("CREATEDIST", SmallInt),
    ],
};

pub const CASH_RECEIPT: Proc = Proc {
    name: "taRMCashReceiptInsert",
    params: &[
        req("CUSTNMBR", Char(15)),
        req("DOCNUMBR", Char(20)),
        req("DOCDATE", DateTime),
        req("ORTRXAMT", AMOUNT),
        req("GLPOSTDT", DateTime),
        req("BACHNUMB", Char(15)),
        req("CSHRCTYP", SmallInt),
        opt("CHEKBKID", Char(15)),
        opt("CHEKNMBR", Char(20)),
        opt("CRCARDID", Char(15)),
        opt("TRXDSCRN", Char(30)),
        opt("CURNCYID", Char(15)),
        opt("XCHGRATE", RATE),
        opt("RATETPID", Char(15)),
        opt("EXCHDATE", DateTime),
        opt("CREATEDIST", SmallInt),
    ],
};

pub const APPLY: Proc = Proc {
    name: "taRMApply",
    params: &[
        req("APTODCNM", Char(21)),
        req("APFRDCNM", Char(21)),
        req("APPTOAMT", AMOUNT),
        req("APFRDCTY", Int),
        req("APTODCTY", Int),
        opt("DISTKNAM", AMOUNT),
        opt("WROFAMNT", AMOUNT),
        opt("APPLYDATE", DateTime),
        opt("GLPOSTDT", DateTime),
    ],
};

pub const VOID: Proc = Proc {
    name: "taRMVoidTransaction",
    params: &[
        req("CUSTNMBR", Char(15)),
        req("DOCNUMBR", Char(20)),
        req("VOIDSTTS", SmallInt),
        req("RMDTYPAL", SmallInt),
        req("VOIDDATE", DateTime),
        req("GLPOSTDT", DateTime),
    ],
};

/// The batch header (SY00500), eConnect.xsd's element order. Types INFERRED from SY00500
/// (SERIES, ORIGIN smallint; NUMOFTRX int); DOCAMT and NUMOFTRX are control totals.
pub const BATCH_HEADER: Proc = Proc {
    name: "taCreateUpdateBatchHeaderRcd",
    params: &[
        req("BACHNUMB", Char(15)),
        opt("BCHCOMNT", Char(60)),
        req("SERIES", SmallInt),
        opt("GLPOSTDT", DateTime),
        req("BCHSOURC", Char(15)),
        req("DOCAMT", AMOUNT),
        req("ORIGIN", SmallInt),
        req("NUMOFTRX", Int),
        opt("CHEKBKID", Char(15)),
        opt("POSTTOGL", SmallInt),
    ],
};

/// Every procedure the executor runs.
pub const ALL: [&Proc; 9] =
    [&CUSTOMER, &INTERNET_ADDRESSES, &DISTRIBUTION, &TAX, &TRANSACTION, &CASH_RECEIPT, &APPLY, &VOID, &BATCH_HEADER];

pub fn proc(name: &str) -> Option<&'static Proc> {
    ALL.into_iter().find(|p| p.name == name)
}

/// A child of a transaction type: a node itself (a header, at most once and, if `required`,
/// exactly once), or an `_Items` element holding any number of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Node { proc: &'static Proc, required: bool },
    Items { element: &'static str, proc: &'static Proc },
}

impl Slot {
    pub fn element(&self) -> &'static str {
        match self {
            Slot::Node { proc, .. } => proc.name,
            Slot::Items { element, .. } => element,
        }
    }
}

/// A transaction type (`<RMTransactionType>` …): its slots in the order the nodes run.
#[derive(Debug, PartialEq, Eq)]
pub struct TransactionType {
    pub name: &'static str,
    pub slots: &'static [Slot],
}

const fn node(proc: &'static Proc) -> Slot {
    Slot::Node { proc, required: true }
}
const fn items(element: &'static str, proc: &'static Proc) -> Slot {
    Slot::Items { element, proc }
}

/// eConnect.xsd's order (docs/econnect.md): children first, the header last.
pub const TRANSACTION_TYPES: [TransactionType; 6] = [
    TransactionType {
        name: "RMCustomerMasterType",
        slots: &[node(&CUSTOMER), items("taCreateInternetAddresses_Items", &INTERNET_ADDRESSES)],
    },
    TransactionType {
        name: "RMTransactionType",
        slots: &[
            items("taRMTransactionTaxInsert_Items", &TAX),
            items("taRMDistribution_Items", &DISTRIBUTION),
            node(&TRANSACTION),
        ],
    },
    TransactionType {
        name: "RMCashReceiptsType",
        slots: &[items("taRMDistribution_Items", &DISTRIBUTION), node(&CASH_RECEIPT)],
    },
    TransactionType { name: "RMApplyType", slots: &[node(&APPLY)] },
    TransactionType { name: "RMVoidTransactionType", slots: &[node(&VOID)] },
    TransactionType { name: "SMTransactionBatchType", slots: &[node(&BATCH_HEADER)] },
];

pub fn transaction_type(name: &str) -> Option<&'static TransactionType> {
    TRANSACTION_TYPES.iter().find(|t| t.name == name)
}
