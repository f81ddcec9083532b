"""python-tds (pytds) against the GP emulator's SQL Server endpoint.

Usage: pytds_client.py HOST PORT USER PASSWORD
Prints one JSON report as its last line; the Rust test (tests/tds.rs) checks it and what
reached the backend.
"""
import datetime
import decimal
import json
import sys

import pytds

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
report = {}


def connect(pw, autocommit):
    # No cafile: pytds sends ENCRYPTION = NOT_SUP and accepts the server's NOT_SUP.
    return pytds.connect(host, port=port, user=user, password=pw, database="TWO",
                         autocommit=autocommit, login_timeout=10, timeout=10)


def plain(v):
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    return v


def outputs():
    return {
        "@O_iErrorState": pytds.output(value=None, param_type="int"),
        "@oErrString": pytds.output(value=None, param_type="varchar(255)"),
    }


try:
    connect("wrong", True).close()
    report["wrong_login"] = "accepted"
except pytds.Error as e:
    report["wrong_login"] = {"class": type(e).__name__, "number": getattr(e, "msg_no", None), "text": str(e)}

# autocommit=False: pytds begins a transaction (TM_BEGIN_XACT) before the first statement.
with connect(password, False) as conn:
    with conn.cursor() as cur:
        params = {
            "@I_vDOCNUMBR": "INV-PY-1",
            "@I_vRMDTYPAL": 1,
            "@I_vDOCAMNT": decimal.Decimal("123.45000"),
            "@I_vDOCDATE": datetime.datetime(2024, 1, 31),
        }
        params.update(outputs())
        out = cur.callproc("taRMTransaction", params)
        report["ok_outputs"] = [out[4], out[5]]
        report["ok_status"] = cur.get_proc_return_status()
        out = cur.callproc("dbo.taFail", {"@I_vDOCNUMBR": "X", **outputs()})
        report["fail_outputs"] = [out[1], out[2]]
        report["fail_status"] = cur.get_proc_return_status()
        cur.execute("SELECT ErrorDesc FROM DYNAMICS..taErrorCode WHERE ErrorCode = %s", (1234,))
        report["error_text"] = [list(r) for r in cur.fetchall()]
        cur.execute("SELECT RMDTYPAL, DOCAMNT, CUSTNAME, DOCDATE, CSTPONBR FROM RM00101 WHERE CUSTNMBR = %s",
                    ("AARONFIT0001",))
        report["columns"] = [d[0] for d in cur.description]
        report["rows"] = [[plain(v) for v in r] for r in cur.fetchall()]
        try:
            cur.execute("DROP TABLE RM00101")
            report["bad_statement"] = "accepted"
        except pytds.Error as e:
            report["bad_statement"] = getattr(e, "msg_no", None)
        cur.execute("SELECT 1 AS one")
        report["after_error"] = cur.fetchall()[0][0]
    conn.commit()

# autocommit=True: a procedure call runs on its own, no transaction requests.
with connect(password, True) as conn:
    with conn.cursor() as cur:
        out = cur.callproc("taRMApply", {"@I_vAPTODCNM": "INV-PY-1", **outputs()})
        report["autocommit_outputs"] = [out[1], out[2]]

report["ok"] = True
print(json.dumps(report))
