//! Errors of the file source.
//!
//! Every message says where the problem is (file, line and, when known, column; or the
//! configuration field) and what is wrong, and, where there is an obvious fix, what to do.
//! Parse errors are all-or-nothing: a file that produced one provisions nothing.

use std::fmt;
use std::path::PathBuf;

use crate::filter::FilterError;

/// A position in a source file, rendered as ` line 12` or ` line 12 column 5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column (characters), when known.
    pub column: Option<usize>,
}

impl Position {
    /// A position with a line only.
    pub fn line(line: usize) -> Self {
        Position { line: Some(line), column: None }
    }

    /// A position with line and column.
    pub fn at(line: usize, column: usize) -> Self {
        Position { line: Some(line), column: Some(column) }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
            if let Some(column) = self.column {
                write!(f, " column {column}")?;
            }
        }
        Ok(())
    }
}

/// Everything that can go wrong reading a file source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be read at all.
    #[error("{}: cannot read the file: {error}; check the source path", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// What the operating system said.
        #[source]
        error: std::io::Error,
    },

    /// The file's format could not be told from its name.
    #[error(
        "{}: cannot tell the file format from its name; name it .ldif, .csv or .json, or set the source's format to ldif, csv or json",
        file.display()
    )]
    UnknownFormat {
        /// The file.
        file: PathBuf,
    },

    /// The file is malformed (LDIF, CSV or JSON syntax, or an entry that cannot be read).
    #[error("{}{position}: {message}", file.display())]
    Parse {
        /// The file.
        file: PathBuf,
        /// Where in the file.
        position: Position,
        /// What is wrong, and how to fix it where that is known.
        message: String,
    },

    /// A configuration setting is wrong (checked before the file is read).
    #[error("{field}: {message}")]
    Config {
        /// The setting, e.g. `user_filter`.
        field: &'static str,
        /// What is wrong.
        message: String,
    },

    /// A filter setting does not parse.
    #[error("{field}: {error}")]
    Filter {
        /// The setting, `user_filter` or `group_filter`.
        field: &'static str,
        /// The parse error, with its 1-based column.
        error: FilterError,
    },

    /// An entry in scope cannot be provisioned as it is (no GUID, an unreadable status value...).
    #[error("{origin} line {line}: entry {dn} {message}")]
    Entry {
        /// The file (or, for other sources, where the entry came from).
        origin: String,
        /// Line (or record number) where the entry starts.
        line: usize,
        /// The entry's DN.
        dn: String,
        /// What is wrong with it, phrased to follow the DN.
        message: String,
    },

    /// Two entries in scope carry the same GUID.
    #[error("{0}")]
    DuplicateGuid(Box<DuplicateGuid>),

    /// A group DN named in the configuration is not in the file (or not usable).
    #[error("{field} {dn}: {message}")]
    GroupNotFound {
        /// `user_group_dn` or `group_dn`.
        field: &'static str,
        /// The DN as configured.
        dn: String,
        /// Why it cannot be used, e.g. `no entry with this DN in users.ldif`.
        message: String,
    },
}

impl SourceError {
    /// A parse error at a line.
    pub(crate) fn parse(file: &std::path::Path, line: usize, message: impl Into<String>) -> Self {
        SourceError::Parse { file: file.to_path_buf(), position: Position::line(line), message: message.into() }
    }

    /// A parse error at a line and column.
    pub(crate) fn parse_at(file: &std::path::Path, line: usize, column: usize, message: impl Into<String>) -> Self {
        SourceError::Parse { file: file.to_path_buf(), position: Position::at(line, column), message: message.into() }
    }

    /// The 1-based line the error points at, when it points at one.
    pub fn line(&self) -> Option<usize> {
        match self {
            SourceError::Parse { position, .. } => position.line,
            SourceError::Entry { line, .. } => Some(*line),
            SourceError::DuplicateGuid(d) => Some(d.second_line),
            _ => None,
        }
    }
}

/// Two entries in scope with the same GUID (compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{origin}: entries {first_dn} (line {first_line}) and {second_dn} (line {second_line}) have the same {attribute} {guid}; the entry GUID must be unique"
)]
pub struct DuplicateGuid {
    /// The file (or, for other sources, where the entries came from).
    pub origin: String,
    /// The GUID attribute's name.
    pub attribute: String,
    /// The GUID (as rendered).
    pub guid: String,
    /// The first entry.
    pub first_dn: String,
    /// Its line.
    pub first_line: usize,
    /// The second entry.
    pub second_dn: String,
    /// Its line.
    pub second_line: usize,
}
