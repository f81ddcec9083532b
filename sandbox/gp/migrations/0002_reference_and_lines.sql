-- Reference data a GP administrator sets up (chart of accounts, taxes, classes, terms, cards,
-- multicurrency), the system database's company list and eConnect error texts, and the lines
-- a receivables document carries (distributions, tax details, per-document extras).
-- Company tables carry company_id (one SQLite file holds every company); DYNAMICS tables
-- (sy01500, mc00100, ta_error_code) do not.

-- DYNAMICS..SY01500 companies: INTERID is the company database name eConnect logs into.
CREATE TABLE IF NOT EXISTS sy01500 (
    cmpanyid INTEGER PRIMARY KEY, interid TEXT NOT NULL UNIQUE COLLATE NOCASE, cmpnynam TEXT NOT NULL);
-- DYNAMICS..taErrorCode: every error number the emulator returns, with its (generic) text.
CREATE TABLE IF NOT EXISTS ta_error_code (
    errorcode INTEGER PRIMARY KEY, sourceproc TEXT NOT NULL, errordesc TEXT NOT NULL);
-- GL00100 account master + GL00105 account index (ACTNUMST), folded into one table.
CREATE TABLE IF NOT EXISTS gl00105 (
    company_id INTEGER NOT NULL, actindx INTEGER NOT NULL, actnumst TEXT NOT NULL, actdescr TEXT NOT NULL,
    PRIMARY KEY (company_id, actindx), UNIQUE (company_id, actnumst));
-- TX00201 tax details; TX00101 tax schedules; TX00102 schedule → detail.
CREATE TABLE IF NOT EXISTS tx00201 (
    company_id INTEGER NOT NULL, taxdtlid TEXT NOT NULL, txdtlpct TEXT NOT NULL, actindx INTEGER NOT NULL,
    PRIMARY KEY (company_id, taxdtlid));
CREATE TABLE IF NOT EXISTS tx00101 (
    company_id INTEGER NOT NULL, taxschid TEXT NOT NULL, txschdsc TEXT NOT NULL,
    PRIMARY KEY (company_id, taxschid));
CREATE TABLE IF NOT EXISTS tx00102 (
    company_id INTEGER NOT NULL, taxschid TEXT NOT NULL, taxdtlid TEXT NOT NULL,
    PRIMARY KEY (company_id, taxschid, taxdtlid));
-- RM00201 customer classes, SY03300 payment terms, SY03100 payment card names.
CREATE TABLE IF NOT EXISTS rm00201 (
    company_id INTEGER NOT NULL, classid TEXT NOT NULL, clasdscr TEXT NOT NULL, pymtrmid TEXT, curncyid TEXT,
    PRIMARY KEY (company_id, classid));
CREATE TABLE IF NOT EXISTS sy03300 (
    company_id INTEGER NOT NULL, pymtrmid TEXT NOT NULL, duedays INTEGER NOT NULL,
    PRIMARY KEY (company_id, pymtrmid));
CREATE TABLE IF NOT EXISTS sy03100 (
    company_id INTEGER NOT NULL, cardname TEXT NOT NULL, actindx INTEGER,
    PRIMARY KEY (company_id, cardname));
-- MC40000 multicurrency setup; MC40301 currency + rate type → rate table; DYNAMICS..MC00100 rates.
CREATE TABLE IF NOT EXISTS mc40000 (
    company_id INTEGER PRIMARY KEY, funlcurr TEXT NOT NULL, defslstp TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mc40301 (
    company_id INTEGER NOT NULL, curncyid TEXT NOT NULL, ratetpid TEXT NOT NULL, exgtblid TEXT NOT NULL,
    PRIMARY KEY (company_id, curncyid, ratetpid));
CREATE TABLE IF NOT EXISTS mc00100 (
    exgtblid TEXT NOT NULL, curncyid TEXT NOT NULL, exchdate TEXT NOT NULL, xchgrate TEXT NOT NULL,
    expndate TEXT NOT NULL DEFAULT '1900-01-01', PRIMARY KEY (exgtblid, exchdate));
-- RM00102 customer addresses (is_primary = the customer's ADRSCODE) and SY01200 internet addresses.
CREATE TABLE IF NOT EXISTS rm00102 (
    company_id INTEGER NOT NULL, custnmbr TEXT NOT NULL, adrscode TEXT NOT NULL, is_primary INTEGER NOT NULL DEFAULT 0,
    cntcprsn TEXT, address1 TEXT, address2 TEXT, address3 TEXT, city TEXT, state TEXT, zip TEXT, country TEXT,
    phone1 TEXT, taxschid TEXT,
    PRIMARY KEY (company_id, custnmbr, adrscode));
CREATE TABLE IF NOT EXISTS sy01200 (
    company_id INTEGER NOT NULL, master_type TEXT NOT NULL, master_id TEXT NOT NULL, adrscode TEXT NOT NULL,
    inet1 TEXT, emailtoaddress TEXT,
    PRIMARY KEY (company_id, master_type, master_id, adrscode));
-- RM10101 distributions and RM10601 tax details of a document (amounts in minor units).
CREATE TABLE IF NOT EXISTS rm10101 (
    company_id INTEGER NOT NULL, rmdtypal INTEGER NOT NULL, docnumbr TEXT NOT NULL, seqnumbr INTEGER NOT NULL,
    disttype INTEGER NOT NULL, dstindx INTEGER NOT NULL, debitamt INTEGER NOT NULL, crdtamnt INTEGER NOT NULL,
    distref TEXT, custnmbr TEXT NOT NULL,
    PRIMARY KEY (company_id, rmdtypal, docnumbr, seqnumbr));
CREATE TABLE IF NOT EXISTS rm10601 (
    company_id INTEGER NOT NULL, rmdtypal INTEGER NOT NULL, docnumbr TEXT NOT NULL, taxdtlid TEXT NOT NULL,
    taxamnt INTEGER NOT NULL, staxamnt INTEGER NOT NULL, tdttxsls INTEGER NOT NULL, actindx INTEGER,
    custnmbr TEXT NOT NULL, bachnumb TEXT,
    PRIMARY KEY (company_id, rmdtypal, docnumbr, taxdtlid));
-- What a document carries beyond the shared document columns (MC020102's rate, terms, card,
-- tax schedule, void status); keyed like the document, so it follows it between tables.
CREATE TABLE IF NOT EXISTS rm_document_ext (
    company_id INTEGER NOT NULL, rmdtypal INTEGER NOT NULL, docnumbr TEXT NOT NULL,
    taxschid TEXT, pymtrmid TEXT, crcardid TEXT, xchgrate TEXT, ratetpid TEXT, exchdate TEXT, glpostdt TEXT,
    voidstts INTEGER NOT NULL DEFAULT 0, voiddate TEXT,
    PRIMARY KEY (company_id, rmdtypal, docnumbr));
