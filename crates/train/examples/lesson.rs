//! StatQuest's "Backpropagation Main Ideas" as a Rust program using the crates directly:
//! the lesson's network with b3 = 0, its three points, settings read from TOML, and gradient
//! descent on b3 alone, printed as it goes by an observer.
//!
//! ```text
//! cargo run --release --example lesson
//! ```

use burn::prelude::Device;
use squiggle_model::{Architecture, ParamNames, lesson};
use squiggle_train::{
    Dataset, Flow, Observer, Prepared, Settings, Start, StepRecord, Summary, TrainError, TrainPlan,
};

/// The lesson's `[train]` table, as a config file writes it.
const SETTINGS: &str = r#"
loss = "ssr"
learning_rate = 0.1
max_steps = 1000
min_step_size = 0.001
"#;

/// Prints the first steps, then every 100th: the loss, b3, dSSR/db3 and the step size.
struct Printer;

impl Observer for Printer {
    type Error = TrainError;

    fn step(&mut self, record: &StepRecord) -> Result<Flow, TrainError> {
        if record.step < 3 || record.step.is_multiple_of(100) {
            let b3 = &record.params[0];
            println!(
                "step {:>4}  SSR {:>8.4}  b3 {:>7.4}  dSSR/db3 {:>8.4}  step size {:>7.4}",
                record.step + 1,
                record.loss,
                b3.value,
                b3.derivative,
                b3.step
            );
        }
        Ok(Flow::Continue)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1-[2]-1 softplus: w1, w2, b1, b2, w3, w4, b3 in flat order.
    let arch = Architecture::statquest();
    let names = ParamNames::new(&arch);
    let data = Dataset::from_rows(&lesson::points(), 1, 1)?;
    let settings: Settings = toml::from_str(SETTINGS)?;
    // Only b3 learns; the other six keep the lesson's values.
    let b3 = names.indices(&names.resolve("b3")?);
    let trainable = (0..arch.num_params()).map(|i| b3.contains(&i)).collect();
    let plan = TrainPlan::new(&settings, &arch, trainable)?;
    println!(
        "Training b3 of the lesson's {} network on flex ({}).",
        arch.describe(),
        plan.kernels().label()
    );
    let mut prepared = Prepared::new(data, None, &plan);
    let device = Device::flex();
    let start = Start::Fresh(lesson::PT2.to_vec());
    let outcome = squiggle_train::train(&arch, start, &mut prepared, &plan, &device, &mut Printer)?;
    let Summary::Steps(summary) = &outcome.summary else {
        unreachable!("settings without `epochs` train step by step");
    };
    println!(
        "stopped after {} steps ({}): b3 = {:.6}, SSR {:.6} → {:.4e}",
        outcome.steps,
        outcome.stop,
        outcome.params[arch.num_params() - 1],
        summary.initial_loss,
        summary.final_loss
    );
    Ok(())
}
