//! Positions in a config file, and where each value came from, for one-line errors:
//! `path:line:column: message` for the file, `--flag: message` for the command line,
//! `--set KEY=VALUE: message` for a value a `--set` edit gave.

use std::ops::Range;
use std::path::PathBuf;

use crate::error::ConfigError;

/// The config file being checked.
pub struct Source {
    /// Its path, as given.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// The edits' values: where each one's spans lie, past the end of the text, and what
    /// messages about it start with (`--set KEY=VALUE`).
    pub edits: Vec<(Range<usize>, String)>,
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
    /// The file at `path` with `text`, edited by `edits` (`--set` arguments and the lengths of
    /// their values), whose spans are laid out one after another past the end of the text.
    pub fn new(path: PathBuf, text: String, edits: &[(String, usize)]) -> Self {
        let mut at = text.len() + 1;
        let edits = edits
            .iter()
            .map(|(arg, len)| {
                let region = at..at + len;
                at = region.end + 1;
                (region, arg.clone())
            })
            .collect();
        Self { path, text, edits }
    }

    /// The label of the edit that gave the value at `span`, if an edit did.
    pub fn edit_at(&self, span: &Range<usize>) -> Option<&str> {
        self.edits
            .iter()
            .find(|(region, _)| region.start <= span.start && span.start <= region.end)
            .map(|(_, arg)| arg.as_str())
    }

    /// `path:line:column: message` for the byte range `span` (1-based, as editors count), or
    /// `--set KEY=VALUE: message` where an edit gave the value.
    pub fn error(&self, span: Range<usize>, message: impl std::fmt::Display) -> ConfigError {
        if let Some(arg) = self.edit_at(&span) {
            return ConfigError::At {
                at: arg.to_string(),
                message: message.to_string(),
            };
        }
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        ConfigError::At {
            at: format!("{}:{line}:{column}", self.path.display()),
            message: message.to_string(),
        }
    }

    /// The error at `origin`: the file position, or the flag that gave the value.
    pub fn error_at(&self, origin: &Origin, message: impl std::fmt::Display) -> ConfigError {
        match origin {
            Origin::File(span) => self.error(span.clone(), message),
            Origin::Flag(flag) => ConfigError::At {
                at: flag.to_string(),
                message: message.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_characters() {
        let source = Source::new(
            "c.toml".into(),
            "[train]\nloss = \"mäe\"\n".into(),
            &[("--set train.loss=ssr".to_string(), 3)],
        );
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
        // The edit's value lies past the text: 22 bytes, a newline, then `ssr`.
        assert_eq!(
            source.error(24..27, "bad").to_string(),
            "--set train.loss=ssr: bad"
        );
        assert_eq!(source.error(22..22, "bad").to_string(), "c.toml:3:1: bad");
    }
}
