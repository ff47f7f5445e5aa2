//! Running the binary: a scratch directory, a pinned environment, readable failures.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a finished command printed.
#[derive(Debug)]
pub struct Output {
    /// Its exit status (-1 when killed by a signal).
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    /// How it was run, for failure messages.
    pub command: String,
}

impl Output {
    /// Asserts exit status 0 and returns stdout.
    #[track_caller]
    pub fn success(&self) -> &str {
        assert_eq!(self.status, 0, "command failed:\n{self}");
        &self.stdout
    }

    /// Asserts the exit status and one-line stderr, exactly.
    #[track_caller]
    pub fn fails_with(&self, status: i32, stderr: &str) {
        assert_eq!(self.status, status, "wrong exit status:\n{self}");
        assert_eq!(self.stderr.trim_end(), stderr, "wrong stderr:\n{self}");
        assert_eq!(
            self.stderr.lines().count(),
            1,
            "stderr is not one line:\n{self}"
        );
        assert!(self.stdout.is_empty(), "stdout is not empty:\n{self}");
    }

    /// Parses stdout as one JSON object.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        let out = self.success();
        assert_eq!(
            out.lines().count(),
            1,
            "expected exactly one JSON line:\n{self}"
        );
        serde_json::from_str(out).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{self}"))
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rule = "-".repeat(60);
        write!(
            f,
            "$ {}\nstatus: {}\n{rule} stdout\n{}\n{rule} stderr\n{}\n{rule}",
            self.command, self.status, self.stdout, self.stderr
        )
    }
}

/// The repository root (configs are referred to relative to it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `squiggle ARGS` in `dir`.
pub fn squiggle_in(dir: &Path, args: &[&str]) -> Output {
    squiggle_env(dir, args, &[])
}

/// Runs `squiggle ARGS` in `dir` with extra environment variables.
pub fn squiggle_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_squiggle"));
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1");
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("SQUIGGLE_") || key.starts_with("BURN_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("the squiggle binary should start");
    Output {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        command: format!("squiggle {}  (in {})", args.join(" "), dir.display()),
    }
}

/// Runs `squiggle ARGS` in the repository root.
pub fn squiggle(args: &[&str]) -> Output {
    squiggle_in(&root(), args)
}

/// Runs `squiggle train configs/statquest-pt2.toml ARGS` in `dir` (so relative output paths
/// land there).
pub fn train_pt2_in(dir: &Path, args: &[&str]) -> Output {
    let config = root().join("configs/statquest-pt2.toml");
    let mut all = vec!["train", config.to_str().expect("a UTF-8 path")];
    all.extend_from_slice(args);
    squiggle_in(dir, &all)
}

/// Writes `rows` generated dosage rows to `dir/out`; `extra` adds `generate` flags.
pub fn generate(dir: &Path, rows: u64, out: &str, extra: &[&str]) {
    let rows = rows.to_string();
    let mut args = vec!["generate", "dosage", "--rows", &rows, "--out", out];
    args.extend_from_slice(extra);
    squiggle_in(dir, &args).success();
}

/// Makes a FIFO at `path`: the special file that the writers must write through and the
/// readers must refuse rather than wait on.
pub fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("running mkfifo");
    assert!(made.success(), "mkfifo {}", path.display());
}

/// A fresh scratch directory, removed when dropped.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Writes `text` to `dir/name` and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writing a fixture");
    path.to_string_lossy().into_owned()
}

/// Asserts `|got − want| ≤ tol` with a message naming the quantity.
#[track_caller]
pub fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want} ± {tol}"
    );
}

/// A JSON number, or a failure naming the key.
#[track_caller]
pub fn number(v: &serde_json::Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("`{key}` is not a number in {v}"))
}

/// One test body run once per CPU backend (`flex`, and `ndarray` when it is compiled in).
macro_rules! backend_test {
    ($name:ident, |$backend:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn flex() {
                let $backend: &str = "flex";
                $body
            }

            #[test]
            #[cfg_attr(
                not(feature = "ndarray"),
                ignore = "needs `--features ndarray`; .ci/run runs it with --include-ignored"
            )]
            fn ndarray() {
                let $backend: &str = "ndarray";
                $body
            }
        }
    };
}
