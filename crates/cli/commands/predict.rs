//! `squiggle predict`: a trained run's network on new rows, in original units.

use anyhow::{Context, bail};
use squiggle_train::{CsvOptions, read_inputs};

use crate::args::PredictArgs;
use crate::backend::{Backend, Open};
use crate::exit::CheckFailed;
use crate::files::{AtomicFile, refuse_destroying};
use crate::interrupt::{self, Interrupted};
use crate::run_dir;
use squiggle_train::format::{data_value, plural};

/// Reads the run's checkpoint and the input rows; writes every input column as it was
/// written, then one `predicted_<target>` column per target — for a classifier, the
/// predicted class (`predicted_<label column>`, the ArgMax) and each class's SoftMax
/// probability (`p_<class>`).
pub fn run(args: &PredictArgs) -> anyhow::Result<()> {
    interrupt::install()?;
    refuse_destroying(
        "--output",
        &args.output,
        &[("--input", &args.input)],
        Some(&args.run),
    )?;
    let (path, checkpoint) = run_dir::load_checkpoint(&args.run, !args.last)?;
    let described = &checkpoint.meta.network;
    let backend = args.backend.unwrap_or(Backend::Flex);
    let kernels = args.kernels.unwrap_or_default();
    let device = backend.device()?;
    let net = checkpoint
        .network(&device)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    // Standard input, a pipe or a device cannot be read twice.
    let regular = std::fs::metadata(&args.input).is_ok_and(|m| m.is_file());
    if args.input == std::path::Path::new(squiggle_train::STDIN)
        || (!regular && args.input.exists())
    {
        bail!(
            "--input {}: predict reads its input twice (the values, then every column to copy), so it must be a regular file",
            args.input.display()
        );
    }
    let options = CsvOptions {
        delimiter: args.delimiter.unwrap_or(b','),
        ..CsvOptions::filled_as(described.fill.as_ref(), crate::memory::available())
    };
    let (inputs, categorical) = described.input_columns();
    let mut data = read_inputs(&args.input, &inputs, &categorical, &options)?;
    let rows = data.len();
    // The input file once more, row by row, to copy every column exactly as written.
    let input = || format!("cannot read `{}`", args.input.display());
    let mut passing = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(options.delimiter)
        .from_reader(squiggle_train::open_text(&args.input, options.delimiter)?);
    let mut header = passing.headers().with_context(input)?.clone();
    let added: Vec<String> = match &described.classes {
        Some(classes) => std::iter::once(format!("predicted_{}", classes.column))
            .chain(classes.names.iter().map(|c| format!("p_{c}")))
            .collect(),
        None => described
            .targets
            .iter()
            .map(|t| format!("predicted_{t}"))
            .collect(),
    };
    for name in added {
        if header.iter().any(|h| h.trim() == name) {
            bail!(
                "{}:1: column `{name}` is already there; predictions would not be told apart from it",
                args.input.display()
            );
        }
        header.push_field(&name);
    }
    let mut out = csv::WriterBuilder::new()
        .delimiter(options.delimiter)
        .from_writer(AtomicFile::create(&args.output)?);
    out.write_record(&header)?;
    let scaling = checkpoint.meta.scaling.as_ref();
    if let Some(s) = scaling {
        s.apply(&mut data);
    }
    let width = described.targets.len();
    let mut records = passing.records();
    squiggle_train::predict(
        squiggle_train::Predictor { net: &net, kernels },
        &data,
        scaling,
        &device,
        described.precision,
        |_, predicted| -> anyhow::Result<()> {
            // Ctrl-C or SIGTERM: stop between chunks; the unfinished output is removed.
            if let Some(signal) = interrupt::requested() {
                return Err(Interrupted {
                    signal,
                    what: format!("interrupted; `{}` was not written", args.output.display()),
                }
                .into());
            }
            for row in predicted.chunks(width) {
                let mut record = records
                    .next()
                    .context("the input file changed while it was read")?
                    .with_context(input)?;
                if let Some(classes) = &described.classes {
                    if let Some(bad) = row.iter().find(|z| !(**z as f32).is_finite()) {
                        let line = record.position().map_or(0, csv::Position::line);
                        return Err(CheckFailed(format!(
                            "{}:{line}: the network's raw output is {bad} for this row (it overflows f32); no predictions were written",
                            args.input.display()
                        ))
                        .into());
                    }
                    record.push_field(&classes.names[squiggle_train::argmax(row)]);
                    for p in squiggle_train::softmax(row) {
                        record.push_field(&data_value(p as f32));
                    }
                    out.write_record(&record)?;
                    continue;
                }
                for &p in row {
                    let p = p as f32;
                    if !p.is_finite() {
                        // Nothing is written: the unfinished output is removed.
                        let line = record.position().map_or(0, csv::Position::line);
                        return Err(CheckFailed(format!(
                            "{}:{line}: the network predicts {p} for this row (its output overflows f32); no predictions were written",
                            args.input.display()
                        ))
                        .into());
                    }
                    record.push_field(&data_value(p));
                }
                out.write_record(&record)?;
            }
            Ok(())
        },
    )?;
    // The file's own errors already name it.
    out.into_inner()
        .map_err(|e| anyhow::Error::new(e.into_error()))?
        .commit()?;
    eprintln!(
        "squiggle: wrote {} to {} (from {}, {})",
        plural(rows, "prediction"),
        args.output.display(),
        path.display(),
        kernels.label()
    );
    Ok(())
}
