//! Lines of a record's timeline (the append-only audit trail), built in one place: who wrote the
//! line (stage), how it ended (one [`Label`] vocabulary for the host and guests alike), the
//! detail, and what the host stamps on it (connection, record, job, component digest, duration).

use std::fmt;

use mlc_store::AuditEvent;

/// How a stage ended, as the timeline and the API show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Ok,
    Info,
    Retry,
    Waiting,
    Parked,
    Failed,
    Denied,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Ok => "ok",
            Label::Info => "info",
            Label::Retry => "retry",
            Label::Waiting => "waiting",
            Label::Parked => "parked",
            Label::Failed => "failed",
            Label::Denied => "denied",
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest stage name and detail kept on a line (a guest's text is cut, never stored whole).
pub const MAX_STAGE: usize = 64;
pub const MAX_DETAIL: usize = 8192;

/// A timeline line under construction.
#[derive(Debug, Clone)]
pub struct Line(AuditEvent);

impl Line {
    pub fn new(connection: &str, stage: &str, label: Label, detail: &str) -> Line {
        Line(AuditEvent {
            id: 0,
            at: 0,
            connection: connection.to_string(),
            record_key: None,
            job_id: None,
            stage: truncate(stage, MAX_STAGE).to_string(),
            outcome: label.as_str().to_string(),
            detail: clip(detail, MAX_DETAIL).into_owned(),
            component: None,
            duration_ms: None,
        })
    }

    pub fn record(mut self, key: Option<impl ToString>) -> Line {
        self.0.record_key = key.map(|k| k.to_string());
        self
    }

    pub fn job(mut self, id: Option<i64>) -> Line {
        self.0.job_id = id;
        self
    }

    /// The sha256 of the component that did the work.
    pub fn component(mut self, digest: &str) -> Line {
        self.0.component = Some(digest.to_string());
        self
    }

    pub fn took(mut self, since: std::time::Instant) -> Line {
        self.0.duration_ms = Some(i64::try_from(since.elapsed().as_millis()).unwrap_or(i64::MAX));
        self
    }

    pub fn build(self) -> AuditEvent {
        self.0
    }
}

/// `s` cut to at most `max` characters, on a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Longest `last_error` kept on a job or a record (the reason may carry a guest's text).
pub const MAX_LAST_ERROR: usize = 4096;

/// A reason as `last_error` keeps it: clipped to [`MAX_LAST_ERROR`], the cut marked.
pub fn clip_error(reason: &str) -> String {
    clip(reason, MAX_LAST_ERROR).into_owned()
}

/// `s` cut to at most `max` characters with the cut marked (`… [N more bytes cut]`), so a reader
/// knows the text is not whole. Guest text that reaches the timeline, `last_error` or the logs
/// goes through here.
pub fn clip(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    let kept = truncate(s, max);
    if kept.len() == s.len() {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(format!("{kept}… [{} more bytes cut]", s.len() - kept.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipped_text_says_so() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("héllo wörld", 5), "héllo… [7 more bytes cut]");
        let line = Line::new("c", "s", Label::Info, &"x".repeat(MAX_DETAIL + 10)).build();
        assert!(line.detail.ends_with("… [10 more bytes cut]"), "{}", &line.detail[MAX_DETAIL..]);
    }
}
