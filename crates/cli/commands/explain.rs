//! `squiggle explain`: one step's derivatives, factor by factor, checked four ways (the chain
//! rule by hand, Burn's autodiff of the module, squiggle's fused backward, a finite
//! difference), and the step the optimizer took from them.

use anyhow::bail;
use serde_json::{Value, json};
use squiggle_model::Named;
use squiggle_train::{
    Dataset, Explained, Flow, Kernels, Observer, Optimizer, ParamStep, StepRecord, TrainError,
    explain, tolerance, train,
};

use crate::args::ExplainArgs;
use crate::exit::CheckFailed;
use crate::output::{print_json, print_lines};
use crate::session::{ParamsAt, Session};
use squiggle_config::{Config, Overrides};
use squiggle_train::format::{cell, elision, exact, num, plural, shown_rows};

/// Rows printed before the elision in long factor tables, and after it.
const HEAD_ROWS: usize = 10;
const TAIL_ROWS: usize = 5;

/// What is explained: the parameters, the rows their derivatives sum over, and the step the
/// optimizer took (none at a run's checkpoint).
struct Moment {
    values: Vec<f64>,
    rows: Dataset,
    step: Option<StepRecord>,
    first_line: String,
}

/// Explains step `--step` of the configured run, or a run's checkpoint with `--run`.
pub fn run(args: &ExplainArgs) -> anyhow::Result<()> {
    let session = Session::open(&args.run, &args.select, Overrides::default())?;
    let config = &session.config;
    let params = select_params(config, &args.params)?;
    let moment = match &session.at {
        ParamsAt::Initial => step_moment(&session, args.step)?,
        ParamsAt::Checkpoint { .. } => Moment {
            values: session.params.clone(),
            rows: session.data.train_data(),
            step: None,
            first_line: format!(
                "The derivatives over the training rows of {}; learning rate {}.",
                session.describe(),
                config.plan.learning_rate()
            ),
        },
    };
    let (arch, loss, precision) = (&config.arch, config.plan.loss(), config.plan.precision());
    let rows = &moment.rows;
    let explained = explain(
        arch,
        &config.names,
        &moment.values,
        &moment.rows,
        loss,
        &session.device,
        precision,
        &params,
    )?;
    let tolerance = tolerance(precision);
    if args.run.flags.json {
        let items: Vec<Value> = explained
            .iter()
            .map(|d| param_json(config, &moment, d, tolerance))
            .collect();
        print_json(&json!({
            "step": moment.step.as_ref().map(|s| s.step),
            "rows": rows.len(),
            "backend": config.backend.name(),
            "kernels": config.plan.kernels().name(),
            "dtype": precision.name(),
            "loss_function": loss.name(),
            "learning_rate": config.plan.learning_rate(),
            "tolerance": tolerance,
            "params": items,
        }))?;
    } else {
        let mut lines = vec![moment.first_line.clone()];
        for d in &explained {
            lines.push(String::new());
            lines.extend(explain_param(config, &moment, d, tolerance, args.all_rows));
        }
        print_lines(&lines)?;
    }
    let disagreeing: Vec<&str> = explained
        .iter()
        .filter(|d| d.spread() > tolerance)
        .map(|d| config.names.name(d.rule.param))
        .collect();
    if !disagreeing.is_empty() {
        return Err(CheckFailed(format!(
            "the chain rule, Burn's autodiff, the fused backward and finite differences disagree for {}",
            disagreeing.join(", ")
        ))
        .into());
    }
    Ok(())
}

/// The flat indices named by `--param`, or every trainable one.
fn select_params(config: &Config, names: &[String]) -> anyhow::Result<Vec<usize>> {
    if names.is_empty() {
        return Ok(config.plan.trainable_indices());
    }
    let mut chosen = Vec::new();
    for name in names {
        let target = config
            .names
            .resolve(name)
            .map_err(|e| anyhow::anyhow!("--param: {e}"))?;
        chosen.extend(config.names.indices(&target));
    }
    chosen.sort_unstable();
    chosen.dedup();
    Ok(chosen)
}

/// Keeps step `wanted`'s record and stops the run there.
struct Capture {
    wanted: usize,
    record: Option<StepRecord>,
}

impl Observer for Capture {
    type Error = TrainError;

    fn wants_steps(&self) -> bool {
        true
    }

    fn step(&mut self, record: &StepRecord) -> Result<Flow, TrainError> {
        if record.step < self.wanted {
            return Ok(Flow::Continue);
        }
        self.record = Some(record.clone());
        Ok(Flow::Stop)
    }
}

/// Step `step` of the configured training, taken by the training core itself: the
/// parameters before it, the rows it learnt from, and what it did.
fn step_moment(session: &Session, step: usize) -> anyhow::Result<Moment> {
    let config = &session.config;
    let mut data = session.data.clone();
    let mut capture = Capture {
        wanted: step,
        record: None,
    };
    let start = squiggle_train::Start::Fresh(session.params.clone());
    let outcome = train(
        &config.arch,
        start,
        &mut data,
        &config.plan,
        &session.device,
        &mut capture,
    )?;
    let Some(record) = capture.record else {
        bail!(
            "the run stops after {} ({}), so it has no step {step}",
            plural(outcome.steps, "step"),
            outcome.stop
        );
    };
    let mut values = session.params.clone();
    for p in &record.params {
        values[p.index] = p.value;
    }
    let (rows, first_line) = match &record.batch {
        None => (
            data.data().clone(),
            format!(
                "Step {step} of training {}; learning rate {}.",
                session.describe(),
                config.plan.learning_rate()
            ),
        ),
        Some(batch) => (
            data.data().subset(&batch.rows),
            format!(
                "Step {step} (epoch {}, mini-batch {} of {}: {} drawn from {}) of training {}; learning rate {}.",
                batch.epoch + 1,
                batch.index + 1,
                batch.count,
                plural(batch.rows.len(), "row"),
                plural(data.train_rows().len(), "training row"),
                session.describe(),
                config.plan.learning_rate()
            ),
        ),
    };
    Ok(Moment {
        values,
        rows,
        step: Some(record),
        first_line,
    })
}

fn explain_param(
    config: &Config,
    moment: &Moment,
    d: &Explained,
    tolerance: f64,
    all_rows: bool,
) -> Vec<String> {
    let rule = &d.rule;
    let name = config.names.name(rule.param);
    let s = config.plan.loss().symbol();
    let data = &moment.rows;
    let mut lines = Vec::new();
    let factor_names: Vec<&str> = rule.factors.iter().map(|f| f.name.as_str()).collect();
    lines.push(format!("d{s}/d{name} = Σ {}", factor_names.join(" × ")));
    let meanings: Vec<String> = rule
        .factors
        .iter()
        .map(|f| format!("{} = {}", f.name, f.meaning))
        .collect();
    lines.push(format!("  where {}", meanings.join(", ")));
    lines.push(String::new());

    let show_points = data.inputs() == 1 && data.outputs() == 1;
    let mut header = vec![format!("{:>5}", "i")];
    if show_points {
        header.extend(["input", "observed", "predicted"].map(cell));
    }
    let widths: Vec<usize> = rule.factors.iter().map(|f| f.name.len().max(11)).collect();
    for (f, w) in rule.factors.iter().zip(&widths) {
        header.push(format!(" {:>w$}", f.name));
    }
    header.push(cell("product"));
    lines.push(header.concat());
    let (shown, hidden) = shown_rows(data.len(), HEAD_ROWS, TAIL_ROWS, all_rows);
    for (k, &i) in shown.iter().enumerate() {
        if hidden > 0 && k == HEAD_ROWS {
            lines.push(elision(hidden, "row", "--all-rows"));
        }
        let mut row = vec![format!("{:>5}", i + 1)];
        if show_points {
            let predicted = config
                .arch
                .forward_host(&moment.values, &data.input_row(i))
                .prediction()[0];
            for x in [data.input_row(i)[0], data.output_row(i)[0], predicted] {
                row.push(cell(&num(x)));
            }
        }
        for (f, w) in rule.factors.iter().zip(&widths) {
            row.push(format!(" {:>w$}", num(f.values[i])));
        }
        row.push(cell(&num(rule.products[i])));
        lines.push(row.concat());
    }
    let table_width = lines.last().map_or(0, |l| l.chars().count());
    let sum = num(rule.total);
    lines.push(format!(
        "{:>5}{sum:>width$}",
        "sum",
        width = table_width - 5
    ));
    lines.extend(softmax_identity(config, moment, rule));
    lines.push(String::new());
    lines.push(format!(
        "  from the chain rule  {:>12}",
        num(d.chain_rule())
    ));
    let trains = config.plan.kernels();
    for (kernels, label) in [
        (Kernels::Burn, "Burn's autodiff    "),
        (Kernels::Fused, "fused backward     "),
    ] {
        let note = if kernels == trains {
            "  (what training uses)"
        } else {
            ""
        };
        lines.push(format!(
            "  {label}  {:>12}{note}",
            num(d.computed_by(kernels))
        ));
    }
    lines.push(format!(
        "  finite difference    {:>12}",
        num(d.finite_difference)
    ));
    let spread = d.spread();
    if d.at_kink && spread <= tolerance {
        lines.push(format!(
            "  → the chain rule, Burn's autodiff and the fused backward agree (relative difference {spread:.1e}, tolerance {tolerance:.0e}); a ReLU unit sits at its kink on some row, where the loss has no derivative and the finite difference averages the slopes on either side"
        ));
    } else if spread <= tolerance {
        lines.push(format!(
            "  → all four agree (largest relative difference {spread:.1e}, tolerance {tolerance:.0e})"
        ));
    } else {
        lines.push(format!(
            "  → DISAGREE: relative difference {spread:.1e} exceeds the tolerance {tolerance:.0e}"
        ));
    }
    lines.push(String::new());
    lines.extend(step_lines(config, moment, rule.param));
    lines
}

/// Cross entropy, a parameter of the output layer: the first two factors multiply to
/// `p[k] − [class k is true]` ("Neural Networks Pt. 7"), SoftMax's probability minus the
/// one-hot target, checked here point by point against the factors shown.
fn softmax_identity(
    config: &Config,
    moment: &Moment,
    rule: &squiggle_train::ChainRule,
) -> Vec<String> {
    let loss = config.plan.loss();
    let (t, _, k) = config.names.connection(rule.param);
    let output_layer = config.names.tensors()[t].layer == config.arch.hidden.len();
    if !loss.is_cross_entropy() || !output_layer || rule.factors.len() < 2 {
        return Vec::new();
    }
    let data = &moment.rows;
    let scale = loss.scale(data.len(), data.outputs());
    let mut worst = 0.0f64;
    let mut shown = Vec::new();
    for i in 0..data.len() {
        let raw = config.arch.forward_host(&moment.values, &data.input_row(i));
        // For cross entropy the loss's gradient by the raw outputs is SoftMax − one-hot.
        let identity = scale * loss.row_gradient_host(raw.prediction(), &data.output_row(i))[k];
        let factors = rule.factors[0].values[i] * rule.factors[1].values[i];
        worst = worst.max((identity - factors).abs());
        if shown.len() < HEAD_ROWS {
            shown.push(num(identity));
        }
    }
    let more = if data.len() > shown.len() {
        ", …"
    } else {
        ""
    };
    let mean = if scale == 1.0 { "" } else { "(1/n)·" };
    vec![
        String::new(),
        format!(
            "  {} × {} = {mean}(p[{k}] − [class {k} is true]) at every point (largest difference {worst:.1e}):",
            rule.factors[0].name, rule.factors[1].name
        ),
        format!("    {}{more}", shown.join(", ")),
    ]
}

/// What the step did to parameter `i`: the lesson's rule written out, another optimizer's
/// move, a frozen value, or no step at all at a run's checkpoint.
fn step_lines(config: &Config, moment: &Moment, i: usize) -> Vec<String> {
    let name = config.names.name(i);
    let s = config.plan.loss().symbol();
    let Some(record) = &moment.step else {
        return vec![format!(
            "  {name} = {}: a trained run's parameter; no step is taken here.",
            num(moment.values[i])
        )];
    };
    let Some(p) = find(&record.params, i) else {
        return vec![format!(
            "  {name} is frozen: it keeps the value {}.",
            num(moment.values[i])
        )];
    };
    let lr = config.plan.learning_rate();
    let first = match config.plan.optimizer() {
        Optimizer::GradientDescent => format!(
            "  step size = d{s}/d{name} × learning rate = {} × {lr} = {}",
            num(p.derivative),
            num(p.step)
        ),
        other => format!(
            "  step size = {} (what {other} makes of this derivative and its running state)",
            num(p.step)
        ),
    };
    vec![
        first,
        format!(
            "  new {name} = old − step size = {} − ({}) = {}",
            num(p.value),
            num(p.step),
            num(p.new_value)
        ),
    ]
}

fn find(steps: &[ParamStep], i: usize) -> Option<&ParamStep> {
    steps.iter().find(|p| p.index == i)
}

fn param_json(config: &Config, moment: &Moment, d: &Explained, tolerance: f64) -> Value {
    let rule = &d.rule;
    let i = rule.param;
    let precision = config.plan.precision();
    let step = moment.step.as_ref().and_then(|r| find(&r.params, i));
    let factors: Vec<Value> = rule
        .factors
        .iter()
        .map(|f| json!({"name": f.name, "meaning": f.meaning, "values": f.values}))
        .collect();
    json!({
        "name": config.names.name(i),
        "value": exact(moment.values[i], precision),
        "trainable": config.plan.trainable()[i],
        "factors": factors,
        "products": rule.products,
        "chain_rule": d.chain_rule(),
        "burn_autodiff": d.burn_autodiff,
        "fused_backward": d.fused_backward,
        "finite_difference": d.finite_difference,
        "at_kink": d.at_kink,
        "agree": d.spread() <= tolerance,
        "step_size": step.map(|p| p.step),
        "new_value": step.map(|p| exact(p.new_value, precision)),
    })
}
