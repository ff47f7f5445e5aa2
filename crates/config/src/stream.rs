//! Whether a training file is held in memory or streamed by epochs (`[data] stream`), and
//! the stream opened with the run's split, seed and scaling.

use crate::{ConfigError, Result};
use squiggle_train::{
    CsvProblem, DataSource, Dataset, LoadError, STDIN, Settings, ShuffleBuffer, Stream,
    StreamScaling,
};
use toml::Spanned;

use super::schema::DataSection;
use super::source::Source;

/// Rows of a streamed file's shuffle buffer unless `[data] shuffle_buffer` says otherwise:
/// enough to mix rows from far apart in the file, few enough to stay a small share of memory
/// (100,000 rows of 20 inputs take 8 MB); fewer when half the memory limit holds fewer.
pub const DEFAULT_SHUFFLE_BUFFER: u64 = 100_000;

/// The training rows of `source`: held, or (when the command trains and `[data] stream`
/// says so, or the file would pass the memory limit) streamed, holding one row to describe
/// the file.
pub fn training_rows(
    source: &DataSource,
    data: Option<&DataSection>,
    settings: &Settings,
    streams: bool,
    src: &Source,
) -> Result<(Dataset, Option<Stream>)> {
    let DataSource::Csv { path, .. } = source else {
        return Ok((source.load()?, None));
    };
    let wanted = data.and_then(|d| d.stream.as_ref());
    let buffer = data.and_then(|d| d.shuffle_buffer.as_ref());
    if let Some(rows) = buffer {
        if *rows.get_ref() == 0 {
            return Err(src.error(rows.span(), "[data] shuffle_buffer: at least one row"));
        }
        if wanted.is_some_and(|w| !*w.get_ref()) {
            return Err(src.error(
                rows.span(),
                "[data] shuffle_buffer is for a streamed file; this one has `stream = false`",
            ));
        }
    }
    // What streaming needs, as the message that names the key it hangs on.
    let streamable = |span: std::ops::Range<usize>| -> Result<()> {
        let need = if settings.epochs.is_none() {
            "trains by epochs: add [train] `epochs = N`"
        } else if settings.batch_size.is_none() {
            "trains in mini-batches: add [train] `batch_size = N`"
        } else if path.as_path() == std::path::Path::new(STDIN) {
            "reads its file once per epoch: give a file, not standard input"
        } else {
            return Ok(());
        };
        Err(src.error(span, format!("[data] stream: a streamed file {need}")))
    };
    if let Some(w) = wanted
        && *w.get_ref()
    {
        streamable(w.span())?;
        if streams {
            return open(source, settings, buffer, src);
        }
    }
    match source.load() {
        Ok(rows) => Ok((rows, None)),
        Err(LoadError::Csv(e)) if matches!(e.problem, CsvProblem::OverLimit { .. }) => {
            let by_epochs = settings.epochs.is_some();
            if wanted.is_none() && streams && streamable(0..0).is_ok() {
                eprintln!("squiggle: note: {e}: it is streamed by epochs instead ([data] stream)");
                return open(source, settings, buffer, src);
            }
            let batches = match settings.batch_size {
                Some(_) => "",
                None => " with [train] `batch_size`",
            };
            match (by_epochs, wanted) {
                (true, Some(w)) if !*w.get_ref() => Err(ConfigError::OverLimit {
                    error: Box::new(e),
                    advice: format!(
                        "`stream = true`{batches} trains on it by epochs without holding it"
                    ),
                }),
                (true, _) => Err(ConfigError::OverLimit {
                    error: Box::new(e),
                    advice: format!(
                        "[data] `stream = true`{batches} trains on it by epochs without holding it"
                    ),
                }),
                (false, _) => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Opens the stream of `source` with the settings' split, seed and scaling.
fn open(
    source: &DataSource,
    settings: &Settings,
    buffer: Option<&Spanned<u64>>,
    src: &Source,
) -> Result<(Dataset, Option<Stream>)> {
    let DataSource::Csv {
        path,
        columns,
        options,
    } = source
    else {
        unreachable!("only a CSV file streams")
    };
    let scale = if settings.rescale == Some(true) {
        StreamScaling::Rescale
    } else if settings.standardize == Some(true) {
        StreamScaling::Standardize
    } else {
        StreamScaling::None
    };
    let rows = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    let buffer = match buffer {
        Some(given) => ShuffleBuffer::Rows(rows(*given.get_ref())),
        None => ShuffleBuffer::AtMost(rows(DEFAULT_SHUFFLE_BUFFER)),
    };
    let stream = Stream::open(
        path,
        columns,
        options,
        settings.valid_fraction,
        settings.seed.unwrap_or(0),
        buffer,
        scale,
    )?;
    if stream.train_len() == 0 {
        let fraction = settings.valid_fraction.unwrap_or(0.0);
        return Err(src.error(
            0..0,
            format!("[data] valid_fraction = {fraction} holds out every row of the streamed file; none is left to train"),
        ));
    }
    Ok((stream.template().clone(), Some(stream)))
}
