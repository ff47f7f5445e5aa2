//! Parquet files, read as the CSV text of the same table: a header of the column names, then
//! one line per row, rendered a few thousand rows at a time from every column's pages.
//!
//! Why text: everything a data file means to squiggle (chosen and excluded columns, missing
//! values and what to do with them, class labels, categories, memory limits, streaming by
//! windows, the messages that name a row and a column) is decided once, by the CSV reader, and
//! a Parquet file then means exactly what the same table written by `DataFrame.to_csv` means:
//! the tests train on both and get the same parameters. Numbers are written as the shortest
//! text that reads back to the same float, so nothing is lost on the way. Rows are numbered as
//! the lines of that CSV text (the header is line 1).
//!
//! Column types: floats and doubles; integers; decimals (written exactly, `123.45`); booleans
//! as 1 and 0; nulls as empty cells (missing values); strings as text (class labels,
//! categories); dates, times and timestamps as ISO text (`2024-03-01T12:00:00`), so that such a
//! column is never taken for a number (a message names it, and `exclude` leaves it out).
//! Nested columns (lists, maps, structs) are refused when the file is opened.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as Physical};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{ByteArray, DataType, FixedLenByteArray, Int96};
use parquet::errors::ParquetError;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescPtr;

use super::error::{CsvProblem, ReaderError};
use crate::foreign::Foreign;

/// Rows rendered at a time: a few hundred kB of text, whatever the row groups' size.
const BATCH: usize = 4096;

/// A Parquet file as CSV text.
pub(super) struct ParquetText {
    file: SerializedFileReader<File>,
    columns: Vec<Column>,
    delimiter: u8,
    /// The next row group.
    group: usize,
    /// Rows left in the row group being read.
    left: usize,
    readers: Vec<ColumnReader>,
    header: bool,
    /// Text rendered and not yet read, from `at`.
    text: Vec<u8>,
    at: usize,
}

/// What a column's values mean, and so how they are written.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Number,
    Boolean,
    /// An integer count of 10^-scale.
    Decimal(u32),
    Text,
    /// Days since 1970-01-01.
    Date,
    /// Since midnight, in units of 10^-digits s.
    Time(u32),
    /// Since 1970-01-01T00:00:00, in units of 10^-digits s.
    Timestamp(u32),
}

struct Column {
    desc: ColumnDescPtr,
    kind: Kind,
    /// The batch's cells, rendered end to end, and where each ends.
    cells: Vec<u8>,
    ends: Vec<usize>,
    levels: Vec<i16>,
}

/// Opens `path` as CSV text with `delimiter` between fields, and the number of rows it holds.
///
/// # Errors
/// [`CsvProblem::Unreadable`] for a file the Parquet reader refuses;
/// [`CsvProblem::NestedColumn`] for a list, map or struct column.
pub(super) fn open(path: &Path, delimiter: u8) -> Result<(ParquetText, u64), CsvProblem> {
    let file = File::open(path).map_err(|e| CsvProblem::Unreadable {
        via: None,
        cause: Foreign::new(e),
    })?;
    let file = SerializedFileReader::new(file).map_err(unreadable)?;
    let meta = file.metadata();
    let rows = u64::try_from(meta.file_metadata().num_rows()).unwrap_or(0);
    let schema = meta.file_metadata().schema_descr();
    let columns = schema
        .columns()
        .iter()
        .map(|desc| {
            if desc.max_rep_level() > 0 || desc.path().parts().len() > 1 {
                return Err(CsvProblem::NestedColumn {
                    column: desc.path().string(),
                });
            }
            Ok(Column {
                kind: kind(desc),
                desc: desc.clone(),
                cells: Vec::new(),
                ends: Vec::new(),
                levels: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let text = ParquetText {
        file,
        columns,
        delimiter,
        group: 0,
        left: 0,
        readers: Vec::new(),
        header: false,
        text: Vec::new(),
        at: 0,
    };
    Ok((text, rows))
}

fn unreadable(e: ParquetError) -> CsvProblem {
    CsvProblem::Unreadable {
        via: Some("parquet"),
        cause: Foreign::new(e),
    }
}

fn io(e: ParquetError) -> std::io::Error {
    std::io::Error::other(ReaderError::new("parquet", e))
}

/// How the column's values are written, from its logical type (or the older converted type).
fn kind(desc: &ColumnDescPtr) -> Kind {
    let digits = |unit: &TimeUnit| match unit {
        TimeUnit::MILLIS => 3,
        TimeUnit::MICROS => 6,
        TimeUnit::NANOS => 9,
    };
    match desc.logical_type_ref() {
        Some(LogicalType::Decimal(_)) => {
            return Kind::Decimal(desc.type_scale().max(0) as u32);
        }
        Some(LogicalType::Date) => return Kind::Date,
        Some(LogicalType::Time(t)) => return Kind::Time(digits(&t.unit)),
        Some(LogicalType::Timestamp(t)) => return Kind::Timestamp(digits(&t.unit)),
        Some(LogicalType::String | LogicalType::Enum | LogicalType::Json | LogicalType::Uuid) => {
            return Kind::Text;
        }
        _ => {}
    }
    match desc.converted_type() {
        ConvertedType::DECIMAL => return Kind::Decimal(desc.type_scale().max(0) as u32),
        ConvertedType::DATE => return Kind::Date,
        ConvertedType::TIME_MILLIS => return Kind::Time(3),
        ConvertedType::TIME_MICROS => return Kind::Time(6),
        ConvertedType::TIMESTAMP_MILLIS => return Kind::Timestamp(3),
        ConvertedType::TIMESTAMP_MICROS => return Kind::Timestamp(6),
        _ => {}
    }
    match desc.physical_type() {
        Physical::BOOLEAN => Kind::Boolean,
        Physical::INT96 => Kind::Timestamp(9),
        Physical::BYTE_ARRAY | Physical::FIXED_LEN_BYTE_ARRAY => Kind::Text,
        Physical::INT32 | Physical::INT64 | Physical::FLOAT | Physical::DOUBLE => Kind::Number,
    }
}

impl Read for ParquetText {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.text.len() {
            self.text.clear();
            self.at = 0;
            if !self.render()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.text.len() - self.at);
        buf[..n].copy_from_slice(&self.text[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl ParquetText {
    /// Renders the header, or the next batch of rows, into `text`; false at the end.
    fn render(&mut self) -> std::io::Result<bool> {
        if !self.header {
            self.header = true;
            let names: Vec<Vec<u8>> = self
                .columns
                .iter()
                .map(|c| c.desc.name().as_bytes().to_vec())
                .collect();
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    self.text.push(self.delimiter);
                }
                quoted(&mut self.text, name, self.delimiter);
            }
            self.text.push(b'\n');
            return Ok(true);
        }
        while self.left == 0 {
            if self.group == self.file.num_row_groups() {
                return Ok(false);
            }
            let group = self.file.get_row_group(self.group).map_err(io)?;
            self.left = usize::try_from(group.metadata().num_rows()).unwrap_or(0);
            self.readers = (0..self.columns.len())
                .map(|c| group.get_column_reader(c))
                .collect::<Result<_, _>>()
                .map_err(io)?;
            self.group += 1;
        }
        let rows = self.left.min(BATCH);
        for (column, reader) in self.columns.iter_mut().zip(&mut self.readers) {
            column.read(reader, rows, self.delimiter)?;
        }
        self.left -= rows;
        for r in 0..rows {
            for (c, column) in self.columns.iter().enumerate() {
                if c > 0 {
                    self.text.push(self.delimiter);
                }
                let start = if r == 0 { 0 } else { column.ends[r - 1] };
                self.text
                    .extend_from_slice(&column.cells[start..column.ends[r]]);
            }
            self.text.push(b'\n');
        }
        Ok(true)
    }
}

impl Column {
    /// Reads the next `rows` rows of the column through `reader` and renders them.
    fn read(
        &mut self,
        reader: &mut ColumnReader,
        rows: usize,
        delimiter: u8,
    ) -> std::io::Result<()> {
        self.cells.clear();
        self.ends.clear();
        let kind = self.kind;
        match reader {
            ColumnReader::BoolColumnReader(r) => self.typed(r, rows, |out, v: &bool| {
                out.push(if *v { b'1' } else { b'0' });
            }),
            ColumnReader::Int32ColumnReader(r) => self.typed(r, rows, |out, v: &i32| {
                integer(out, i128::from(*v), kind);
            }),
            ColumnReader::Int64ColumnReader(r) => self.typed(r, rows, |out, v: &i64| {
                integer(out, i128::from(*v), kind);
            }),
            ColumnReader::Int96ColumnReader(r) => self.typed(r, rows, |out, v: &Int96| {
                let [low, high, day] = [v.data()[0], v.data()[1], v.data()[2]];
                let nanos = u64::from(low) | (u64::from(high) << 32);
                let days = i128::from(day) - 2_440_588;
                timestamp(out, days * 86_400_000_000_000 + i128::from(nanos), 9);
            }),
            // Debug: the shortest text that reads back to the same float, in exponent form
            // when long (`1e300`, `1e-8`).
            ColumnReader::FloatColumnReader(r) => self.typed(r, rows, |out, v: &f32| {
                let _ = write!(out, "{v:?}");
            }),
            ColumnReader::DoubleColumnReader(r) => self.typed(r, rows, |out, v: &f64| {
                let _ = write!(out, "{v:?}");
            }),
            ColumnReader::ByteArrayColumnReader(r) => self.typed(r, rows, |out, v: &ByteArray| {
                bytes(out, v.data(), kind, delimiter);
            }),
            ColumnReader::FixedLenByteArrayColumnReader(r) => {
                self.typed(r, rows, |out, v: &FixedLenByteArray| {
                    bytes(out, v.data(), kind, delimiter);
                })
            }
        }
    }

    /// Reads `rows` rows of values of type `T` and writes each with `write` (a null as an
    /// empty cell).
    fn typed<T: DataType>(
        &mut self,
        reader: &mut ColumnReaderImpl<T>,
        rows: usize,
        mut write: impl FnMut(&mut Vec<u8>, &T::T),
    ) -> std::io::Result<()> {
        let mut values: Vec<T::T> = Vec::with_capacity(rows);
        self.levels.clear();
        let nullable = self.desc.max_def_level() > 0;
        let mut read = 0;
        while read < rows {
            let levels = nullable.then_some(&mut self.levels);
            let (records, _, _) = reader
                .read_records(rows - read, levels, None, &mut values)
                .map_err(io)?;
            if records == 0 {
                return Err(std::io::Error::other(format!(
                    "parquet: column `{}` ends before its row group's {rows} rows",
                    self.desc.name()
                )));
            }
            read += records;
        }
        let mut next = values.iter();
        let max = self.desc.max_def_level();
        for r in 0..rows {
            let present = !nullable || self.levels[r] == max;
            if present {
                let value = next.next().ok_or_else(|| {
                    std::io::Error::other(format!(
                        "parquet: column `{}` has fewer values than rows",
                        self.desc.name()
                    ))
                })?;
                write(&mut self.cells, value);
            }
            self.ends.push(self.cells.len());
        }
        Ok(())
    }
}

/// An integer column's value: a number, a decimal, a date, a time or a timestamp.
fn integer(out: &mut Vec<u8>, v: i128, kind: Kind) {
    match kind {
        Kind::Decimal(scale) => decimal(out, v, scale),
        Kind::Date => date(out, v),
        Kind::Time(digits) => {
            clock(out, v, digits);
        }
        Kind::Timestamp(digits) => timestamp(out, v, digits),
        Kind::Number | Kind::Boolean | Kind::Text => {
            let _ = write!(out, "{v}");
        }
    }
}

/// A byte array's value: a decimal (big-endian two's complement), or text.
fn bytes(out: &mut Vec<u8>, data: &[u8], kind: Kind, delimiter: u8) {
    match kind {
        Kind::Decimal(scale) if !data.is_empty() && data.len() <= 16 => {
            let fill = if data[0] & 0x80 != 0 { 0xff } else { 0 };
            let mut wide = [fill; 16];
            wide[16 - data.len()..].copy_from_slice(data);
            decimal(out, i128::from_be_bytes(wide), scale);
        }
        // Valid UTF-8 (every string column) is borrowed, not copied.
        _ => quoted(out, String::from_utf8_lossy(data).as_bytes(), delimiter),
    }
}

/// `unscaled × 10^-scale`, written exactly.
fn decimal(out: &mut Vec<u8>, unscaled: i128, scale: u32) {
    if unscaled < 0 {
        out.push(b'-');
    }
    let digits = unscaled.unsigned_abs().to_string();
    let scale = scale as usize;
    if scale == 0 {
        out.extend_from_slice(digits.as_bytes());
        return;
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    let _ = write!(out, "{whole}.{fraction}");
}

/// `days` after 1970-01-01 as `YYYY-MM-DD` (the proleptic Gregorian calendar).
fn date(out: &mut Vec<u8>, days: i128) {
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i128::from(month <= 2);
    let _ = write!(out, "{year:04}-{month:02}-{day:02}");
}

/// A time of day `units` × 10^-digits s after midnight, as `HH:MM:SS[.fff]`.
fn clock(out: &mut Vec<u8>, units: i128, digits: u32) {
    let per_second = 10i128.pow(digits);
    let (seconds, fraction) = (units.div_euclid(per_second), units.rem_euclid(per_second));
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let _ = write!(out, "{h:02}:{m:02}:{s:02}");
    if fraction != 0 {
        let _ = write!(out, ".{fraction:0width$}", width = digits as usize);
    }
}

/// `units` × 10^-digits s after 1970-01-01T00:00:00, as `YYYY-MM-DDTHH:MM:SS[.fff]`.
fn timestamp(out: &mut Vec<u8>, units: i128, digits: u32) {
    let per_day = 86_400 * 10i128.pow(digits);
    date(out, units.div_euclid(per_day));
    out.push(b'T');
    clock(out, units.rem_euclid(per_day), digits);
}

/// `text` as a CSV field: in quotes (inner quotes doubled) when it holds the delimiter, a
/// quote, a line break or edge spaces (which the reader would trim).
fn quoted(out: &mut Vec<u8>, text: &[u8], delimiter: u8) {
    let plain = !text
        .iter()
        .any(|&b| b == delimiter || b == b'"' || b == b'\n' || b == b'\r')
        && text.first().is_none_or(|b| !b.is_ascii_whitespace())
        && text.last().is_none_or(|b| !b.is_ascii_whitespace());
    if plain {
        out.extend_from_slice(text);
        return;
    }
    out.push(b'"');
    for &b in text {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn decimals_dates_and_times_are_written_exactly() {
        assert_eq!(text(|o| decimal(o, 12345, 2)), "123.45");
        assert_eq!(text(|o| decimal(o, -5, 3)), "-0.005");
        assert_eq!(text(|o| decimal(o, 7, 0)), "7");
        assert_eq!(text(|o| date(o, 0)), "1970-01-01");
        assert_eq!(text(|o| date(o, 19_783)), "2024-03-01");
        assert_eq!(text(|o| date(o, -1)), "1969-12-31");
        assert_eq!(text(|o| clock(o, 45_296_500, 3)), "12:34:56.500");
        assert_eq!(
            text(|o| timestamp(o, 1_709_294_400_000_000, 6)),
            "2024-03-01T12:00:00"
        );
        // A 16-byte big-endian decimal, negative.
        let minus_one_and_a_half = (-150i128).to_be_bytes();
        assert_eq!(
            text(|o| bytes(o, &minus_one_and_a_half[12..], Kind::Decimal(2), b',')),
            "-1.50"
        );
    }

    /// `tests/data/types.parquet`, written by polars 1.x (one column of each kind, nulls in
    /// some), reads as the CSV text of its table.
    #[test]
    fn every_kind_of_column_is_written_as_csv_text() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/types.parquet");
        let (mut reader, rows) = open(&path, b',').unwrap();
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        assert_eq!(rows, 3);
        let expected = [
            "flag,small,price,at_us,at_ms,clock,day,name,half,big",
            "1,1,123.45,2024-03-01T12:00:00,2024-03-01T12:00:00.250,12:34:56,2024-03-01,plain,0.1,1e300",
            "0,-2,-0.05,1969-12-31T23:59:59.500000,,00:00:00.500000000,1900-01-01,\"with, comma\",1e-8,-2.5",
            ",,7.00,2000-02-29T00:00:00.000001,1970-01-01T00:00:00,23:59:59,,\"with \"\"quotes\"\"\",NaN,inf",
        ];
        assert_eq!(text.lines().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn text_is_quoted_only_where_the_reader_needs_it() {
        assert_eq!(text(|o| quoted(o, b"red", b',')), "red");
        assert_eq!(text(|o| quoted(o, b"a,b", b',')), "\"a,b\"");
        assert_eq!(text(|o| quoted(o, b"a,b", b';')), "a,b");
        assert_eq!(
            text(|o| quoted(o, b"say \"hi\"", b',')),
            "\"say \"\"hi\"\"\""
        );
        assert_eq!(text(|o| quoted(o, b" x", b',')), "\" x\"");
    }
}
