//! A small T-SQL lexer for the statement forms the endpoint recognises: words (keywords and
//! names, `[bracketed]` ones unwrapped), `@variables` / `@@functions`, numbers, `'strings'`
//! and `N'strings'`, punctuation. Whitespace and comments separate tokens and are dropped;
//! each token keeps its byte span so a read query can be passed on as written.

use super::backend::SqlError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Word(String),
    /// `@name` or `@@name`, with the `@`s.
    Var(String),
    Number(String),
    Str(String),
    Punct(char),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// A word equal to `kw`, case-insensitively.
    pub fn is_word(&self, kw: &str) -> bool {
        matches!(&self.tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    pub fn is_punct(&self, c: char) -> bool {
        self.tok == Tok::Punct(c)
    }
}

/// Error 102 as SQL Server words it, near `near` (cut to 50 characters).
pub fn syntax_error(near: &str) -> SqlError {
    let near: String = near.chars().take(50).collect();
    SqlError { number: 102, class: 15, state: 1, message: format!("Incorrect syntax near '{near}'.") }
}

fn unclosed(rest: &str) -> SqlError {
    let rest: String = rest.chars().take(50).collect();
    SqlError {
        number: 105,
        class: 15,
        state: 1,
        message: format!("Unclosed quotation mark after the character string '{rest}'."),
    }
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Skips whitespace and comments; false at the end.
    fn skip_blank(&mut self) -> Result<bool, SqlError> {
        loop {
            let rest = self.rest();
            if let Some(c) = rest.chars().next().filter(|c| c.is_whitespace()) {
                self.pos += c.len_utf8();
            } else if rest.starts_with("--") {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if rest.starts_with("/*") {
                let end = rest.find("*/").ok_or_else(|| syntax_error(rest))?;
                self.pos += end + 2;
            } else {
                return Ok(!rest.is_empty());
            }
        }
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &str {
        let start = self.pos;
        let len = self.rest().find(|c: char| !f(c)).unwrap_or(self.rest().len());
        self.pos += len;
        &self.src[start..self.pos]
    }

    /// `'…'` with `''` as a quote; the position is on the opening quote.
    fn string(&mut self) -> Result<String, SqlError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = self.rest();
            let Some(q) = rest.find('\'') else {
                return Err(unclosed(&self.src[open + 1..]));
            };
            out.push_str(&rest[..q]);
            self.pos += q + 1;
            if self.rest().starts_with('\'') {
                out.push('\'');
                self.pos += 1;
            } else {
                return Ok(out);
            }
        }
    }

    fn bracketed(&mut self) -> Result<String, SqlError> {
        let rest = &self.rest()[1..];
        let end = rest.find(']').ok_or_else(|| syntax_error(rest))?;
        let name = rest[..end].to_string();
        self.pos += end + 2;
        Ok(name)
    }

    fn next(&mut self) -> Result<Tok, SqlError> {
        let is_name = |c: char| c.is_alphanumeric() || c == '_' || c == '#' || c == '$';
        let Some(c) = self.peek() else { return Err(syntax_error("")) };
        Ok(match c {
            '\'' => Tok::Str(self.string()?),
            'N' | 'n' if self.rest()[1..].starts_with('\'') => {
                self.pos += 1;
                Tok::Str(self.string()?)
            }
            '[' => Tok::Word(self.bracketed()?),
            '@' => Tok::Var(self.take_while(|c| c == '@' || is_name(c)).to_string()),
            '0'..='9' => Tok::Number(self.take_while(|c| c.is_ascii_digit() || c == '.').to_string()),
            c if is_name(c) => Tok::Word(self.take_while(is_name).to_string()),
            c => {
                self.pos += c.len_utf8();
                Tok::Punct(c)
            }
        })
    }
}

pub fn tokenize(src: &str) -> Result<Vec<Token>, SqlError> {
    let mut lexer = Lexer { src, pos: 0 };
    let mut out = Vec::new();
    while lexer.skip_blank()? {
        let start = lexer.pos;
        let tok = lexer.next()?;
        out.push(Token { tok, start, end: lexer.pos });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_the_wrapper_pieces() {
        assert_eq!(
            toks("EXEC @rc = [dbo].taX @I_vA = N'it''s', -- c\n @B=1.5;"),
            vec![
                Tok::Word("EXEC".into()),
                Tok::Var("@rc".into()),
                Tok::Punct('='),
                Tok::Word("dbo".into()),
                Tok::Punct('.'),
                Tok::Word("taX".into()),
                Tok::Var("@I_vA".into()),
                Tok::Punct('='),
                Tok::Str("it's".into()),
                Tok::Punct(','),
                Tok::Var("@B".into()),
                Tok::Punct('='),
                Tok::Number("1.5".into()),
                Tok::Punct(';'),
            ]
        );
        assert_eq!(toks("SELECT @@VERSION /* x */"), vec![Tok::Word("SELECT".into()), Tok::Var("@@VERSION".into())]);
    }

    #[test]
    fn unclosed_things() {
        assert_eq!(tokenize("SELECT 'abc").unwrap_err().number, 105);
        assert_eq!(tokenize("SELECT [abc").unwrap_err().number, 102);
        assert_eq!(tokenize("/* x").unwrap_err().number, 102);
        assert!(tokenize("Né").is_ok());
    }
}
