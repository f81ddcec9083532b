-- Posting (Series Post of an RM batch): what a posted document carries beyond the shared
-- document columns — RM00401's DCSTATUS (1 work, 2 open, 3 history) and RM20101's POSTDATE —
-- keyed like the document. A document with no row here is unposted (DCSTATUS 1).
CREATE TABLE IF NOT EXISTS rm_posting (
    company_id INTEGER NOT NULL, rmdtypal INTEGER NOT NULL, docnumbr TEXT NOT NULL,
    dcstatus INTEGER NOT NULL, postdate TEXT NOT NULL,
    PRIMARY KEY (company_id, rmdtypal, docnumbr));
