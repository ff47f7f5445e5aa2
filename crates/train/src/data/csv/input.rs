//! Where a data file's bytes come from: a regular file, a FIFO (`<(zcat data.csv.gz)`),
//! standard input (`-`) or a text compiled into the program, each plain, gzip- or
//! zstd-compressed. Compression is told by the
//! file's first bytes, whatever its name, so that `data.csv.gz` renamed or piped still reads.

use std::io::Read;
use std::path::Path;

use super::error::{CsvProblem, ReaderError};
use crate::foreign::Foreign;

/// The path that means standard input.
pub const STDIN: &str = "-";

/// How the bytes are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Told by the magic bytes at the start of the input.
    fn of(start: &[u8]) -> Self {
        if start.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if start.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// An opened data input.
pub(super) struct Input {
    /// The text, decompressed.
    pub(super) reader: Box<dyn Read + Send>,
    /// For a plain regular file, its newline count (an upper bound on its rows, to size the
    /// values once); `None` for inputs that can be read only once or must be decompressed.
    pub(super) lines: Option<u64>,
}

/// Bytes read through to tell compression apart.
const MAGIC: usize = 4;

/// Opens `path` (or standard input for `-`, or `compiled_in`, the text compiled into the
/// program for it).
///
/// # Errors
/// [`CsvProblem::Unreadable`] for a file that cannot be opened or read,
/// [`CsvProblem::NotAFile`] for a device or folder (reading `/dev/zero` would never end).
pub(super) fn open(
    path: &Path,
    delimiter: u8,
    compiled_in: Option<&'static str>,
) -> Result<Input, CsvProblem> {
    let unreadable = |e: std::io::Error| CsvProblem::Unreadable {
        via: None,
        cause: Foreign::new(e),
    };
    let (raw, regular): (Box<dyn Read + Send>, bool) = if let Some(text) = compiled_in {
        (Box::new(text.as_bytes()), false)
    } else if path == Path::new(STDIN) {
        (Box::new(std::io::stdin()), false)
    } else {
        let kind = std::fs::metadata(path).map_err(unreadable)?.file_type();
        #[cfg(unix)]
        let fifo = std::os::unix::fs::FileTypeExt::is_fifo(&kind);
        #[cfg(not(unix))]
        let fifo = false;
        if !kind.is_file() && !fifo {
            return Err(CsvProblem::NotAFile);
        }
        let file = std::fs::File::open(path).map_err(unreadable)?;
        (Box::new(file), kind.is_file())
    };
    let mut raw = raw;
    let mut start = Vec::with_capacity(MAGIC);
    (&mut raw)
        .take(MAGIC as u64)
        .read_to_end(&mut start)
        .map_err(unreadable)?;
    if start == b"PAR1" {
        return parquet(path, regular, delimiter);
    }
    let compression = Compression::of(&start);
    let whole: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(start).chain(raw));
    let reader: Box<dyn Read + Send> = match compression {
        Compression::None => whole,
        Compression::Gzip => Box::new(Named {
            inner: flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(
                1 << 16,
                whole,
            )),
            name: "gzip",
        }),
        Compression::Zstd => Box::new(Named {
            inner: ruzstd::decoding::StreamingDecoder::new(whole).map_err(|e| {
                CsvProblem::Unreadable {
                    via: Some("zstd"),
                    cause: Foreign::new(e),
                }
            })?,
            name: "zstd",
        }),
    };
    let lines = match regular && compression == Compression::None {
        true => Some(count_lines(path).map_err(unreadable)?),
        false => None,
    };
    Ok(Input { reader, lines })
}

/// A Parquet file (`PAR1`), as the CSV text of its table with `delimiter` between fields.
#[cfg(feature = "parquet")]
fn parquet(path: &Path, regular: bool, delimiter: u8) -> Result<Input, CsvProblem> {
    if !regular {
        return Err(CsvProblem::ParquetNeedsAFile);
    }
    let (text, rows) = super::parquet::open(path, delimiter)?;
    Ok(Input {
        reader: Box::new(text),
        // One line per row after the header: counted exactly from the file's footer.
        lines: Some(rows + 1),
    })
}

/// A Parquet file (`PAR1`), in a build without the reader.
#[cfg(not(feature = "parquet"))]
fn parquet(_: &Path, _: bool, _: u8) -> Result<Input, CsvProblem> {
    Err(CsvProblem::ParquetNotBuilt)
}

/// A decompressing reader whose errors say which format failed (`gzip: corrupt deflate
/// stream`).
struct Named<R> {
    inner: R,
    name: &'static str,
}

impl<R: Read> Read for Named<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            let kind = e.kind();
            std::io::Error::new(kind, ReaderError::new(self.name, e))
        })
    }
}

/// The number of newline bytes in `path` (plus one for an unterminated last line), counted
/// in parallel over the compute threads.
#[cfg(unix)]
fn count_lines(path: &Path) -> std::io::Result<u64> {
    use rayon::prelude::*;
    use std::os::unix::fs::FileExt;
    const SPAN: u64 = 8 << 20;
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let spans: Vec<u64> = (0..size.div_ceil(SPAN)).collect();
    let counts = spans
        .par_iter()
        .map_init(
            || vec![0u8; 1 << 20],
            |buffer, &span| -> std::io::Result<(u64, Option<u8>)> {
                let (mut at, end) = (span * SPAN, ((span + 1) * SPAN).min(size));
                let (mut lines, mut last) = (0, None);
                while at < end {
                    let want = buffer.len().min((end - at) as usize);
                    let n = file.read_at(&mut buffer[..want], at)?;
                    if n == 0 {
                        break; // the file shrank while it was counted
                    }
                    lines += memchr::memchr_iter(b'\n', &buffer[..n]).count() as u64;
                    last = Some(buffer[n - 1]);
                    at += n as u64;
                }
                Ok((lines, last))
            },
        )
        .collect::<std::io::Result<Vec<_>>>()?;
    let lines: u64 = counts.iter().map(|(n, _)| n).sum();
    let last = counts.iter().rev().find_map(|(_, last)| *last);
    Ok(lines + u64::from(last.is_some_and(|b| b != b'\n')))
}

/// The number of newline bytes in `path` (plus one for an unterminated last line).
#[cfg(not(unix))]
fn count_lines(path: &Path) -> std::io::Result<u64> {
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0u8; 1 << 16];
    let (mut lines, mut last) = (0, b'\n');
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buffer[..n]).count() as u64;
        last = buffer[n - 1];
    }
    Ok(lines + u64::from(last != b'\n'))
}
