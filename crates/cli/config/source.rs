//! Positions in a config file, and where each value came from, for one-line errors:
//! `path:line:column: message` for the file, `--flag: message` for the command line.

use std::ops::Range;
use std::path::PathBuf;

use anyhow::anyhow;

/// The config file being checked.
pub struct Source {
    /// Its path, as given.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A byte range of the file.
    File(Range<usize>),
    /// A command-line flag.
    Flag(&'static str),
}

impl Source {
    /// `path:line:column: message` for the byte range `span` (1-based, as editors count).
    pub fn error(&self, span: Range<usize>, message: impl std::fmt::Display) -> anyhow::Error {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        anyhow!("{}:{line}:{column}: {message}", self.path.display())
    }

    /// The error at `origin`: the file position, or the flag that gave the value.
    pub fn error_at(&self, origin: &Origin, message: impl std::fmt::Display) -> anyhow::Error {
        match origin {
            Origin::File(span) => self.error(span.clone(), message),
            Origin::Flag(flag) => anyhow!("{flag}: {message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_characters() {
        let source = Source {
            path: "c.toml".into(),
            text: "[train]\nloss = \"mäe\"\n".into(),
        };
        let at = source.text.find("\"mäe").unwrap();
        assert_eq!(
            source.error(at..at + 1, "bad").to_string(),
            "c.toml:2:8: bad"
        );
        assert_eq!(
            source
                .error_at(&Origin::Flag("--epochs"), "bad")
                .to_string(),
            "--epochs: bad"
        );
    }
}
