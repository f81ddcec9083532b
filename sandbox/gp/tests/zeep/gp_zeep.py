"""Cross-toolkit check: Python zeep loads the real GP Web Services WSDL and calls the sandbox.

zeep builds its requests from the WSDL alone (it knows nothing of the sandbox), and
requests-ntlm (pyspnego) does the NTLMv2 handshake, so a pass means the sandbox accepts what
a WSDL-driven SOAP toolkit sends and answers what it can parse.

Usage: gp_zeep.py WSDL URL DOMAIN\\user PASSWORD DATE   (WSDL: a file or an http(s) URL;
over HTTPS, REQUESTS_CA_BUNDLE names the CA to trust)
Prints one JSON line: {"ok": true, "wsdl_load_seconds": ..., ...}; exits non-zero on failure.
"""

import json
import sys
import time

import requests
from lxml import etree
from requests_ntlm import HttpNtlmAuth
from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.transports import Transport

GP = "http://schemas.microsoft.com/dynamics/gp/2006/01"
DYN = "http://schemas.microsoft.com/dynamics/2006/01"
MIN_DATE = "0001-01-01T00:00:00"


def main():
    wsdl, url, user, password, doc_date = sys.argv[1:6]
    report = {}

    session = requests.Session()
    session.auth = HttpNtlmAuth(user, password)
    transport = Transport(session=session, timeout=60, operation_timeout=60)
    started = time.monotonic()
    client = Client(wsdl, transport=transport, settings=Settings(strict=True, xml_huge_tree=True))
    report["wsdl_load_seconds"] = round(time.monotonic() - started, 2)
    service = client.create_service("{%s}LegacyDynamicsGP" % GP, url)

    company_key = client.get_type("{%s}CompanyKey" % DYN)
    context = client.get_type("{%s}Context" % DYN)(
        OrganizationKey=company_key(Id=-1), CurrencyType="Transactional"
    )

    def policy(operation):
        return service.GetPolicyByOperation(operation=operation, context=context)

    def money(value):
        return {"Value": value, "DecimalDigits": 2}

    companies = service.GetCompanyList(criteria=None, context=context)
    report["companies"] = sorted(c.Name for c in companies)

    customer_type = client.get_type("{%s}Customer" % GP)
    customer = customer_type(
        Key={"Id": "ZEEP0001"},
        Name="Zeep Toolkit Customer",
        CurrencyKey={"ISOCode": "USD"},
        PostResultsTo="Receivables/Discount Account",
        CreatedDate=MIN_DATE,
        ModifiedDate=MIN_DATE,
        LastModifiedDate=MIN_DATE,
    )
    service.CreateCustomer(customer=customer, context=context, policy=policy("CreateCustomer"))

    batch = {"Id": "ZEEP-BATCH", "CreatedDateTime": MIN_DATE}
    invoice_type = client.get_type("{%s}ReceivablesInvoice" % GP)
    invoice = invoice_type(
        Key={"Id": "ZEEP-INV-1"},
        Date=doc_date,
        DocumentAmount=money("121.00"),
        SalesAmount=money("110.00"),
        TaxAmount=money("11.00"),
        Description="zeep invoice",
        BatchKey=batch,
        CustomerKey={"Id": "ZEEP0001"},
        CurrencyKey={"ISOCode": "USD"},
    )
    service.CreateReceivablesInvoice(
        receivablesInvoice=invoice, context=context, policy=policy("CreateReceivablesInvoice")
    )

    # The apply travels as a GP Web Services extension (xs:any content), see README.
    apply = etree.Element("taRMApply")
    etree.SubElement(apply, "APTODCNM").text = "ZEEP-INV-1"
    etree.SubElement(apply, "APPTOAMT").text = "21.00"
    extension_type = client.get_type("{%s}Extension" % DYN)
    extension = extension_type(DocExtension={"_value_1": apply}, ExtensionId="RMApply")
    receipt_type = client.get_type("{%s}CashReceipt" % GP)
    receipt = receipt_type(
        Extensions={"Extension": [extension]},
        CustomerKey={"Id": "ZEEP0001"},
        Key={"Id": "ZEEP-PMT-1"},
        BatchKey={"Id": "ZEEP-CASH", "CreatedDateTime": MIN_DATE},
        Type="Check",
        BankAccountKey={"Id": "UPTOWN TRUST"},
        Date=doc_date,
        Amount=money("21.00"),
        CurrencyKey={"ISOCode": "USD"},
    )
    service.CreateCashReceipt(cashReceipt=receipt, context=context, policy=policy("CreateCashReceipt"))

    got = service.GetReceivablesInvoiceByKey(key={"Id": "ZEEP-INV-1"}, context=context)
    report["invoice"] = {
        "id": got.Key.Id,
        "customer": got.CustomerKey.Id,
        "document_amount": str(got.DocumentAmount.Value),
        "remaining": str(got.CurrentDocumentAmount.Value),
        "state": got.TransactionState,
        "batch_source": got.BatchKey.Source,
    }

    # A validation fault, resolved the way GP's documentation says.
    try:
        service.CreateReceivablesInvoice(
            receivablesInvoice=invoice, context=context, policy=policy("CreateReceivablesInvoice")
        )
        report["duplicate"] = "accepted"
    except Fault as fault:
        log_id = fault.detail.find("Message").text
        result = service.GetLoggedValidationResultByKey(logId=log_id, context=context)
        report["duplicate"] = [e.Message for e in result.Errors.ValidationError]

    report["ok"] = True
    print(json.dumps(report))


if __name__ == "__main__":
    main()
