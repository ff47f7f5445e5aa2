//! `squiggle predict`: a trained run's network on new rows, in original units.

use std::io::Write;

use squiggle_train::read_inputs;

use crate::args::PredictArgs;
use crate::backend::Backend;
use crate::files::AtomicFile;
use crate::run_dir;

/// Reads the run's checkpoint and the input rows, writes the inputs and the predictions.
pub fn run(args: &PredictArgs) -> anyhow::Result<()> {
    let (path, checkpoint) = run_dir::load_checkpoint(&args.run, !args.last)?;
    let described = &checkpoint.meta.network;
    let backend = args.backend.unwrap_or(Backend::Flex);
    let device = backend.device()?;
    let net = checkpoint
        .network(&device)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut data = read_inputs(&args.input, &described.inputs)?;
    let raw = data.clone();
    let mut out = AtomicFile::create(&args.output)?;
    let header: Vec<&str> = described
        .inputs
        .iter()
        .chain(&described.targets)
        .map(String::as_str)
        .collect();
    writeln!(out, "{}", header.join(","))?;
    let width = described.targets.len();
    let inputs = raw.input_values();
    let in_width = raw.inputs();
    let scaling = checkpoint.meta.scaling.as_ref();
    if let Some(s) = scaling {
        s.apply(&mut data);
    }
    squiggle_train::predict(
        &net,
        &data,
        scaling,
        &device,
        described.precision,
        |first, predicted| -> anyhow::Result<()> {
            for (i, row) in predicted.chunks(width).enumerate() {
                let r = first + i;
                let mut line = String::new();
                for v in &inputs[r * in_width..(r + 1) * in_width] {
                    line += &v.to_string();
                    line.push(',');
                }
                let cells: Vec<String> = row.iter().map(|&p| (p as f32).to_string()).collect();
                line += &cells.join(",");
                writeln!(out, "{line}")?;
            }
            Ok(())
        },
    )?;
    out.commit()?;
    eprintln!(
        "squiggle: wrote {} predictions to {} (from {})",
        raw.len(),
        args.output.display(),
        path.display()
    );
    Ok(())
}
