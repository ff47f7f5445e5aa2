//! Reading a data set from a CSV file with a header row.
//!
//! Every problem is reported as `file:line: column `name`: reason` (or `file:line: reason`
//! when no single column is at fault), with 1-based line numbers as an editor shows them.

use std::path::Path;

use crate::{CsvError, CsvProblem, Dataset};

/// Which columns are inputs and which are targets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Columns {
    /// Input columns by header name; `None`: every column but the last.
    pub inputs: Option<Vec<String>>,
    /// Target columns by header name; `None`: the last column.
    pub targets: Option<Vec<String>>,
    /// For classification: the one target column holds class labels (names or integers).
    pub labels: Option<Labels>,
}

/// Which classes a classification file's labels may name.
#[derive(Clone, Debug, PartialEq)]
pub enum Labels {
    /// The file's own distinct labels, sorted (numerically when every label is an integer),
    /// so the same data gives the same output order whatever its row order.
    Found,
    /// These classes in this order; any other label is an error naming the line.
    Known {
        /// The class names.
        names: Vec<String>,
        /// Whose classes they are, for the message (`label … is not one of the {from} classes`):
        /// `[data]`, `training data's`, `run's`.
        from: &'static str,
    },
}

/// Reads `path`: a header row naming the columns, then one row per data point.
///
/// Only the chosen columns are kept, as f32, row by row (the file is streamed, never held
/// whole in memory; the value vectors are sized once from a first pass counting lines).
///
/// # Errors
/// A [`CsvError`] naming the line and column: a missing or unreadable file, no header, an
/// unknown column, a cell that is not a finite number, a row with the wrong number of
/// fields, or no data rows.
pub fn read_csv(path: &Path, columns: &Columns) -> Result<Dataset, CsvError> {
    read(path, columns, false)
}

/// Reads only the named input columns of `path` (for predictions: no targets needed), with
/// the same checks and messages as [`read_csv`]. The result has no output columns.
///
/// # Errors
/// As [`read_csv`].
pub fn read_inputs(path: &Path, inputs: &[String]) -> Result<Dataset, CsvError> {
    let columns = Columns {
        inputs: Some(inputs.to_vec()),
        targets: Some(Vec::new()),
        labels: None,
    };
    read(path, &columns, true)
}

/// The longest line a data file may have: far beyond any row of numbers, small enough that a
/// file that is not CSV is refused before it fills memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Opens `path` for reading data: a regular file (links followed), never a device, FIFO or
/// folder.
fn open_data(path: &Path) -> Result<std::fs::File, CsvProblem> {
    let unreadable = |e: std::io::Error| CsvProblem::Unreadable(e.to_string());
    if !std::fs::metadata(path).map_err(unreadable)?.is_file() {
        return Err(CsvProblem::NotAFile);
    }
    std::fs::File::open(path).map_err(unreadable)
}

/// Reads through `inner`, failing once a line grows past [`MAX_LINE_BYTES`].
struct LineLimit<R> {
    inner: R,
    /// Bytes of the current line so far.
    line: usize,
    /// Lines ended so far (the current line is this plus one).
    ended: u64,
}

impl<R: std::io::Read> std::io::Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.line = 0;
                self.ended += 1;
                continue;
            }
            self.line += 1;
            if self.line > MAX_LINE_BYTES {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    LINE_TOO_LONG,
                ));
            }
        }
        Ok(n)
    }
}

/// How [`LineLimit`]'s error is told apart from others once the CSV reader has wrapped it.
const LINE_TOO_LONG: &str = "line too long";

/// Whether a CSV reader's error is [`LineLimit`]'s.
fn is_line_too_long(e: &csv::Error) -> bool {
    matches!(e.kind(), csv::ErrorKind::Io(io) if io.to_string() == LINE_TOO_LONG)
}

fn read(path: &Path, columns: &Columns, inputs_only: bool) -> Result<Dataset, CsvError> {
    let error = |line: Option<u64>, column: Option<&str>, problem: CsvProblem| CsvError {
        path: path.to_path_buf(),
        line,
        column: column.map(str::to_string),
        problem,
    };
    let header_error = |problem| error(Some(1), None, problem);
    let file = open_data(path).map_err(|p| error(None, None, p))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(LineLimit {
            inner: std::io::BufReader::new(file),
            line: 0,
            ended: 0,
        });
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| match is_line_too_long(&e) {
            true => header_error(CsvProblem::LineTooLong),
            false => header_error(CsvProblem::BadHeader(e.to_string())),
        })?
        .iter()
        .map(str::to_string)
        .collect();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(header_error(CsvProblem::NoHeader));
    }
    if header.iter().all(|h| h.parse::<f64>().is_ok()) {
        return Err(header_error(CsvProblem::NumericHeader));
    }
    let find = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            let columns = header.clone();
            error(Some(1), Some(name), CsvProblem::UnknownColumn { columns })
        })
    };
    let last = header.len() - 1;
    let targets: Vec<usize> = match &columns.targets {
        Some(names) => names.iter().map(|n| find(n)).collect::<Result<_, _>>()?,
        None => vec![last],
    };
    let inputs: Vec<usize> = match &columns.inputs {
        Some(names) => names.iter().map(|n| find(n)).collect::<Result<_, _>>()?,
        None => (0..header.len()).filter(|i| !targets.contains(i)).collect(),
    };
    let column = |problem, i: usize| error(Some(1), Some(&header[i]), problem);
    let chosen = || inputs.iter().chain(&targets).copied();
    // A chosen column whose name is in the header twice: which one was meant?
    if let Some(i) = chosen().find(|&i| header.iter().filter(|h| **h == header[i]).count() > 1) {
        return Err(column(CsvProblem::DuplicateHeader, i));
    }
    for list in [&inputs, &targets] {
        if let Some(k) = (1..list.len()).find(|&k| list[..k].contains(&list[k])) {
            return Err(column(CsvProblem::ChosenTwice, list[k]));
        }
    }
    if let Some(&i) = inputs.iter().find(|i| targets.contains(i)) {
        return Err(column(CsvProblem::InputAndTarget, i));
    }
    if targets.is_empty() && !inputs_only {
        return Err(header_error(CsvProblem::NoTargets));
    }
    if inputs.is_empty() {
        return Err(header_error(CsvProblem::NoInputs));
    }
    if columns.labels.is_some() && targets.len() != 1 {
        return Err(header_error(CsvProblem::LabelColumns {
            got: targets.len(),
        }));
    }
    let mut classes = ClassReader::new(columns.labels.as_ref());
    // Reserve the exact size up front (one newline per row is an upper bound) so that
    // growing the vectors never holds two copies of a large file's values at once.
    let rows =
        count_lines(path).map_err(|e| error(None, None, CsvProblem::Unreadable(e.to_string())))?;
    // Reserved fallibly: a file larger than the memory the process may take is refused with
    // its size, never an abort.
    let reserve = |values: usize| {
        let mut v: Vec<f32> = Vec::new();
        v.try_reserve_exact(values).map(|()| v).map_err(|_| {
            let bytes = (rows as f64) * ((inputs.len() + targets.len()) * 4) as f64;
            error(None, None, CsvProblem::OutOfMemory { rows, bytes })
        })
    };
    let mut x = reserve(rows.saturating_mul(inputs.len()))?;
    let mut y = reserve(rows.saturating_mul(targets.len()))?;
    let mut record = csv::StringRecord::new();
    loop {
        let more = match reader.read_record(&mut record) {
            Ok(more) => more,
            Err(e) if is_line_too_long(&e) => {
                let line = reader.get_ref().ended + 1;
                return Err(error(Some(line), None, CsvProblem::LineTooLong));
            }
            Err(e) => {
                let line = e.position().map(csv::Position::line);
                return Err(error(line, None, CsvProblem::BadRow(e.to_string())));
            }
        };
        if !more {
            break;
        }
        let line = record.position().map(csv::Position::line);
        if record.len() != header.len() {
            let (got, header) = (record.len(), header.len());
            return Err(error(line, None, CsvProblem::Fields { got, header }));
        }
        if let Some(reader) = &mut classes {
            let i = targets[0];
            reader
                .add(&record[i])
                .map_err(|problem| error(line, Some(&header[i]), problem))?;
        }
        let numeric: &[usize] = if classes.is_some() { &[] } else { &targets };
        for (cols, out) in [(&inputs[..], &mut x), (numeric, &mut y)] {
            for &i in cols {
                let at = |problem| error(line, Some(&header[i]), problem);
                let cell = &record[i];
                let value: f64 = cell.parse().map_err(|_| {
                    at(CsvProblem::NotANumber {
                        cell: cell.to_string(),
                    })
                })?;
                let spelled = cell.to_ascii_lowercase();
                if value.is_nan() || spelled.contains("inf") {
                    return Err(at(CsvProblem::NonFinite { value }));
                }
                let stored = value as f32;
                if !stored.is_finite() {
                    return Err(at(CsvProblem::TooLarge {
                        cell: cell.to_string(),
                    }));
                }
                out.push(stored);
            }
        }
    }
    if x.is_empty() {
        return Err(error(Some(2), None, CsvProblem::NoRows));
    }
    let names = |cols: &[usize]| cols.iter().map(|&i| header[i].clone()).collect();
    if let Some(reader) = classes {
        let column = header[targets[0]].clone();
        let (names_of, labels) = reader
            .finish()
            .map_err(|problem| error(Some(1), Some(&column), problem))?;
        let classes = crate::Classes {
            column,
            names: names_of,
        };
        return Ok(Dataset::from_labels(x, &labels, names(&inputs), classes));
    }
    Ok(Dataset::from_columns(x, y, inputs.len(), targets.len())
        .with_names(names(&inputs), names(&targets)))
}

/// The most classes a label column may have: more than any class column of a data set
/// squiggle trains on, and a bound on the one-hot targets (4 bytes × rows × classes) when a
/// column of numbers is read as labels by mistake.
pub const MAX_CLASSES: usize = 1000;

/// Class labels as they are read, one index per row.
struct ClassReader<'a> {
    known: Option<(&'a [String], &'static str)>,
    /// The classes in the order they were first seen (all of them when `known`).
    names: Vec<String>,
    index: std::collections::HashMap<String, u32>,
    labels: Vec<u32>,
}

impl<'a> ClassReader<'a> {
    fn new(labels: Option<&'a Labels>) -> Option<Self> {
        let known = match labels? {
            Labels::Found => None,
            Labels::Known { names, from } => Some((names.as_slice(), *from)),
        };
        let names: Vec<String> = known.map_or_else(Vec::new, |(n, _)| n.to_vec());
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect();
        Some(Self {
            known,
            names,
            index,
            labels: Vec::new(),
        })
    }

    fn add(&mut self, cell: &str) -> Result<(), CsvProblem> {
        if let Some(&i) = self.index.get(cell) {
            self.labels.push(i);
            return Ok(());
        }
        if let Some((names, from)) = self.known {
            return Err(CsvProblem::UnknownLabel(Box::new(crate::UnknownLabel {
                label: cell.to_string(),
                which: from,
                known: names.to_vec(),
            })));
        }
        if cell.is_empty() {
            return Err(CsvProblem::EmptyLabel);
        }
        if self.names.len() >= MAX_CLASSES {
            return Err(CsvProblem::TooManyClasses { max: MAX_CLASSES });
        }
        let i = self.names.len() as u32;
        self.names.push(cell.to_string());
        self.index.insert(cell.to_string(), i);
        self.labels.push(i);
        Ok(())
    }

    /// The class names in output order and each row's class.
    fn finish(self) -> Result<(Vec<String>, Vec<u32>), CsvProblem> {
        if self.known.is_some() {
            return Ok((self.names, self.labels));
        }
        if self.names.len() < 2 {
            return Err(CsvProblem::OneClass { found: self.names });
        }
        let mut order: Vec<usize> = (0..self.names.len()).collect();
        let integers: Option<Vec<i64>> = self.names.iter().map(|n| n.parse().ok()).collect();
        match integers {
            Some(values) => order.sort_by_key(|&i| values[i]),
            None => order.sort_by(|&a, &b| self.names[a].cmp(&self.names[b])),
        }
        let mut rank = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            rank[old] = new as u32;
        }
        let names = order.iter().map(|&i| self.names[i].clone()).collect();
        let labels = self.labels.iter().map(|&l| rank[l as usize]).collect();
        Ok((names, labels))
    }
}

/// The number of newline bytes in `path` (plus one for an unterminated last line).
fn count_lines(path: &Path) -> std::io::Result<usize> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0u8; 1 << 16];
    let (mut lines, mut last) = (0, b'\n');
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        lines += buffer[..n].iter().filter(|&&b| b == b'\n').count();
        last = buffer[n - 1];
    }
    Ok(lines + usize::from(last != b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mutated CSV files get a data set or a one-line error, never a panic or a hang (a
    /// bounded pass here; `SQUIGGLE_FUZZ_SECONDS=600` for a long one).
    #[test]
    fn fuzzed_csv_files_give_an_answer() {
        let seeds: Vec<Vec<u8>> = [
            "dosage,efficacy\n0,0\n0.5,1\n1,0\n",
            "a,b,c,target\n1,2,3,4\n-1.5e3,2,\"3\",4\n0.1,0.2,0.3,0.4\n",
            "\"x\",y\r\n1,2\r\n3,4\r\n",
            "p,s,species\n0.2,3.5,setosa\n1.3,2.3,versicolor\n2.5,3.3,virginica\n",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        let budget = crate::fuzz::Budget::from_env(400);
        let ran = crate::fuzz::run(&seeds, budget, |input| {
            std::fs::write(&path, input).unwrap();
            if let Ok(data) = read_csv(&path, &Columns::default()) {
                assert!(data.input_values().iter().all(|v| v.is_finite()));
            }
            // The same file read as class labels: every row one-hot, or a one-line error.
            let labels = Columns {
                labels: Some(Labels::Found),
                ..Columns::default()
            };
            if let Ok(data) = read_csv(&path, &labels) {
                let classes = data.classes().expect("labels give classes").names.len();
                assert!(classes >= 2);
                for row in data.output_values().chunks(classes) {
                    assert_eq!(row.iter().sum::<f32>(), 1.0);
                }
            }
            let _ = read_inputs(&path, &["x".to_string()]);
        });
        eprintln!("csv: {ran} fuzzed files");
        assert!(ran >= 400);
    }

    fn read(text: &str, columns: &Columns) -> Result<Dataset, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, text).unwrap();
        read_csv(&path, columns).map_err(|e| {
            e.to_string()
                .replace(&format!("{}", path.display()), "d.csv")
        })
    }

    #[test]
    fn default_columns_are_all_inputs_then_the_last_target() {
        let data = read("a,b,y\n1,2,3\n4,5,6\n", &Columns::default()).unwrap();
        assert_eq!((data.inputs(), data.outputs(), data.len()), (2, 1, 2));
        assert_eq!(data.input_row(1), [4.0, 5.0]);
        assert_eq!(data.observed(), [3.0, 6.0]);
    }

    #[test]
    fn named_columns_pick_and_order() {
        let columns = Columns {
            inputs: Some(vec!["c".into(), "a".into()]),
            targets: Some(vec!["b".into()]),
            labels: None,
        };
        let data = read("a,b,c\n1,2,3\n", &columns).unwrap();
        assert_eq!(data.input_row(0), [3.0, 1.0]);
        assert_eq!(data.observed(), [2.0]);
        assert_eq!(data.input_names(), ["c", "a"]);
        assert_eq!(data.output_names(), ["b"]);
    }

    #[test]
    fn bad_files_name_the_line_and_column() {
        let d = Columns::default();
        assert_eq!(
            read("dosage,efficacy\n0,1\n0.5,x\n", &d).unwrap_err(),
            "d.csv:3: column `efficacy`: `x` is not a number"
        );
        assert_eq!(
            read("dosage,efficacy\n0,1\n,1\n", &d).unwrap_err(),
            "d.csv:3: column `dosage`: an empty cell is not a number"
        );
        assert_eq!(
            read("dosage,efficacy\n0,NaN\n", &d).unwrap_err(),
            "d.csv:2: column `efficacy`: NaN is not allowed; values must be finite"
        );
        assert_eq!(
            read("dosage,efficacy\n0,1e39\n", &d).unwrap_err(),
            "d.csv:2: column `efficacy`: `1e39` is too large for f32 (|x| < 3.4e38)"
        );
        assert_eq!(
            read("dosage,efficacy\n0,1\n0.5\n", &d).unwrap_err(),
            "d.csv:3: the row has 1 fields; the header has 2"
        );
        assert_eq!(
            read("dosage,efficacy\n", &d).unwrap_err(),
            "d.csv:2: no data rows after the header"
        );
        assert_eq!(
            read("", &d).unwrap_err(),
            "d.csv:1: missing header row naming the columns"
        );
        assert_eq!(
            read("0,1\n1,2\n", &d).unwrap_err(),
            "d.csv:1: missing header row: the first row holds numbers, not column names"
        );
        let columns = Columns {
            inputs: Some(vec!["dose".into()]),
            targets: None,
            labels: None,
        };
        assert_eq!(
            read("dosage,efficacy\n0,1\n", &columns).unwrap_err(),
            "d.csv:1: column `dose`: not in the header (columns: dosage, efficacy)"
        );
        let none = Columns {
            inputs: None,
            targets: Some(vec![]),
            labels: None,
        };
        assert_eq!(
            read("a,b\n1,2\n", &none).unwrap_err(),
            "d.csv:1: no target columns chosen"
        );
        let missing = read_csv(Path::new("no/such.csv"), &d)
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("no/such.csv: cannot read the file: "),
            "{missing}"
        );
    }

    #[test]
    fn labels_become_one_hot_classes_in_sorted_order() {
        let found = Columns {
            labels: Some(Labels::Found),
            ..Columns::default()
        };
        let data = read(
            "p,s,species\n1,2,virginica\n3,4,setosa\n5,6,virginica\n7,8,versicolor\n",
            &found,
        )
        .unwrap();
        let classes = data.classes().unwrap();
        assert_eq!(classes.names, ["setosa", "versicolor", "virginica"]);
        assert_eq!(classes.column, "species");
        assert_eq!(data.output_names(), classes.names);
        assert_eq!(data.outputs(), 3);
        assert_eq!(data.output_row(0), [0.0, 0.0, 1.0]);
        assert_eq!(data.output_row(1), [1.0, 0.0, 0.0]);
        assert_eq!(
            (0..4).map(|i| data.label(i)).collect::<Vec<_>>(),
            [2, 0, 2, 1]
        );
        // Integers sort as numbers, not as text.
        let numbers = read("a,c\n1,10\n2,9\n3,10\n", &found).unwrap();
        assert_eq!(numbers.classes().unwrap().names, ["9", "10"]);
        let fixed = Columns {
            labels: Some(Labels::Known {
                names: vec!["b".into(), "a".into()],
                from: "[data]",
            }),
            ..Columns::default()
        };
        let data = read("x,y\n1,a\n2,b\n", &fixed).unwrap();
        assert_eq!(data.output_row(0), [0.0, 1.0]);
        assert_eq!(
            read("x,y\n1,a\n2,c\n", &fixed).unwrap_err(),
            "d.csv:3: column `y`: label `c` is not one of the [data] classes (b, a)"
        );
        assert_eq!(
            read("x,y\n1,a\n2,\n", &found).unwrap_err(),
            "d.csv:3: column `y`: an empty cell is not a class label"
        );
        assert_eq!(
            read("x,y\n1,a\n2,a\n", &found).unwrap_err(),
            "d.csv:1: column `y`: classification needs at least two classes; the labels have only `a`"
        );
        let two = Columns {
            targets: Some(vec!["y".into(), "z".into()]),
            labels: Some(Labels::Found),
            ..Columns::default()
        };
        assert_eq!(
            read("x,y,z\n1,a,b\n", &two).unwrap_err(),
            "d.csv:1: classification reads its labels from one target column; 2 are chosen"
        );
        let many: String = (0..=MAX_CLASSES).map(|i| format!("{i},{i}.5\n")).collect();
        assert_eq!(
            read(&format!("x,y\n{many}"), &found).unwrap_err(),
            format!(
                "d.csv:{}: column `y`: more than 1000 distinct labels; a classifier takes at most 1000 classes (is this column of numbers a class column?)",
                MAX_CLASSES + 2
            )
        );
        assert_eq!(
            read("x,y\n1,a\n2,2\n", &fixed).unwrap_err(),
            "d.csv:3: column `y`: label `2` is not one of the [data] classes (b, a)"
        );
    }
}
