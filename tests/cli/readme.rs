//! README.md's examples, run: every ```text block with `$ command` lines is replayed in order
//! in one scratch folder holding a copy of `configs/`, and what each command prints (stdout,
//! then stderr) must be what README shows under it. So the examples cannot drift from the
//! program.
//!
//! Commands run through `sh -c`, with `squiggle` (and `cargo run --release --`) meaning this
//! build's binary. In the expected text a line `…` stands for any number of lines, a `…`
//! inside a line for any text, and the throughput figure before ` rows/s` is not compared
//! (it is a measurement). A block whose fence follows the comment
//! `<!-- readme: not run … -->` is shown but not run (the comment says why). Files the
//! commands draw under `docs/` must be the ones the repository ships, byte for byte.

use std::path::Path;
use std::process::Command;

use crate::util::*;

/// One `$ command` line of README and the lines printed under it.
struct Example {
    /// README's line number of the command, for messages.
    line: usize,
    command: String,
    expected: Vec<String>,
}

/// The examples of every ```text block that is not marked `not run`, in order.
fn examples(readme: &str) -> Vec<Example> {
    let mut examples = Vec::new();
    let lines: Vec<&str> = readme.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        if lines[i] != "```text" {
            i += 1;
            continue;
        }
        let skipped = i > 0 && lines[i - 1].starts_with("<!-- readme: not run");
        let start = i + 1;
        let end = start
            + lines[start..]
                .iter()
                .position(|l| *l == "```")
                .expect("every ```text block is closed");
        if !skipped {
            for (k, line) in lines[start..end].iter().enumerate() {
                if let Some(command) = line.strip_prefix("$ ") {
                    examples.push(Example {
                        line: start + k + 1,
                        command: command.to_string(),
                        expected: Vec::new(),
                    });
                } else if let Some(example) = examples.last_mut().filter(|e| e.line > start) {
                    example.expected.push(line.to_string());
                }
            }
        }
        i = end + 1;
    }
    examples
}

/// `x` with the number before each ` rows/s` replaced by `N`.
fn without_throughput(x: &str) -> String {
    let mut out = String::new();
    let mut rest = x;
    while let Some(at) = rest.find(" rows/s") {
        let number_start = rest[..at].rfind(' ').map_or(0, |space| space + 1);
        out.push_str(&rest[..number_start]);
        out.push('N');
        out.push_str(" rows/s");
        rest = &rest[at + " rows/s".len()..];
    }
    out + rest
}

/// Whether `line` matches `pattern`, where `…` in the pattern stands for any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split('…').collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || !line[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Whether `lines` match `patterns`, where a pattern line `…` stands for any number of lines.
fn lines_match(patterns: &[String], lines: &[String]) -> bool {
    match patterns.split_first() {
        None => lines.is_empty(),
        Some((p, rest)) if p == "…" => (0..=lines.len()).any(|k| lines_match(rest, &lines[k..])),
        Some((p, rest)) => {
            lines.first().is_some_and(|l| line_matches(p, l)) && lines_match(rest, &lines[1..])
        }
    }
}

/// Runs `command` with `sh -c` in `dir`, `squiggle` on the PATH from `bin`.
fn run(command: &str, dir: &Path, bin: &Path) -> (i32, String) {
    let command = command.replace("cargo run --release --", "squiggle");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(&command)
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1");
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("SQUIGGLE_") || key.starts_with("BURN_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd.output().expect("sh should start");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// Every file under `dir` (none when it does not exist).
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn every_readme_example_prints_what_readme_shows() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() > 20, "README's examples were not found");
    let dir = scratch();
    copy_dir(&root().join("configs"), &dir.path().join("configs"));
    let bin = scratch();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_squiggle"), bin.path().join("squiggle"))
        .unwrap();
    let mut failures = Vec::new();
    for example in &examples {
        let (status, printed) = run(&example.command, dir.path(), bin.path());
        let got: Vec<String> = printed
            .lines()
            .map(|l| without_throughput(l.trim_end()))
            .collect();
        let want: Vec<String> = example
            .expected
            .iter()
            .map(|l| without_throughput(l.trim_end()))
            .collect();
        if !lines_match(&want, &got) {
            failures.push(format!(
                "README.md:{}: $ {}\n(exit {status}) printed:\n{}\nREADME shows:\n{}\n",
                example.line,
                example.command,
                printed.trim_end(),
                example.expected.join("\n")
            ));
        }
    }
    // The pictures README shows are the ones its commands draw.
    let drawn = dir.path().join("docs");
    for file in files_under(&drawn) {
        let relative = file.strip_prefix(dir.path()).unwrap();
        let shipped = std::fs::read(root().join(relative)).unwrap_or_default();
        if std::fs::read(&file).unwrap() != shipped {
            failures.push(format!(
                "{} is not what README's command draws; redraw it with that command",
                relative.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} README examples differ:\n\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n")
    );
}

#[test]
fn the_matcher_elides_lines_and_text() {
    let p = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    assert!(lines_match(&p(&["a", "…", "d"]), &p(&["a", "b", "c", "d"])));
    assert!(lines_match(&p(&["a", "…", "b"]), &p(&["a", "b"])));
    assert!(!lines_match(&p(&["a", "…", "d"]), &p(&["a", "b", "c"])));
    assert!(!lines_match(&p(&["a"]), &p(&["a", "b"])));
    assert!(line_matches("x … z", "x y y z"));
    assert!(!line_matches("x … z", "x y y"));
    assert_eq!(
        without_throughput("epoch 1  R² 0.5  125.0k rows/s  *"),
        "epoch 1  R² 0.5  N rows/s  *"
    );
}
