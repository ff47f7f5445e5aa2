//! `squiggle serve`: checks the arguments, then hands over to the server (`crate::serve`).

use crate::args::ServeArgs;
use crate::serve::{self, Options, Runs};
use squiggle_config::Overrides;

/// Serves the playground (and the dashboard of `--run`) until Ctrl-C.
pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let start = match &args.config {
        Some(path) => {
            let text = squiggle_config::read(path)?;
            let name = path
                .file_stem()
                .map_or_else(|| "config".into(), |n| n.to_string_lossy().into_owned());
            (name, path.clone(), text)
        }
        None => serve::default_start(),
    };
    let runs = args.run.as_deref().map(Runs::new).transpose()?;
    serve::serve(Options {
        start,
        overrides: Overrides {
            backend: args.backend,
            memory: Some(crate::memory::available),
            ..Overrides::default()
        },
        runs,
        host: args.host,
        port: args.port,
        open: args.open,
    })
}
