//! GP Web Services customers: GetCustomerByKey, CreateCustomer (every member we own, .NET's
//! defaults for the required ones) and UpdateCustomer as read-modify-write. GP's Update…
//! replaces the object with the one sent (members left out take their defaults), so an update
//! sends back the customer exactly as GetCustomerByKey returned it with only the owned members
//! that changed replaced: nothing else GP holds (PostResultsTo, comments, accounts, other
//! addresses) is rewritten.

use super::{NULL_DATE, context, envelope, policy};
use crate::dom::{self, Element};
use crate::model::{Address, Owned, Party};
use crate::xml::{Tree, escape};

/// Customer's members in WSDL order (base BusinessObject first).
const CUSTOMER: &[&str] = &[
    "Extensions",
    "Key",
    "IsOnHold",
    "IsActive",
    "ShipCompleteOnly",
    "Name",
    "Shortname",
    "StatementName",
    "ClassKey",
    "Priority",
    "DefaultAddressKey",
    "ShipToAddressKey",
    "BillToAddressKey",
    "StatementToAddressKey",
    "Comment1",
    "Comment2",
    "TradeDiscountPercent",
    "PaymentTermsKey",
    "DiscountGracePeriod",
    "DueDateGracePeriod",
    "PriceLevelKey",
    "Notes",
    "BalanceType",
    "FinanceCharge",
    "MinimumPayment",
    "CreditLimit",
    "MaximumWriteoff",
    "AllowRevaluation",
    "PostResultsTo",
    "OrderFullfillmentShortageDefault",
    "IncludeInDemandPlanning",
    "PaymentCardAccount",
    "BankName",
    "BankBranch",
    "UserLanguageKey",
    "TaxExemptNumbers",
    "TaxRegistrationNumber",
    "CurrencyKey",
    "RateTypeKey",
    "StatementCycle",
    "HistoryOptions",
    "SendEmailStatements",
    "BankAccountKey",
    "DefaultCashAccountType",
    "CashGLAccountKey",
    "AccountsReceivableGLAccountKey",
    "SalesGLAccountKey",
    "CostOfGoodsSoldGLAccountKey",
    "InventoryGLAccountKey",
    "PaymentTermsDiscountTakenGLAccountKey",
    "PaymentTermsDiscountAvailableGLAccountKey",
    "FinanceChargesGLAccountKey",
    "WriteoffGLAccountKey",
    "SalesOrderReturnsGLAccountKey",
    "OverpaymentWriteoffGLAccountKey",
    "StatementRecipients",
    "CreatedDate",
    "ModifiedDate",
    "LastModifiedDate",
    "CorporateAccountKey",
    "UserDefined1",
    "UserDefined2",
    "Addresses",
];

/// CustomerAddress's members in WSDL order (AddressBase → Address → InternationalAddress →
/// BusinessAddress → ConstituentAddress → CustomerAddress).
const ADDRESS: &[&str] = &[
    "Extensions",
    "Line1",
    "Line2",
    "Line3",
    "City",
    "State",
    "PostalCode",
    "CountryRegion",
    "Phone1",
    "Phone2",
    "Phone3",
    "Fax",
    "CountryRegionCodeKey",
    "Name",
    "ContactPerson",
    "UPSZone",
    "ShippingMethodKey",
    "TaxScheduleKey",
    "CreatedDate",
    "ModifiedDate",
    "LastModifiedDate",
    "UserDefined1",
    "UserDefined2",
    "InternetAddresses",
    "Key",
    "SalespersonKey",
    "SalesTerritoryKey",
    "WarehouseKey",
    "DeleteOnUpdate",
];

const INTERNET: &[&str] = &["MessengerAddress", "EmailToAddress", "EmailCcAddress", "EmailBccAddress"];

/// The address id the connector writes (GP's customary primary address).
pub const PRIMARY: &str = "PRIMARY";

fn key(id: &str) -> Element {
    Element::with("Key", vec![Element::leaf("Id", id)])
}

fn id_key(name: &str, id: &str) -> Element {
    Element::with(name, vec![Element::leaf("Id", id)])
}

pub fn get_customer(company: &str, id: &str) -> (String, String) {
    let op = "GetCustomerByKey";
    (op.into(), envelope(op, &format!("<key><Id>{}</Id></key>{}", escape(id), context(company))))
}

/// Our fields on GP's primary address (a new one when GP has none).
fn set_address(a: &mut Element, c: &Party, changes: &[Owned]) {
    if changes.contains(&Owned::Address)
        && let Some(addr) = &c.address
    {
        let lines = [
            ("Line1", &addr.line1),
            ("Line2", &addr.line2),
            ("City", &addr.city),
            ("State", &addr.state),
            ("PostalCode", &addr.zip),
            ("CountryRegion", &addr.country),
        ];
        for (name, v) in lines {
            a.set(Element::leaf(name, v.as_deref().unwrap_or_default()), ADDRESS);
        }
    }
    if changes.contains(&Owned::Phone)
        && let Some(phone) = &c.phone
    {
        a.set(Element::with("Phone1", vec![Element::leaf("Value", phone)]), ADDRESS);
    }
    if changes.contains(&Owned::Email)
        && let Some(email) = &c.email
    {
        let mut inet =
            a.child("InternetAddresses").cloned().unwrap_or_else(|| Element::with("InternetAddresses", vec![]));
        inet.set(Element::leaf("EmailToAddress", email), INTERNET);
        a.set(inet, ADDRESS);
    }
}

fn new_address(c: &Party) -> Element {
    let mut a = Element::with(
        "CustomerAddress",
        vec![
            Element::leaf("CreatedDate", NULL_DATE),
            Element::leaf("ModifiedDate", NULL_DATE),
            Element::leaf("LastModifiedDate", NULL_DATE),
            Element::with("Key", vec![id_key("CustomerKey", &c.id), Element::leaf("Id", PRIMARY)]),
            Element::leaf("DeleteOnUpdate", "false"),
        ],
    );
    set_address(&mut a, c, &[Owned::Address, Owned::Phone, Owned::Email]);
    a
}

fn is_primary(a: &Element) -> bool {
    a.child("Key").and_then(|k| k.child("Id")).is_some_and(|id| id.text.trim() == PRIMARY)
}

/// The owned members of `changes` written into a Customer object.
fn set_owned(x: &mut Element, c: &Party, changes: &[Owned]) {
    for change in changes {
        match change {
            Owned::Name => x.set(Element::leaf("Name", &c.name), CUSTOMER),
            Owned::Class => x.set(id_key("ClassKey", c.class_id.as_deref().unwrap_or_default()), CUSTOMER),
            Owned::Terms => x.set(id_key("PaymentTermsKey", c.payment_terms.as_deref().unwrap_or_default()), CUSTOMER),
            Owned::Currency => {
                x.set(Element::with("CurrencyKey", vec![Element::leaf("ISOCode", &c.currency)]), CUSTOMER)
            }
            Owned::Email | Owned::Phone | Owned::Address => {}
        }
    }
    if !changes.iter().any(|c| matches!(c, Owned::Email | Owned::Phone | Owned::Address)) {
        return;
    }
    let mut addresses = x.child("Addresses").cloned().unwrap_or_else(|| Element::with("Addresses", vec![]));
    addresses.xsi.clear();
    match addresses.children.iter_mut().find(|a| is_primary(a)) {
        Some(a) => set_address(a, c, changes),
        None => addresses.children.push(new_address(c)),
    }
    x.set(addresses, CUSTOMER);
}

/// CreateCustomer: the key, the owned members, and .NET's defaults for the required members
/// GP's serializer would otherwise substitute silently (PostResultsTo, the dates).
pub fn create(company: &str, c: &Party) -> (String, String) {
    let mut x = Element::with("customer", vec![key(&c.id), Element::leaf("Name", &c.name)]);
    if let Some(s) = &c.short_name {
        x.set(Element::leaf("Shortname", s), CUSTOMER);
    }
    let mut owned = vec![Owned::Currency];
    owned.extend(c.class_id.as_ref().map(|_| Owned::Class));
    owned.extend(c.payment_terms.as_ref().map(|_| Owned::Terms));
    set_owned(&mut x, c, &owned);
    x.set(Element::leaf("PostResultsTo", "Receivables/Discount Account"), CUSTOMER);
    for d in ["CreatedDate", "ModifiedDate", "LastModifiedDate"] {
        x.set(Element::leaf(d, NULL_DATE), CUSTOMER);
    }
    if c.email.is_some() || c.phone.is_some() || c.address.is_some() {
        x.set(Element::with("Addresses", vec![new_address(c)]), CUSTOMER);
    }
    let op = "CreateCustomer";
    (op.into(), envelope(op, &format!("{}{}{}", x.xml(), context(company), policy())))
}

/// UpdateCustomer: GP's copy (`raw`, the GetCustomerByKey answer) with only `changes` replaced.
pub fn update(company: &str, c: &Party, raw: &str, changes: &[Owned]) -> Result<(String, String), String> {
    let mut x = dom::find(raw, "GetCustomerByKeyResult")?.ok_or("GP's GetCustomerByKey answer holds no customer")?;
    x.name = "customer".into();
    x.xsi.clear();
    set_owned(&mut x, c, changes);
    let op = "UpdateCustomer";
    Ok((op.into(), envelope(op, &format!("{}{}{}", x.xml(), context(company), policy()))))
}

/// The customer in a GetCustomerByKey answer (its members sit directly under the result
/// element); none when the answer holds no customer, an error when it is not XML.
pub fn parse(body: &str) -> Result<Option<Party>, String> {
    const R: &str = "GetCustomerByKeyResult";
    let x = Tree::parse(body).map_err(|e| format!("GP's GetCustomerByKey answer: {e}"))?;
    let Some(id) = x.text(&[R, "Key", "Id"]) else { return Ok(None) };
    let some = |path: &[&str]| x.text(path).filter(|s| !s.is_empty());
    let primary =
        dom::find(body, R)?.and_then(|r| r.child("Addresses")?.children.iter().find(|a| is_primary(a)).cloned());
    let at = |a: &Element, name: &str| a.child(name).map(|e| e.text.trim().to_string()).filter(|s| !s.is_empty());
    Ok(Some(Party {
        id,
        name: x.text(&[R, "Name"]).unwrap_or_default(),
        short_name: some(&[R, "Shortname"]),
        currency: x.text(&[R, "CurrencyKey", "ISOCode"]).unwrap_or_default(),
        class_id: some(&[R, "ClassKey", "Id"]),
        payment_terms: some(&[R, "PaymentTermsKey", "Id"]),
        email: primary.as_ref().and_then(|a| at(a.child("InternetAddresses")?, "EmailToAddress")),
        phone: primary.as_ref().and_then(|a| at(a.child("Phone1")?, "Value")),
        address: primary.as_ref().map(|a| Address {
            line1: at(a, "Line1"),
            line2: at(a, "Line2"),
            city: at(a, "City"),
            state: at(a, "State"),
            country: at(a, "CountryRegion"),
            zip: at(a, "PostalCode"),
        }),
        ..Party::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: &str = "<soap:Envelope><soap:Body><GetCustomerByKeyResponse><GetCustomerByKeyResult><Key><CompanyKey><Id>-1</Id></CompanyKey><Id>ACME</Id></Key><Name>Acme Corp</Name><Comment1>keep me</Comment1><PostResultsTo>Sales Offset Account</PostResultsTo><CurrencyKey><ISOCode>EUR</ISOCode></CurrencyKey><Addresses><CustomerAddress><Line1>1 Road</Line1><Phone1><Value>555</Value></Phone1><InternetAddresses><EmailToAddress>old@acme.example</EmailToAddress></InternetAddresses><Key><Id>PRIMARY</Id></Key></CustomerAddress><CustomerAddress><Line1>Warehouse</Line1><Key><Id>SHIP</Id></Key></CustomerAddress></Addresses></GetCustomerByKeyResult></GetCustomerByKeyResponse></soap:Body></soap:Envelope>";

    #[test]
    fn customer_is_read_at_the_result_element() -> Result<(), String> {
        let c = parse(READ)?.ok_or("a customer")?;
        assert_eq!((c.id.as_str(), c.name.as_str(), c.currency.as_str()), ("ACME", "Acme Corp", "EUR"));
        assert_eq!(c.email.as_deref(), Some("old@acme.example"));
        assert_eq!(c.phone.as_deref(), Some("555"));
        assert_eq!(c.address.and_then(|a| a.line1).as_deref(), Some("1 Road"));
        assert!(parse("<soap:Envelope><soap:Body><GetCustomerByKeyResponse/></soap:Body></soap:Envelope>")?.is_none());
        Ok(())
    }

    #[test]
    fn an_update_sends_gp_s_copy_with_only_the_changed_owned_members() -> Result<(), String> {
        let ours = Party {
            id: "ACME".into(),
            name: "Acme Corporation".into(),
            email: Some("ap@acme.example".into()),
            ..Party::default()
        };
        let (op, body) = update("-1", &ours, READ, &[Owned::Name, Owned::Email])?;
        assert_eq!(op, "UpdateCustomer");
        assert!(body.contains("<Name>Acme Corporation</Name><Comment1>keep me</Comment1><PostResultsTo>Sales Offset Account</PostResultsTo>"), "{body}");
        assert!(body.contains("<Line1>1 Road</Line1><Phone1><Value>555</Value></Phone1><InternetAddresses><EmailToAddress>ap@acme.example</EmailToAddress></InternetAddresses>"), "{body}");
        assert!(body.contains("<Line1>Warehouse</Line1>"), "{body}");
        assert!(!body.contains("Receivables/Discount Account"), "{body}");
        Ok(())
    }

    #[test]
    fn a_create_carries_class_terms_address_phone_and_email_in_wsdl_order() {
        let c = Party {
            id: "ACME".into(),
            name: "Acme".into(),
            currency: "USD".into(),
            class_id: Some("USA-ILMO-T1".into()),
            payment_terms: Some("Net 30".into()),
            phone: Some("+1 555".into()),
            email: Some("ap@acme.example".into()),
            address: Some(Address { line1: Some("1 Road".into()), city: Some("Chicago".into()), ..Address::default() }),
            ..Party::default()
        };
        let (_, body) = create("-1", &c);
        let order = [
            "<Name>",
            "<ClassKey>",
            "<PaymentTermsKey>",
            "<PostResultsTo>",
            "<CurrencyKey>",
            "<CreatedDate>",
            "<Addresses>",
        ];
        let at: Vec<usize> = order.iter().filter_map(|t| body.find(t)).collect();
        assert_eq!(at.len(), order.len(), "{body}");
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{body}");
        assert!(
            body.contains("<Line1>1 Road</Line1><Line2></Line2><City>Chicago</City>")
                || body.contains("<Line1>1 Road</Line1><Line2/><City>Chicago</City>"),
            "{body}"
        );
        assert!(body.contains("<Phone1><Value>+1 555</Value></Phone1>"), "{body}");
    }
}
