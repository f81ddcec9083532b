-- The emulated GP company database: GP's table names where GP has one, lower-cased, with
-- only the columns the emulator uses. Idempotent (IF NOT EXISTS): applied on every open, also
-- to a database kept with --database.
CREATE TABLE IF NOT EXISTS companies (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    functional_currency TEXT NOT NULL, default_checkbook TEXT);
-- MC40200 currency setup, per company (GP keeps it in DYNAMICS; access is per company).
CREATE TABLE IF NOT EXISTS mc40200 (
    company_id INTEGER NOT NULL, curncyid TEXT NOT NULL, isocurrc TEXT NOT NULL, decplcur INTEGER NOT NULL,
    PRIMARY KEY (company_id, curncyid));
-- CM00100 checkbook master.
CREATE TABLE IF NOT EXISTS cm00100 (
    company_id INTEGER NOT NULL, chekbkid TEXT NOT NULL, curncyid TEXT NOT NULL, dscriptn TEXT NOT NULL,
    PRIMARY KEY (company_id, chekbkid));
-- SY40100 fiscal periods; pseries_2 is the Sales series' closed flag.
CREATE TABLE IF NOT EXISTS sy40100 (
    company_id INTEGER NOT NULL, year1 INTEGER NOT NULL, periodid INTEGER NOT NULL,
    perioddt TEXT NOT NULL, perdendt TEXT NOT NULL, pseries_2 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (company_id, year1, periodid));
-- RM00101 customer master.
CREATE TABLE IF NOT EXISTS rm00101 (
    company_id INTEGER NOT NULL, custnmbr TEXT NOT NULL, custname TEXT, shrtname TEXT, stmtname TEXT,
    custclas TEXT, curncyid TEXT, pymtrmid TEXT, comment1 TEXT, comment2 TEXT, userdef1 TEXT, userdef2 TEXT,
    txrgnnum TEXT, inactive INTEGER NOT NULL DEFAULT 0, hold INTEGER NOT NULL DEFAULT 0, addresses TEXT,
    creatddt TEXT NOT NULL, modifdt TEXT NOT NULL,
    PRIMARY KEY (company_id, custnmbr));
-- SY00500 batch headers; bchsttus 0 = available, 1 = marked (being posted); posting deletes the row.
CREATE TABLE IF NOT EXISTS sy00500 (
    company_id INTEGER NOT NULL, bachnumb TEXT NOT NULL, bchsourc TEXT NOT NULL, series INTEGER NOT NULL,
    bchcomnt TEXT, chekbkid TEXT, bchsttus INTEGER NOT NULL DEFAULT 0, creatddt TEXT NOT NULL,
    PRIMARY KEY (company_id, bachnumb, bchsourc));
-- RM00401 RM key master: every RM document number, whatever table the document is in.
CREATE TABLE IF NOT EXISTS rm00401 (
    company_id INTEGER NOT NULL, docnumbr TEXT NOT NULL, rmdtypal INTEGER NOT NULL, custnmbr TEXT NOT NULL,
    PRIMARY KEY (company_id, docnumbr, rmdtypal));
-- RM20201-like apply records.
CREATE TABLE IF NOT EXISTS rm20201 (
    company_id INTEGER NOT NULL, apfrdcty INTEGER NOT NULL, apfrdcnm TEXT NOT NULL,
    aptodcty INTEGER NOT NULL, aptodcnm TEXT NOT NULL, appldamt INTEGER NOT NULL, applydate TEXT NOT NULL);
-- GP Web Services exception log: validation errors by log id (GetLoggedValidationResultByKey).
CREATE TABLE IF NOT EXISTS ws_validation_log (
    log_id TEXT PRIMARY KEY, company_id INTEGER, operation TEXT NOT NULL, errors TEXT NOT NULL,
    logged_at TEXT NOT NULL);

-- RM document tables: RM10301 (sales work: invoices, credit memos), RM10201 (cash receipts
-- work), RM20101 (open), RM30101 (history). One column layout for all four, so a document keeps
-- its columns when it changes state. Amounts are integer minor units.
CREATE TABLE IF NOT EXISTS rm10301 (
    company_id INTEGER NOT NULL, rmdtypal INTEGER NOT NULL, docnumbr TEXT NOT NULL,
    custnmbr TEXT NOT NULL, docdate TEXT NOT NULL, bachnumb TEXT NOT NULL, bchsourc TEXT NOT NULL,
    curncyid TEXT NOT NULL, slsamnt INTEGER NOT NULL, trdisamt INTEGER NOT NULL,
    frtamnt INTEGER NOT NULL, miscamnt INTEGER NOT NULL, taxamnt INTEGER NOT NULL,
    costamnt INTEGER NOT NULL, docamnt INTEGER NOT NULL, curtrxam INTEGER NOT NULL, docdescr TEXT,
    cstponbr TEXT, chekbkid TEXT, cshrctyp TEXT, cheknmbr TEXT, distributions TEXT,
    creatddt TEXT NOT NULL, modifdt TEXT NOT NULL,
    PRIMARY KEY (company_id, rmdtypal, docnumbr));
CREATE TABLE IF NOT EXISTS rm10201 (
    company_id INTEGER NOT NULL, rmdtypal INTEGER NOT NULL, docnumbr TEXT NOT NULL,
    custnmbr TEXT NOT NULL, docdate TEXT NOT NULL, bachnumb TEXT NOT NULL, bchsourc TEXT NOT NULL,
    curncyid TEXT NOT NULL, slsamnt INTEGER NOT NULL, trdisamt INTEGER NOT NULL,
    frtamnt INTEGER NOT NULL, miscamnt INTEGER NOT NULL, taxamnt INTEGER NOT NULL,
    costamnt INTEGER NOT NULL, docamnt INTEGER NOT NULL, curtrxam INTEGER NOT NULL, docdescr TEXT,
    cstponbr TEXT, chekbkid TEXT, cshrctyp TEXT, cheknmbr TEXT, distributions TEXT,
    creatddt TEXT NOT NULL, modifdt TEXT NOT NULL,
    PRIMARY KEY (company_id, rmdtypal, docnumbr));
CREATE TABLE IF NOT EXISTS rm20101 (
    company_id INTEGER NOT NULL, rmdtypal INTEGER NOT NULL, docnumbr TEXT NOT NULL,
    custnmbr TEXT NOT NULL, docdate TEXT NOT NULL, bachnumb TEXT NOT NULL, bchsourc TEXT NOT NULL,
    curncyid TEXT NOT NULL, slsamnt INTEGER NOT NULL, trdisamt INTEGER NOT NULL,
    frtamnt INTEGER NOT NULL, miscamnt INTEGER NOT NULL, taxamnt INTEGER NOT NULL,
    costamnt INTEGER NOT NULL, docamnt INTEGER NOT NULL, curtrxam INTEGER NOT NULL, docdescr TEXT,
    cstponbr TEXT, chekbkid TEXT, cshrctyp TEXT, cheknmbr TEXT, distributions TEXT,
    creatddt TEXT NOT NULL, modifdt TEXT NOT NULL,
    PRIMARY KEY (company_id, rmdtypal, docnumbr));
CREATE TABLE IF NOT EXISTS rm30101 (
    company_id INTEGER NOT NULL, rmdtypal INTEGER NOT NULL, docnumbr TEXT NOT NULL,
    custnmbr TEXT NOT NULL, docdate TEXT NOT NULL, bachnumb TEXT NOT NULL, bchsourc TEXT NOT NULL,
    curncyid TEXT NOT NULL, slsamnt INTEGER NOT NULL, trdisamt INTEGER NOT NULL,
    frtamnt INTEGER NOT NULL, miscamnt INTEGER NOT NULL, taxamnt INTEGER NOT NULL,
    costamnt INTEGER NOT NULL, docamnt INTEGER NOT NULL, curtrxam INTEGER NOT NULL, docdescr TEXT,
    cstponbr TEXT, chekbkid TEXT, cshrctyp TEXT, cheknmbr TEXT, distributions TEXT,
    creatddt TEXT NOT NULL, modifdt TEXT NOT NULL,
    PRIMARY KEY (company_id, rmdtypal, docnumbr));
