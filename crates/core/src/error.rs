//! The one error type of the domain.
//!
//! Policy: every failure a user can cause is one of the typed variants below and
//! carries enough to tell the user what to fix (a field name and a rule for
//! [`Error::Validation`], the state and the action for
//! [`Error::InvalidTransition`]). [`Error::Store`] is the only variant that means
//! "our fault"; its text is logged by the web layer and never shown.

use std::collections::BTreeMap;
use std::fmt;

/// A result in the domain.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Field-level validation failures: field path → rule broken (in Chinese, for people).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors {
    fields: BTreeMap<String, String>,
}

impl FieldErrors {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record that `field` breaks `rule`. The first rule recorded for a field wins.
    pub fn add(&mut self, field: impl Into<String>, rule: impl Into<String>) {
        self.fields
            .entry(field.into())
            .or_insert_with(|| rule.into());
    }

    /// Record every error of `other` under the prefix `prefix.`.
    pub fn nest(&mut self, prefix: &str, other: FieldErrors) {
        for (k, v) in other.fields {
            self.add(format!("{prefix}.{k}"), v);
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The recorded errors.
    pub fn fields(&self) -> &BTreeMap<String, String> {
        &self.fields
    }

    /// `Ok(())` when empty, otherwise a [`Error::Validation`] listing all fields.
    pub fn into_result(self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self))
        }
    }

    /// Run a parse and record its error under `field`; returns the value if it parsed.
    pub fn check<T, E: fmt::Display>(
        &mut self,
        field: &str,
        r: std::result::Result<T, E>,
    ) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (k, v) in &self.fields {
            if !first {
                f.write_str("；")?;
            }
            first = false;
            write!(f, "{k}: {v}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in a use case.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input broke a rule; nothing was changed.
    #[error("输入有误：{0}")]
    Validation(FieldErrors),
    /// The thing does not exist, or the actor may not know it exists.
    #[error("{entity}不存在")]
    NotFound {
        /// What was looked for, in Chinese (e.g. "办件").
        entity: &'static str,
    },
    /// Not signed in, or the session ended.
    #[error("请先登录")]
    Unauthenticated,
    /// Signed in, but the role or scope does not allow this.
    #[error("无权操作：{0}")]
    Forbidden(String),
    /// The action is not allowed in the case's (or item's) current state.
    #[error("当前状态“{state}”下不能执行“{action}”：{reason}")]
    InvalidTransition {
        /// The current state, in Chinese.
        state: String,
        /// The action tried, in Chinese.
        action: String,
        /// Why not.
        reason: String,
    },
    /// Someone else changed the thing first, or a unique value is taken.
    #[error("冲突：{0}")]
    Conflict(String),
    /// Too many attempts; try again after the given seconds.
    #[error("尝试次数过多，请 {retry_after_secs} 秒后再试")]
    TooManyAttempts {
        /// Seconds until the next attempt is allowed.
        retry_after_secs: u64,
    },
    /// A failure of the storage layer (not the user's fault).
    #[error("存储错误：{0}")]
    Store(String),
}

impl Error {
    /// A validation error on one field.
    pub fn field(field: impl Into<String>, rule: impl Into<String>) -> Self {
        let mut fe = FieldErrors::new();
        fe.add(field, rule);
        Error::Validation(fe)
    }

    /// A forbidden error with a reason.
    pub fn forbidden(reason: impl Into<String>) -> Self {
        Error::Forbidden(reason.into())
    }

    /// A machine-readable code for the JSON error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation(_) => "validation_failed",
            Error::NotFound { .. } => "not_found",
            Error::Unauthenticated => "unauthenticated",
            Error::Forbidden(_) => "forbidden",
            Error::InvalidTransition { .. } => "invalid_transition",
            Error::Conflict(_) => "conflict",
            Error::TooManyAttempts { .. } => "too_many_attempts",
            Error::Store(_) => "internal",
        }
    }
}
