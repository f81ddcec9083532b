//! The statement text each call runs (docs/econnect.md, "One document = one SQL transaction"),
//! and the batches around them. tiberius cannot call a procedure by name, so each call is an
//! `sp_executesql` of a small wrapper that runs the procedure and selects its outputs.

use tiberius::ToSql;

use crate::document::Call;

pub const BEGIN: &str = "BEGIN TRANSACTION";
pub const COMMIT: &str = "COMMIT TRANSACTION";
/// The procedure may have rolled back already; a bare ROLLBACK would then fail with 3903.
pub const ROLLBACK: &str = "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION";

/// `DECLARE @rc int, @e int, @s varchar(255); EXEC @rc = dbo.<proc> @I_v<NAME1> = @P1, …,
/// @O_iErrorState = @e OUTPUT, @oErrString = @s OUTPUT; SELECT @rc AS rc, @e AS error_state,
/// @s AS error_string` — one `@Pn` per element present, in the procedure's element order.
pub fn statement(call: &Call) -> String {
    let mut s = format!("DECLARE @rc int, @e int, @s varchar(255); EXEC @rc = dbo.{}", call.proc.name);
    for (i, (param, _)) in call.params.iter().enumerate() {
        let sep = if i == 0 { " " } else { ", " };
        s.push_str(&format!("{sep}@I_v{} = @P{}", param.name, i + 1));
    }
    let sep = if call.params.is_empty() { " " } else { ", " };
    s.push_str(sep);
    s.push_str(
        "@O_iErrorState = @e OUTPUT, @oErrString = @s OUTPUT; SELECT @rc AS rc, @e AS error_state, @s AS error_string",
    );
    s
}

/// The call's values as tiberius parameters, `@P1…` in order.
pub fn params(call: &Call) -> Vec<&dyn ToSql> {
    call.params.iter().map(|(_, v)| v as &dyn ToSql).collect()
}

/// The numbers listed in `@oErrString` (separated by spaces and/or commas), in order; anything
/// else in it is skipped.
pub fn error_numbers(error_string: &str) -> Vec<i32> {
    error_string
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .filter_map(|t| t.parse::<i32>().ok())
        .collect()
}
