"""python-tds (pytds), an independent TDS client, against the GP emulator's real eConnect
endpoint: SQL login (right password in, wrong refused), eConnect procedures called by name
with their OUTPUT parameters inside one transaction, and the read queries of docs/econnect.md.

Usage: pytds_econnect.py HOST PORT USER PASSWORD DATABASE YEAR
Prints one JSON report as its last line; tests/pytds_econnect.rs checks it.
"""
import datetime
import decimal
import json
import sys

import pytds

host, port, user, password, database, year = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
report = {}


def connect(pw, autocommit):
    return pytds.connect(host, port=port, user=user, password=pw, database=database,
                         autocommit=autocommit, login_timeout=10, timeout=10)


def call(cur, proc, params):
    """eConnect's calling convention: @I_v inputs, @O_iErrorState / @oErrString outputs."""
    named = {"@I_v" + k: v for k, v in params.items()}
    named["@O_iErrorState"] = pytds.output(value=None, param_type="int")
    named["@oErrString"] = pytds.output(value=None, param_type="varchar(255)")
    out = cur.callproc(proc, named)
    return [out[-2], (out[-1] or "").strip()]


def rows(cur, sql, params):
    cur.execute(sql, params)
    return [[str(v) if isinstance(v, (decimal.Decimal, datetime.datetime, datetime.date)) else v for v in r]
            for r in cur.fetchall()]


try:
    connect("wrong-" + password, True).close()
    report["wrong_login"] = "accepted"
except pytds.Error as e:
    report["wrong_login"] = getattr(e, "msg_no", None)

date = datetime.datetime(year, 3, 15)
with connect(password, False) as conn:  # autocommit off: pytds opens a transaction (TM BEGIN)
    with conn.cursor() as cur:
        report["customer"] = call(cur, "taUpdateCreateCustomerRcd", {
            "CUSTNMBR": "PYTDS-001", "CUSTNAME": "Python TDS Ltd", "CUSTCLAS": "INTERNET", "PYMTRMID": "Net 30"})
        report["invoice"] = call(cur, "taRMTransaction", {
            "RMDTYPAL": 1, "DOCNUMBR": "PYTDS-INV-1", "DOCDATE": date, "BACHNUMB": "PYTDS",
            "CUSTNMBR": "PYTDS-001", "DOCAMNT": decimal.Decimal("250.00000"), "SLSAMNT": decimal.Decimal("250.00000"),
            "CREATEDIST": 1})
    conn.commit()
    with conn.cursor() as cur:
        # The same number again: eConnect refuses it (its error number in @O_iErrorState).
        report["duplicate"] = call(cur, "taRMTransaction", {
            "RMDTYPAL": 1, "DOCNUMBR": "PYTDS-INV-1", "DOCDATE": date, "BACHNUMB": "PYTDS",
            "CUSTNMBR": "PYTDS-001", "DOCAMNT": decimal.Decimal("250.00000"), "SLSAMNT": decimal.Decimal("250.00000"),
            "CREATEDIST": 1})
        number = report["duplicate"][0]
        report["duplicate_text"] = rows(cur, "SELECT ErrorDesc FROM DYNAMICS..taErrorCode WHERE ErrorCode = %s",
                                        (number,))
        report["sales_work"] = rows(cur, (
            "SELECT RMDTYPAL, DOCNUMBR, CUSTNMBR, DOCDATE, BACHNUMB, BCHSOURC, CURNCYID, DOCAMNT, SLSAMNT, "
            "TRDISAMT, FRTAMNT, MISCAMNT, TAXAMNT, DOCDESCR, CSTPONBR, TAXSCHID FROM RM10301 "
            "WHERE RMDTYPAL = %s AND DOCNUMBR = %s"), (1, "PYTDS-INV-1"))
        report["customer_row"] = rows(cur, (
            "SELECT CUSTNMBR, CUSTNAME, SHRTNAME, CUSTCLAS, CURNCYID, PYMTRMID, ADRSCODE, ADDRESS1, ADDRESS2, CITY, "
            "STATE, ZIP, COUNTRY, PHONE1, INACTIVE, HOLD FROM RM00101 WHERE CUSTNMBR = %s"), ("PYTDS-001",))
        try:
            cur.execute("DELETE FROM RM10301")
            report["other_sql"] = "accepted"
        except pytds.Error as e:
            report["other_sql"] = getattr(e, "msg_no", None)
    conn.rollback()

report["ok"] = True
print(json.dumps(report))
