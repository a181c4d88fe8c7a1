//! The one error type of the core. The bindings map each variant to a Python
//! exception class of the `cd38` hierarchy in a single place (`python/errors.rs`).

use std::fmt;

/// Where in an FCS file a problem sits, so messages can name it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub keyword: Option<String>,
    pub offset: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A malformed, truncated, hostile or unsupported FCS file.
    #[error("{}", fcs_message(path.as_deref(), message, location))]
    Fcs {
        path: Option<String>,
        message: String,
        location: Location,
    },
    /// The operating system refused a file operation.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A caller passed an argument the operation cannot accept.
    #[error("{0}")]
    InvalidArgument(String),
    /// A spillover/compensation matrix that cannot be used.
    #[error("{0}")]
    Compensation(String),
    /// A bug in cd38 (a caught panic): never the user's fault.
    #[error("internal error in cd38 (please report): {0}")]
    Internal(String),
}

fn fcs_message(path: Option<&str>, message: &str, location: &Location) -> String {
    let mut out = String::new();
    if let Some(p) = path {
        out.push_str(p);
        out.push_str(": ");
    }
    out.push_str(message);
    match (&location.keyword, location.offset) {
        (Some(k), Some(o)) => out.push_str(&format!(" (keyword {k}, byte offset {o})")),
        (Some(k), None) => out.push_str(&format!(" (keyword {k})")),
        (None, Some(o)) => out.push_str(&format!(" (byte offset {o})")),
        (None, None) => {}
    }
    out
}

impl Error {
    pub fn fcs(message: impl Into<String>) -> Self {
        Error::Fcs {
            path: None,
            message: message.into(),
            location: Location::default(),
        }
    }

    pub fn fcs_kw(keyword: &str, message: impl Into<String>) -> Self {
        Error::Fcs {
            path: None,
            message: message.into(),
            location: Location {
                keyword: Some(keyword.to_string()),
                offset: None,
            },
        }
    }

    pub fn fcs_at(offset: u64, message: impl Into<String>) -> Self {
        Error::Fcs {
            path: None,
            message: message.into(),
            location: Location {
                keyword: None,
                offset: Some(offset),
            },
        }
    }

    /// Attach the file name to an FCS error raised deep in the parser.
    pub fn with_path(self, p: &str) -> Self {
        match self {
            Error::Fcs {
                path: None,
                message,
                location,
            } => Error::Fcs {
                path: Some(p.to_string()),
                message,
                location,
            },
            other => other,
        }
    }

    pub fn io(path: &str, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_string(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", fcs_message(None, "", self))
    }
}
