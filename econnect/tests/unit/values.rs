use mlc_econnect::procs::SqlType;
use mlc_econnect::value::{Value, convert, date, numeric, numeric_text};

#[test]
fn char_lengths_count_characters() {
    assert_eq!(convert(SqlType::Char(15), "123456789012345"), Ok(Value::Text("123456789012345".into())));
    assert!(convert(SqlType::Char(15), "1234567890123456").unwrap_err().contains("16 characters"));
    // é is one character (two bytes).
    assert!(convert(SqlType::Char(3), "éé€").is_ok());
    assert!(convert(SqlType::VarChar(200), &"a".repeat(201)).is_err());
    assert!(convert(SqlType::VarChar(8000), &"a".repeat(8000)).is_ok());
}

#[test]
fn integers_per_width() {
    assert_eq!(convert(SqlType::TinyInt, "255"), Ok(Value::U8(255)));
    assert!(convert(SqlType::TinyInt, "256").is_err());
    assert_eq!(convert(SqlType::SmallInt, "-32768"), Ok(Value::I16(-32768)));
    assert!(convert(SqlType::SmallInt, "32768").is_err());
    assert_eq!(convert(SqlType::Int, " 2147483647 "), Ok(Value::I32(i32::MAX)));
    assert!(convert(SqlType::Int, "2147483648").is_err());
    for bad in ["", "1.0", "0x10", "--1", "1 2", "+"] {
        assert!(convert(SqlType::Int, bad).is_err(), "{bad:?}");
    }
}

#[test]
fn numerics_keep_every_digit_or_refuse() {
    assert_eq!(numeric("12.5", 5), Ok(1_250_000));
    assert_eq!(numeric("-0.00001", 5), Ok(-1));
    assert_eq!(numeric("+3", 5), Ok(300_000));
    assert_eq!(numeric("007.10", 5), Ok(710_000));
    // Extra decimals that are zeros lose nothing.
    assert_eq!(numeric("1.1000000", 5), Ok(110_000));
    assert!(numeric("1.000001", 5).unwrap_err().contains("more than 5 decimals"));
    assert_eq!(numeric("1.1234567", 7), Ok(11_234_567));
    assert!(numeric("1.12345678", 7).is_err());
    // numeric(19,5): 14 integer digits; numeric(19,7): 12.
    assert_eq!(numeric("99999999999999.99999", 5), Ok(9_999_999_999_999_999_999));
    assert!(numeric("100000000000000", 5).unwrap_err().contains("out of range"));
    assert!(numeric("999999999999", 7).is_ok());
    assert!(numeric("1000000000000", 7).is_err());
    for bad in ["", ".5", "5.", "1,5", "1e3", "NaN", "- 1", "1.2.3"] {
        assert!(numeric(bad, 5).is_err(), "{bad:?}");
    }
}

#[test]
fn numeric_text_keeps_the_scale() {
    assert_eq!(numeric_text(1_250_000, 5), "12.50000");
    assert_eq!(numeric_text(-1, 5), "-0.00001");
    assert_eq!(numeric_text(-150_000, 5), "-1.50000");
    assert_eq!(numeric_text(0, 5), "0.00000");
    assert_eq!(numeric_text(42, 0), "42");
    assert_eq!(numeric_text(11_234_567, 7), "1.1234567");
}

#[test]
fn dates_in_two_forms_within_datetime() {
    assert_eq!(date("2026-11-02").unwrap().to_string(), "2026-11-02 00:00:00");
    assert_eq!(date("2026-11-02T13:45:10").unwrap().to_string(), "2026-11-02 13:45:10");
    assert!(date("1900-01-01").is_ok(), "GP's empty date");
    assert!(date("9999-12-31").is_ok());
    for bad in [
        "2026-11-2",
        "2026/11/02",
        "02-11-2026",
        "2026-13-01",
        "2026-02-29",
        "1752-12-31",
        "2026-11-02T24:00:00",
        "2026-11-02Z",
        "",
    ] {
        assert!(date(bad).is_err(), "{bad:?}");
    }
}
