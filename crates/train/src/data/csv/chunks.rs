//! The file's rows, parsed in parallel: the text is read in blocks that end at a record's
//! end, each block is cut into one piece per compute thread (again at records' ends), and the
//! pieces are parsed at once into their own values, then appended in file order. The next
//! block is read while the current one is parsed, so that reading (or decompressing) and
//! parsing overlap.

use std::io::Read;

use rayon::prelude::*;

use super::MAX_LINE_BYTES;
use super::error::CsvProblem;
use super::labels::{ClassBuilder, Kind, Known, PieceLabels};
use super::records::{BadCell, Ends, Role, is_missing, number, plain_values, split, split_plain};
use crate::foreign::Foreign;

/// Text per piece: large enough that starting a piece costs nothing against parsing it,
/// small enough that the blocks in flight (and the memory they leave to the allocator) stay
/// about a megabyte per thread.
static PIECE_BYTES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(256 << 10);

/// The most rows a data set may have: training names its rows by `u32` index (4 bytes a row
/// for a split or a shuffle), so more would wrap.
pub(super) const MAX_ROWS: u64 = u32::MAX as u64;

/// Pieces per compute thread in a block: a thread that finishes early takes another piece.
const PIECES_PER_THREAD: usize = 4;

/// Small pieces, so that the tests' small files cross many blocks and pieces (the rows read
/// are the same whatever the size).
#[cfg(test)]
pub(super) fn use_small_pieces() {
    PIECE_BYTES.store(1 << 10, std::sync::atomic::Ordering::Relaxed);
}

/// Which fields of a record go where.
pub(super) struct Layout<'a> {
    pub(super) delimiter: u8,
    /// Fields in the header (every record must have as many).
    pub(super) fields: usize,
    pub(super) inputs: &'a [usize],
    /// Numeric targets (none for classification).
    pub(super) targets: &'a [usize],
    /// The class label's field, for classification.
    pub(super) label: Option<usize>,
    pub(super) known: Option<&'a Known<'a>>,
    /// Each field's role, for reading plain records in one pass.
    pub(super) roles: Vec<Role>,
    /// A missing input is kept as NaN, to be filled once the file is read (`missing =
    /// "mean"`), rather than leaving its row out.
    pub(super) fill_inputs: bool,
    /// The categorical inputs: each one's field and, when a run fixed them, its categories.
    /// Their values in `x` are placeholders until the categories are known.
    pub(super) categories: Vec<(usize, Option<&'a Known<'a>>)>,
}

impl<'a> Layout<'a> {
    /// The layout of records of `fields` fields.
    pub(super) fn new(
        delimiter: u8,
        fields: usize,
        inputs: &'a [usize],
        targets: &'a [usize],
        label: Option<usize>,
        known: Option<&'a Known<'a>>,
    ) -> Self {
        let mut roles = vec![Role::Skip; fields];
        for (slot, &i) in inputs.iter().chain(targets).enumerate() {
            roles[i] = Role::Value(slot);
        }
        if let Some(i) = label {
            roles[i] = Role::Label;
        }
        Self {
            delimiter,
            fields,
            inputs,
            targets,
            label,
            known,
            roles,
            fill_inputs: false,
            categories: Vec::new(),
        }
    }
}

/// A problem at a line (1-based, as an editor shows it; 0 for none) and maybe a column (its
/// field).
#[derive(Debug)]
pub(super) struct Fault {
    pub(super) line: u64,
    pub(super) column: Option<usize>,
    pub(super) problem: CsvProblem,
}

/// Where the parsed rows go.
#[derive(Default)]
pub(super) struct Sink {
    pub(super) x: Vec<f32>,
    pub(super) y: Vec<f32>,
    pub(super) classes: Option<ClassBuilder>,
    /// Each categorical input's categories and rows' category.
    pub(super) categories: Vec<ClassBuilder>,
    pub(super) rows: u64,
    /// Rows left out for a missing value.
    pub(super) missing_rows: u64,
    /// The first missing value: its line, field and text.
    pub(super) first_missing: Option<(u64, usize, String)>,
    /// Missing inputs kept as NaN, to be filled.
    pub(super) filled: u64,
    /// The memory the rows may take, and what one row takes.
    pub(super) limit: Option<(u64, u64)>,
}

impl Sink {
    /// Appends a piece that starts on `line`, or returns its first problem (a label beyond
    /// the classes' limit comes first when it is met earlier).
    fn absorb(&mut self, piece: &mut Piece, line: u64, layout: &Layout) -> Result<(), Fault> {
        if let Some(classes) = &mut self.classes {
            if classes.try_reserve(piece.labels.ids.len()).is_err() {
                return Err(self.out_of_memory(line));
            }
            classes
                .merge(std::mem::take(&mut piece.labels))
                .map_err(|(at, problem)| Fault {
                    line: line + at,
                    column: layout.label,
                    problem,
                })?;
        }
        for ((builder, ids), &(field, _)) in self
            .categories
            .iter_mut()
            .zip(&mut piece.categories)
            .zip(&layout.categories)
        {
            if builder.try_reserve(ids.ids.len()).is_err() {
                return Err(self.out_of_memory(line));
            }
            builder
                .merge(std::mem::take(ids))
                .map_err(|(at, problem)| Fault {
                    line: line + at,
                    column: Some(field),
                    problem,
                })?;
        }
        self.missing_rows += piece.missing_rows;
        self.filled += piece.filled;
        if self.first_missing.is_none()
            && let Some((at, column, cell)) = piece.first_missing.take()
        {
            self.first_missing = Some((line + at, column, cell));
        }
        if let Some((at, column, problem)) = piece.fault.take() {
            return Err(Fault {
                line: line + at,
                column,
                problem,
            });
        }
        if self.x.try_reserve(piece.x.len()).is_err() || self.y.try_reserve(piece.y.len()).is_err()
        {
            return Err(self.out_of_memory(line));
        }
        if let Some((limit, per_row)) = self.limit
            && (self.rows + piece.rows).saturating_mul(per_row) > limit
        {
            // Named by the first row that does not fit (whatever the pieces), at no line.
            let rows = limit / per_row.max(1) + 1;
            return Err(Fault {
                line: 0,
                column: None,
                problem: CsvProblem::OverLimit {
                    counted: false,
                    rows,
                    bytes: rows as f64 * per_row as f64,
                    limit,
                },
            });
        }
        if self.rows + piece.rows > MAX_ROWS {
            return Err(Fault {
                line,
                column: None,
                problem: CsvProblem::TooManyRows { max: MAX_ROWS },
            });
        }
        self.x.extend_from_slice(&piece.x);
        self.y.extend_from_slice(&piece.y);
        self.rows += piece.rows;
        Ok(())
    }

    /// Appends the pieces of a block that starts on `line`, in order; the line after them.
    fn absorb_all(
        &mut self,
        pieces: &mut [Piece],
        mut line: u64,
        layout: &Layout,
    ) -> Result<u64, Fault> {
        for piece in pieces {
            self.absorb(piece, line, layout)?;
            line += piece.lines;
        }
        Ok(line)
    }

    /// The values read so far fill the memory this process may take.
    fn out_of_memory(&self, line: u64) -> Fault {
        let bytes = ((self.x.len() + self.y.len()) * 4) as f64;
        Fault {
            line,
            column: None,
            problem: CsvProblem::MemoryFull {
                rows: self.rows,
                bytes,
            },
        }
    }
}

/// One piece's rows (kept from block to block, so that their buffers are allocated once).
#[derive(Default)]
struct Piece {
    x: Vec<f32>,
    y: Vec<f32>,
    labels: PieceLabels,
    /// Each categorical input's rows.
    categories: Vec<PieceLabels>,
    rows: u64,
    /// Newlines in the piece's text.
    lines: u64,
    /// The first problem, with its line counted from the piece's start (0: its first line).
    fault: Option<(u64, Option<usize>, CsvProblem)>,
    /// Rows left out for a missing value.
    missing_rows: u64,
    /// The first missing value: its line (from the piece's start), field and text.
    first_missing: Option<(u64, usize, String)>,
    /// Missing inputs kept as NaN, to be filled.
    filled: u64,
}

/// Parses the records of `text` (which starts at a record's start) into `piece`.
fn parse_piece(text: &[u8], layout: &Layout, piece: &mut Piece) {
    piece.x.clear();
    piece.y.clear();
    piece.labels = PieceLabels::default();
    piece.categories = layout
        .categories
        .iter()
        .map(|_| PieceLabels::default())
        .collect();
    piece.rows = 0;
    piece.lines = 0;
    piece.fault = None;
    piece.missing_rows = 0;
    piece.first_missing = None;
    piece.filled = 0;
    let mut ends = Ends::new(text);
    let quoted = memchr::memchr(b'"', text).is_some();
    let mut fields = Vec::with_capacity(layout.fields);
    let mut cells: Vec<&[u8]> = Vec::with_capacity(layout.fields);
    let roles = &layout.roles;
    let mut values = vec![0.0; layout.inputs.len() + layout.targets.len()];
    let mut label: &[u8] = &[];
    let mut start = 0;
    while start < text.len() {
        let line = piece.lines;
        // Text without quotes (almost every file of numbers): each record read in one pass,
        // its end found on the way.
        if !quoted
            && layout.categories.is_empty()
            && let Some((used, newline)) = plain_values(
                &text[start..],
                layout.delimiter,
                roles,
                &mut values,
                &mut label,
            )
            && used <= MAX_LINE_BYTES
        {
            piece.lines += u64::from(newline);
            start += used;
            if let Err((column, problem)) = take_values(&values, label, line, layout, piece) {
                piece.fault = Some((line, column, problem));
                break;
            }
            continue;
        }
        let end = match quoted {
            true => ends.next().unwrap_or(text.len()),
            false => memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |k| start + k + 1),
        };
        let record = &text[start..end];
        piece.lines += match quoted {
            true => memchr::memchr_iter(b'\n', record).count() as u64,
            false => u64::from(record.last() == Some(&b'\n')),
        };
        start = end;
        if matches!(record, b"\n" | b"\r\n" | b"\r") {
            continue; // an empty line, skipped as every CSV reader does
        }
        let parsed = match quoted {
            false => {
                split_plain(record, layout.delimiter, &mut cells);
                parse_record(record, &cells, line, layout, piece)
            }
            true => {
                split(record, layout.delimiter, &mut fields);
                let unquoted: Vec<&[u8]> = fields.iter().map(|f| &f[..]).collect();
                parse_record(record, &unquoted, line, layout, piece)
            }
        };
        if let Err((column, problem)) = parsed {
            piece.fault = Some((line, column, problem));
            break;
        }
    }
}

/// Takes one record's values read by [`plain_values`].
fn take_values(
    values: &[f32],
    label: &[u8],
    line: u64,
    layout: &Layout,
    piece: &mut Piece,
) -> Result<(), (Option<usize>, CsvProblem)> {
    if let Some(i) = layout.label {
        if label.is_empty() {
            piece.missing(line, i, label);
            return Ok(());
        }
        piece
            .labels
            .add(label, line, layout.known, Kind::Class)
            .map_err(|problem| (Some(i), problem))?;
    }
    let (x, y) = values.split_at(layout.inputs.len());
    piece.x.extend_from_slice(x);
    piece.y.extend_from_slice(y);
    piece.rows += 1;
    Ok(())
}

impl Piece {
    /// Counts a row left out for the missing value in field `column` on `line`.
    fn missing(&mut self, line: u64, column: usize, cell: &[u8]) {
        self.missing_rows += 1;
        if self.first_missing.is_none() {
            let cell = String::from_utf8_lossy(cell).into_owned();
            self.first_missing = Some((line, column, cell));
        }
    }
}

/// Takes one record's values, split into `fields`.
fn parse_record(
    record: &[u8],
    fields: &[&[u8]],
    line: u64,
    layout: &Layout,
    piece: &mut Piece,
) -> Result<(), (Option<usize>, CsvProblem)> {
    if record.len() > MAX_LINE_BYTES {
        return Err((None, CsvProblem::LineTooLong));
    }
    if fields.len() != layout.fields {
        let (got, header) = (fields.len(), layout.fields);
        return Err((None, CsvProblem::Fields { got, header }));
    }
    // A missing value leaves the row out (counted, and an error unless missing = "drop"):
    // what was taken of it is taken back.
    let (x, y) = (piece.x.len(), piece.y.len());
    for (columns, numbers) in [(layout.inputs, true), (layout.targets, false)] {
        for &i in columns {
            let cell = fields[i];
            let categorical = numbers && layout.categories.iter().any(|&(f, _)| f == i);
            let value = match number(cell) {
                // A categorical input: a placeholder, its category taken below.
                _ if categorical && !is_missing(cell) => 0.0,
                _ if categorical => {
                    piece.x.truncate(x);
                    piece.missing(line, i, cell);
                    return Ok(());
                }
                Ok(value) => value,
                Err(_) if numbers && layout.fill_inputs && is_missing(cell) => {
                    piece.filled += 1;
                    f32::NAN
                }
                Err(_) if is_missing(cell) => {
                    piece.x.truncate(x);
                    piece.y.truncate(y);
                    piece.missing(line, i, cell);
                    return Ok(());
                }
                Err(bad) => {
                    let shown = String::from_utf8_lossy(cell).into_owned();
                    let problem = match bad {
                        BadCell::NotANumber => CsvProblem::NotANumber { cell: shown },
                        BadCell::NonFinite(value) => CsvProblem::NonFinite { value },
                        BadCell::TooLarge => CsvProblem::TooLarge { cell: shown },
                    };
                    return Err((Some(i), problem));
                }
            };
            match numbers {
                true => piece.x.push(value),
                false => piece.y.push(value),
            }
        }
    }
    if let Some(i) = layout.label
        && fields[i].is_empty()
    {
        piece.x.truncate(x);
        piece.missing(line, i, fields[i]);
        return Ok(());
    }
    for (ids, &(i, known)) in piece.categories.iter_mut().zip(&layout.categories) {
        ids.add(fields[i], line, known, Kind::Category)
            .map_err(|problem| (Some(i), problem))?;
    }
    if let Some(i) = layout.label {
        piece
            .labels
            .add(fields[i], line, layout.known, Kind::Class)
            .map_err(|problem| (Some(i), problem))?;
    }
    piece.rows += 1;
    Ok(())
}

/// The index just past the last complete record of `text`, if it has one.
pub(super) fn last_end(text: &[u8]) -> Option<usize> {
    if memchr::memchr(b'"', text).is_none() {
        return memchr::memrchr(b'\n', text).map(|k| k + 1);
    }
    Ends::new(text).last()
}

/// `text` (whole records) cut into about `n` pieces at records' ends.
fn pieces(text: &[u8], n: usize) -> Vec<&[u8]> {
    let mut ends = Ends::new(text);
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for k in 1..n {
        let target = (text.len() * k / n).max(start);
        if target >= text.len() {
            break;
        }
        let Some(end) = ends.next_after(target) else {
            break;
        };
        out.push(&text[start..end]);
        start = end;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Reads from `reader` until `buffer` holds at least `want` bytes or the input ends; true
/// at the end of the input.
pub(super) fn fill(
    reader: &mut (dyn Read + Send),
    buffer: &mut Vec<u8>,
    want: usize,
) -> Result<bool, CsvProblem> {
    let missing = want.saturating_sub(buffer.len());
    buffer
        .try_reserve(missing)
        .map_err(|e| CsvProblem::ReadBuffer(Foreign::new(e)))?;
    let got = reader
        .take(missing as u64)
        .read_to_end(buffer)
        .map_err(|e| CsvProblem::Unreadable {
            via: None,
            cause: Foreign::new(e),
        })?;
    Ok(got < missing)
}

/// Parses the rows that follow the header: `buffer` holds the text read so far past the
/// header, which ended on line `line - 1`. Returns the line after the last one read.
pub(super) fn parse_rows(
    reader: &mut (dyn Read + Send),
    mut buffer: Vec<u8>,
    mut line: u64,
    layout: &Layout,
    sink: &mut Sink,
) -> Result<u64, Fault> {
    let threads = rayon::current_num_threads().max(1);
    let block =
        PIECES_PER_THREAD * threads * PIECE_BYTES.load(std::sync::atomic::Ordering::Relaxed);
    let at = |line, problem| Fault {
        line,
        column: None,
        problem,
    };
    let mut eof = fill(reader, &mut buffer, block).map_err(|p| at(line, p))?;
    let mut spare = Vec::new();
    // Three blocks are in flight at once: the one parsed last is appended to the sink while
    // the current one is parsed and the next one read.
    let mut parsing: Vec<Piece> = Vec::new();
    let mut parsed: Vec<Piece> = Vec::new();
    let mut parsed_pieces = 0;
    while !buffer.is_empty() {
        let cut = match eof {
            true => buffer.len(),
            false => match last_end(&buffer) {
                Some(cut) => cut,
                // A record longer than any line may be.
                None if buffer.len() > MAX_LINE_BYTES => {
                    return Err(at(line, CsvProblem::LineTooLong));
                }
                None => {
                    let more = buffer.len() + block;
                    eof = fill(reader, &mut buffer, more).map_err(|p| at(line, p))?;
                    continue;
                }
            },
        };
        let (complete, rest) = buffer.split_at(cut);
        let parts = pieces(complete, PIECES_PER_THREAD * threads);
        if parsing.len() < parts.len() {
            parsing.resize_with(parts.len(), Piece::default);
        }
        let ((_, next), absorbed) = rayon::join(
            || {
                rayon::join(
                    || {
                        parts
                            .par_iter()
                            .zip(parsing.par_iter_mut())
                            .for_each(|(text, piece)| parse_piece(text, layout, piece));
                    },
                    || -> Result<bool, CsvProblem> {
                        spare.clear();
                        spare
                            .try_reserve(block)
                            .map_err(|e| CsvProblem::ReadBuffer(Foreign::new(e)))?;
                        spare.extend_from_slice(rest);
                        match eof {
                            true => Ok(true),
                            false => fill(reader, &mut spare, block),
                        }
                    },
                )
            },
            || sink.absorb_all(&mut parsed[..parsed_pieces], line, layout),
        );
        line = absorbed?;
        eof = next.map_err(|p| at(line, p))?;
        std::mem::swap(&mut parsed, &mut parsing);
        parsed_pieces = parts.len();
        std::mem::swap(&mut buffer, &mut spare);
    }
    sink.absorb_all(&mut parsed[..parsed_pieces], line, layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_beyond_what_training_can_index_are_refused_not_wrapped() {
        let (inputs, targets) = ([0], [1]);
        let layout = Layout::new(b',', 2, &inputs, &targets, None, None);
        let mut sink = Sink {
            rows: MAX_ROWS - 1,
            ..Sink::default()
        };
        let mut piece = Piece::default();
        parse_piece(b"1,2\n3,4\n", &layout, &mut piece);
        let fault = sink.absorb(&mut piece, 7, &layout).unwrap_err();
        assert_eq!((fault.line, fault.column), (7, None));
        assert_eq!(
            fault.problem.to_string(),
            "more than 4,294,967,295 rows; squiggle trains on at most that many"
        );
        parse_piece(b"1,2\n", &layout, &mut piece);
        sink.absorb(&mut piece, 7, &layout).unwrap();
        assert_eq!((sink.rows, sink.x.as_slice()), (MAX_ROWS, &[1.0][..]));
    }
}
