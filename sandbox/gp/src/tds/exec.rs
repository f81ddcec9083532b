//! Running requests on a logged-in connection: SQL batches, sp_executesql and procedure RPCs,
//! transaction-manager requests. Each returns the whole reply's token stream.

use std::collections::HashMap;

use super::backend::{ColumnType, ProcOutcome, ResultSet, SqlError, SqlValue};
use super::reply::Reply;
use super::request::{Rpc, RpcParam, SP_EXECUTESQL, Target, TmRequest};
use super::results;
use super::script::{self, Exec, Expr, Stmt};
use super::tokens::{self, TOKEN_DONE, TOKEN_DONEINPROC};
use super::xact::Conn;

const ERROR_STATE: &str = "@O_iErrorState";
const ERROR_STRING: &str = "@oErrString";
/// `@oErrString varchar(255)`, answered as NVARCHAR(255).
const ERROR_STRING_TYPE: ColumnType = ColumnType::Text { max_chars: 255 };

/// Variables of one batch or sp_executesql call, by lowercased name: declared type, value.
type Vars = HashMap<String, (Option<ColumnType>, SqlValue)>;

fn error(number: i32, class: u8, message: String) -> SqlError {
    SqlError { number, class, state: 1, message }
}

fn undeclared(name: &str) -> SqlError {
    error(137, 15, format!("Must declare the scalar variable \"{name}\"."))
}

/// The column type a value of unknown declaration is answered with.
fn inferred_type(v: &SqlValue) -> ColumnType {
    match v {
        SqlValue::Int(_) | SqlValue::Null => ColumnType::Int,
        SqlValue::Decimal { scale, .. } => ColumnType::Decimal { precision: 38, scale: *scale },
        SqlValue::Text(s) => ColumnType::Text { max_chars: s.encode_utf16().count().clamp(1, 4000) as u16 },
        SqlValue::DateTime(_) => ColumnType::DateTime,
    }
}

impl Conn {
    fn eval(&self, vars: &Vars, expr: &Expr) -> Result<(Option<ColumnType>, SqlValue), SqlError> {
        let name = match expr {
            Expr::Lit(v) => return Ok((None, v.clone())),
            Expr::Var(name) => name.as_str(),
        };
        let text = |s: &str| (None, SqlValue::Text(s.to_string()));
        Ok(match name {
            "@@version" => text(&format!("{} 2019 (RTM) - 15.0.2000 (GP emulator)", tokens::PROG_NAME)),
            "@@servername" => text(tokens::SERVER_NAME),
            "@@spid" => (None, SqlValue::Int(i64::from(self.spid))),
            "@@trancount" => (None, SqlValue::Int(self.trancount())),
            _ => vars.get(name).cloned().ok_or_else(|| undeclared(name))?,
        })
    }

    async fn call(&mut self, vars: &mut Vars, exec: &Exec) -> Result<(), SqlError> {
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        for arg in &exec.args {
            let is_output_param = [ERROR_STATE, ERROR_STRING].iter().any(|n| arg.name.eq_ignore_ascii_case(n));
            match (&arg.value, is_output_param) {
                (Expr::Var(var), true) if arg.output => outputs.push((arg.name.clone(), var.clone())),
                (_, true) => {}
                (_, false) if arg.output => return Err(not_output(&arg.name, &exec.procedure)),
                (value, false) => inputs.push((arg.name.clone(), self.eval(vars, value)?.1)),
            }
        }
        let outcome = self.session.call(&exec.procedure, &inputs).await?;
        let mut assign = |var: &str, v: SqlValue| match vars.get_mut(var) {
            Some(slot) => {
                slot.1 = v;
                Ok(())
            }
            None => Err(undeclared(var)),
        };
        if let Some(var) = &exec.status_var {
            assign(var, SqlValue::Int(i64::from(outcome.return_status)))?;
        }
        for (param, var) in outputs {
            assign(&var, output_value(&param, &outcome))?;
        }
        Ok(())
    }

    fn select_values(&self, vars: &Vars, items: &[(Expr, String)]) -> Result<ResultSet, SqlError> {
        let mut rs = ResultSet::default();
        let mut row = Vec::new();
        for (expr, alias) in items {
            let (declared, value) = self.eval(vars, expr)?;
            let kind = declared.unwrap_or_else(|| inferred_type(&value));
            rs.columns.push(super::backend::Column { name: alias.clone(), kind });
            row.push(value);
        }
        rs.rows.push(row);
        Ok(rs)
    }

    /// One statement; `done` = DONE (batch) or DONEINPROC (sp_executesql).
    async fn run(
        &mut self,
        stmt: &Stmt,
        vars: &mut Vars,
        params: &[SqlValue],
        reply: &mut Reply,
        done: u8,
    ) -> Result<(), SqlError> {
        let mut env = Vec::new();
        let result = match stmt {
            Stmt::Begin => self.begin(&mut env).await,
            Stmt::Commit { if_open } => self.commit(&mut env, *if_open).await,
            Stmt::Rollback { if_open } => self.rollback(&mut env, *if_open).await,
            Stmt::Use(db) => self.use_database(&mut env, db).await,
            Stmt::Set => Ok(()),
            Stmt::Declare(decls) => {
                for (name, kind) in decls {
                    vars.insert(name.clone(), (Some(*kind), SqlValue::Null));
                }
                return Ok(());
            }
            Stmt::Exec(exec) => return self.call(vars, exec).await,
            Stmt::SelectValues(items) => return reply.result_set(done, &self.select_values(vars, items)?),
            Stmt::Query(sql) => {
                let rs = self.session.query(sql, params).await;
                self.sync(&mut env);
                reply.push(|out| out.extend_from_slice(&env));
                return reply.result_set(done, &rs?);
            }
        };
        reply.push(|out| out.extend_from_slice(&env));
        result?;
        reply.end_statement(done, None);
        Ok(())
    }

    async fn use_database(&mut self, out: &mut Vec<u8>, db: &str) -> Result<(), SqlError> {
        let old = self.session.database().to_string();
        self.session.use_database(db).await?;
        tokens::database_changed(out, self.session.database(), &old);
        Ok(())
    }

    async fn run_all(
        &mut self,
        stmts: &[Stmt],
        vars: &mut Vars,
        params: &[SqlValue],
        reply: &mut Reply,
        done: u8,
    ) -> Result<(), SqlError> {
        for stmt in stmts {
            self.run(stmt, vars, params, reply, done).await?;
        }
        Ok(())
    }

    /// A SQL batch (packet type 0x01).
    pub async fn batch(&mut self, text: &str) -> Vec<u8> {
        let mut reply = Reply::default();
        let result = match script::parse(text) {
            Ok(stmts) => self.run_all(&stmts, &mut Vars::new(), &[], &mut reply, TOKEN_DONE).await,
            Err(e) => Err(e),
        };
        let mut env = Vec::new();
        self.sync(&mut env);
        reply.push(|out| out.extend_from_slice(&env));
        if let Err(e) = &result {
            reply.error(e, "");
        }
        reply.finish_batch(result.is_err())
    }

    /// An RPC (packet type 0x03).
    pub async fn rpc(&mut self, rpc: Rpc) -> Vec<u8> {
        let mut reply = Reply::default();
        let (result, proc_name) = match &rpc.target {
            Target::Id(SP_EXECUTESQL) => (self.execute_sql(&rpc.params, &mut reply).await, "sp_executesql".to_string()),
            Target::Name(name) if last_part(name).eq_ignore_ascii_case("sp_executesql") => {
                (self.execute_sql(&rpc.params, &mut reply).await, "sp_executesql".to_string())
            }
            Target::Id(id) => (Err(unknown_procedure(&system_procedure(*id))), String::new()),
            Target::Name(name) => {
                let proc_name = last_part(name).to_string();
                (self.procedure(&proc_name, &rpc.params, &mut reply).await, proc_name)
            }
        };
        let mut env = Vec::new();
        self.sync(&mut env);
        reply.push(|out| out.extend_from_slice(&env));
        if let Err(e) = &result {
            reply.error(e, &proc_name);
        }
        reply.finish_proc(result.is_err())
    }

    /// sp_executesql: `@stmt`, `@params` (declarations, not needed), then `@P1…`.
    async fn execute_sql(&mut self, params: &[RpcParam], reply: &mut Reply) -> Result<(), SqlError> {
        let Some(SqlValue::Text(statement)) = params.first().map(|p| &p.value) else {
            return Err(error(
                214,
                16,
                "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'.".into(),
            ));
        };
        let values = params.get(2..).unwrap_or_default();
        let mut vars = Vars::new();
        for (i, p) in values.iter().enumerate() {
            let name = if p.name.starts_with('@') { p.name.to_ascii_lowercase() } else { format!("@p{}", i + 1) };
            vars.insert(name, (None, p.value.clone()));
        }
        let positional: Vec<SqlValue> = values.iter().map(|p| p.value.clone()).collect();
        let stmts = script::parse(statement)?;
        self.run_all(&stmts, &mut vars, &positional, reply, TOKEN_DONEINPROC).await?;
        reply.push(|out| tokens::return_status(out, 0));
        Ok(())
    }

    /// An eConnect procedure by name with named parameters; OUTPUT ones answered as RETURNVALUE.
    async fn procedure(&mut self, name: &str, params: &[RpcParam], reply: &mut Reply) -> Result<(), SqlError> {
        let mut inputs = Vec::new();
        for p in params {
            if p.name.is_empty() {
                return Err(error(
                    50000,
                    16,
                    format!("Procedure {name}: the GP emulator needs named parameters (@I_v…)."),
                ));
            }
            let is_output_param = [ERROR_STATE, ERROR_STRING].iter().any(|n| p.name.eq_ignore_ascii_case(n));
            if p.by_ref && !is_output_param {
                return Err(not_output(&p.name, name));
            }
            if !is_output_param {
                inputs.push((p.name.clone(), p.value.clone()));
            }
        }
        let outcome = self.session.call(name, &inputs).await?;
        let mut out = Vec::new();
        tokens::return_status(&mut out, outcome.return_status);
        for (ordinal, p) in params.iter().enumerate().filter(|(_, p)| p.by_ref) {
            let kind = if p.name.eq_ignore_ascii_case(ERROR_STATE) { ColumnType::Int } else { ERROR_STRING_TYPE };
            results::return_value(&mut out, ordinal as u16, &p.name, kind, &output_value(&p.name, &outcome))?;
        }
        reply.push(|o| o.extend_from_slice(&out));
        Ok(())
    }

    /// A transaction-manager request (packet type 0x0E).
    pub async fn transaction(&mut self, req: TmRequest) -> Vec<u8> {
        let mut out = Vec::new();
        let result = match req {
            TmRequest::Begin => self.begin(&mut out).await,
            TmRequest::Commit { then_begin } => self.end_then(&mut out, true, then_begin).await,
            TmRequest::Rollback { then_begin } => self.end_then(&mut out, false, then_begin).await,
            TmRequest::Other(kind) => Err(super::request::protocol_error(&format!(
                "Transaction manager request {kind} is not supported (only begin, commit, rollback)."
            ))),
        };
        let mut reply = Reply::default();
        reply.push(|o| o.extend_from_slice(&out));
        if let Err(e) = &result {
            reply.error(e, "");
        }
        reply.finish_batch(result.is_err())
    }

    async fn end_then(&mut self, out: &mut Vec<u8>, commit: bool, then_begin: bool) -> Result<(), SqlError> {
        if commit {
            self.commit(out, false).await?;
        } else {
            self.rollback(out, false).await?;
        }
        if then_begin { self.begin(out).await } else { Ok(()) }
    }
}

fn output_value(param: &str, outcome: &ProcOutcome) -> SqlValue {
    if param.eq_ignore_ascii_case(ERROR_STATE) {
        SqlValue::Int(i64::from(outcome.error_state))
    } else {
        SqlValue::Text(outcome.error_string.clone())
    }
}

fn not_output(param: &str, procedure: &str) -> SqlError {
    error(
        8162,
        16,
        format!(
            "The formal parameter \"{param}\" was not declared as an OUTPUT parameter, but the actual parameter \
             passed in requested output. (procedure {procedure})"
        ),
    )
}

fn unknown_procedure(name: &str) -> SqlError {
    error(2812, 16, format!("Could not find stored procedure '{name}'."))
}

/// `TWO.dbo.[taX]` → `taX`.
fn last_part(name: &str) -> &str {
    let last = name.rsplit('.').next().unwrap_or(name);
    last.trim_start_matches('[').trim_end_matches(']')
}

/// The names of RPC procedure ids (MS-TDS §2.2.6.6) for the error text.
fn system_procedure(id: u16) -> String {
    let names = [
        (1, "sp_cursor"),
        (2, "sp_cursoropen"),
        (3, "sp_cursorprepare"),
        (4, "sp_cursorexecute"),
        (5, "sp_cursorprepexec"),
        (6, "sp_cursorunprepare"),
        (7, "sp_cursorfetch"),
        (8, "sp_cursoroption"),
        (9, "sp_cursorclose"),
        (11, "sp_prepare"),
        (12, "sp_execute"),
        (13, "sp_prepexec"),
        (14, "sp_prepexecrpc"),
        (15, "sp_unprepare"),
    ];
    names.iter().find(|(n, _)| *n == id).map(|(_, s)| s.to_string()).unwrap_or_else(|| format!("procedure id {id}"))
}
