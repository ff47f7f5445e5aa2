//! A streamed file trains as the same rows held in memory would, when its shuffle buffer
//! holds them all; with a smaller buffer it still visits every training row once an epoch.

use std::path::Path;

use rand::SeedableRng;
use rand::rngs::StdRng;
use squiggle_model::{Activation, Architecture};

use super::*;
use crate::data::{Columns, CsvOptions, Dataset, Labels, StreamScaling, read_csv};
use crate::data::{Prepared, Stream};
use crate::engine::Outcome;
use crate::engine::checkpoint::Checkpoint;
use crate::engine::checkpoint::Start;
use crate::engine::error::TrainError;
use crate::engine::loss::LossKind;
use crate::engine::observer::Collect;
use crate::engine::observer::{BatchProgress, Flow, Observer};
use crate::engine::report::{EpochReport, RunState};
use crate::fixtures::{device, random_data};
use crate::plan::Settings;
use crate::plan::{TrainMetrics, TrainPlan};

/// `data` written as a CSV file `d.csv` in `dir` (columns x1…, y).
fn write(dir: &Path, data: &Dataset) -> std::path::PathBuf {
    let mut text = String::from("a,b,y\n");
    for r in 0..data.len() {
        let row: Vec<String> = data
            .input_row(r)
            .into_iter()
            .chain(data.output_row(r))
            .map(|v| format!("{}", v as f32))
            .collect();
        text.push_str(&row.join(","));
        text.push('\n');
    }
    let path = dir.join("d.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn settings() -> Settings {
    Settings {
        epochs: Some(4),
        batch_size: Some(16),
        seed: Some(7),
        learning_rate: Some(0.05),
        ..Settings::default()
    }
}

fn scaling_of(plan: &TrainPlan) -> StreamScaling {
    match plan.epoch_plan() {
        Some(e) if e.rescale => StreamScaling::Rescale,
        Some(e) if e.standardize => StreamScaling::Standardize,
        _ => StreamScaling::None,
    }
}

fn open(path: &Path, columns: &Columns, plan: &TrainPlan, buffer: usize) -> Stream {
    let valid = plan.epoch_plan().and_then(|e| e.valid_fraction);
    Stream::open(
        path,
        columns,
        &CsvOptions::default(),
        valid,
        plan.seed(),
        crate::data::ShuffleBuffer::Rows(buffer),
        scaling_of(plan),
    )
    .unwrap()
}

/// The same file trained in memory and streamed with `buffer` rows of shuffle buffer.
fn both(
    path: &Path,
    columns: &Columns,
    arch: &Architecture,
    plan: &TrainPlan,
    buffer: usize,
) -> ((Outcome, Collect), (Outcome, Collect)) {
    let initial = squiggle_model::standard_normal_values(arch, 5);
    let data = read_csv(path, columns, &CsvOptions::default()).unwrap();
    let mut prepared = Prepared::new(data, None, plan);
    let mut held = Collect::default();
    let start = Start::Fresh(initial.clone());
    let a = crate::run::train(arch, start, &mut prepared, plan, &device(), &mut held).unwrap();
    let stream = open(path, columns, plan, buffer);
    let mut streamed = Collect::default();
    let start = Start::Fresh(initial);
    let b = train_stream(arch, start, &stream, None, plan, &device(), &mut streamed).unwrap();
    ((a, held), (b, streamed))
}

/// A file `c.csv` in `dir` of `rows` rows of two inputs and one of three classes (drawn with
/// `seed`), and the columns that read it.
fn classes(dir: &Path, rows: usize, seed: u64) -> (std::path::PathBuf, Columns) {
    let mut text = String::from("a,b,kind\n");
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..rows {
        let (a, b): (f32, f32) = (
            rand::RngExt::random(&mut rng),
            rand::RngExt::random(&mut rng),
        );
        let kind = ["red", "green", "blue"][usize::from(a > 0.5) + usize::from(b > 0.7)];
        text.push_str(&format!("{a},{b},{kind}\n"));
    }
    let path = dir.join("c.csv");
    std::fs::write(&path, text).unwrap();
    let columns = Columns {
        labels: Some(Labels::Found),
        ..Columns::default()
    };
    (path, columns)
}

fn close(a: &[f64], b: &[f64], tolerance: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tolerance * (1.0 + x.abs()), "{a:?}\n{b:?}");
    }
}

#[test]
fn a_stream_whose_buffer_holds_every_row_trains_as_the_rows_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let data = random_data(&mut StdRng::seed_from_u64(1), 300, 2, 1);
    let path = write(dir.path(), &data);
    let arch = Architecture::new(2, vec![4], 1, Activation::Softplus).unwrap();
    // Unshuffled and unscaled: the very same batches, the same bits.
    let mut s = settings();
    s.shuffle = Some(false);
    let plan = TrainPlan::new(&s, &arch, vec![true; arch.num_params()]).unwrap();
    let ((a, _), (b, _)) = both(&path, &Columns::default(), &arch, &plan, 1000);
    assert_eq!(a.params, b.params);
    // Shuffled (the order carried from epoch to epoch, as in memory), standardised with
    // statistics from one pass, full metrics from a second read: equal to rounding.
    for metrics in [TrainMetrics::Running, TrainMetrics::Full] {
        let mut s = settings();
        s.standardize = Some(true);
        s.train_metrics = Some(metrics);
        let plan = TrainPlan::new(&s, &arch, vec![true; arch.num_params()]).unwrap();
        let ((a, ka), (b, kb)) = both(&path, &Columns::default(), &arch, &plan, 300);
        close(&a.params, &b.params, 1e-5);
        let losses = |k: &Collect| k.epochs.iter().map(|e| e.train_loss).collect::<Vec<_>>();
        close(&losses(&ka), &losses(&kb), 1e-5);
        let r2 = |k: &Collect| k.epochs.iter().map(|e| e.train.r2).collect::<Vec<_>>();
        close(&r2(&ka), &r2(&kb), 1e-5);
    }
}

#[test]
fn a_streamed_classifier_trains_as_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (path, columns) = classes(dir.path(), 200, 2);
    let arch = Architecture::new(2, vec![5], 3, Activation::Relu).unwrap();
    let mut s = settings();
    s.loss = Some(LossKind::CrossEntropy);
    let plan = TrainPlan::new(&s, &arch, vec![true; arch.num_params()]).unwrap();
    let ((a, ka), (b, kb)) = both(&path, &columns, &arch, &plan, 500);
    assert_eq!(a.params, b.params);
    let confusion = |k: &Collect| k.epochs.last().unwrap().train_confusion.clone();
    assert_eq!(confusion(&ka), confusion(&kb));
}

#[test]
fn a_small_buffer_visits_every_training_row_once_an_epoch_in_a_seeded_order() {
    let dir = tempfile::tempdir().unwrap();
    let data = random_data(&mut StdRng::seed_from_u64(3), 500, 2, 1);
    let path = write(dir.path(), &data);
    let arch = Architecture::new(2, vec![2], 1, Activation::Softplus).unwrap();
    let mut s = settings();
    s.valid_fraction = Some(0.2);
    let plan = TrainPlan::new(&s, &arch, vec![true; arch.num_params()]).unwrap();
    let stream = open(&path, &Columns::default(), &plan, 32);
    // About a fifth of the rows validate, decided row by row.
    assert_eq!(stream.train_len() + stream.valid_len(), 500);
    assert!(
        (70..=130).contains(&stream.valid_len()),
        "{}",
        stream.valid_len()
    );
    let rows = |epoch| {
        let mut seen = Vec::new();
        stream
            .epoch(epoch, true, 10, None, |b: &Dataset| {
                assert!(b.len() <= 10);
                seen.extend((0..b.len()).map(|r| b.input_row(r)[0].to_bits()));
                Ok::<_, crate::data::csv::error::CsvError>(true)
            })
            .unwrap();
        seen
    };
    let first = rows(0);
    assert_eq!(first.len() as u64, stream.train_len());
    let mut expected: Vec<u64> = (0..500)
        .filter(|&r| !stream.is_valid(r))
        .map(|r| f64::from(data.input_row(r as usize)[0] as f32).to_bits())
        .collect();
    assert_ne!(first, expected, "shuffled");
    let mut sorted = first.clone();
    sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sorted, expected, "every training row once");
    assert_eq!(rows(0), first, "seeded");
    assert_ne!(rows(1), first, "a new order each epoch");
}

#[test]
fn a_streamed_run_resumed_at_an_epoch_ends_where_the_whole_run_ends() {
    let dir = tempfile::tempdir().unwrap();
    let data = random_data(&mut StdRng::seed_from_u64(4), 200, 2, 1);
    let path = write(dir.path(), &data);
    let arch = Architecture::new(2, vec![3], 1, Activation::Softplus).unwrap();
    let mut s = settings();
    s.valid_fraction = Some(0.25);
    s.standardize = Some(true);
    s.momentum = Some(0.9);
    let plan = TrainPlan::new(&s, &arch, vec![true; arch.num_params()]).unwrap();
    let stream = open(&path, &Columns::default(), &plan, 50);
    let initial = squiggle_model::standard_normal_values(&arch, 9);

    /// Keeps each epoch's checkpoint.
    #[derive(Default)]
    struct Keep(Vec<Checkpoint>, Vec<EpochReport>);
    impl Observer for Keep {
        type Error = TrainError;
        fn epoch(&mut self, r: &EpochReport, s: &RunState<'_>) -> Result<Flow, TrainError> {
            self.0.push(s.checkpoint()?);
            self.1.push(r.clone());
            Ok(Flow::Continue)
        }
    }
    let mut whole = Keep::default();
    let start = Start::Fresh(initial);
    let full = train_stream(&arch, start, &stream, None, &plan, &device(), &mut whole).unwrap();
    assert!(
        whole
            .1
            .iter()
            .all(|r| r.valid_loss.is_some_and(f64::is_finite))
    );
    let mut rest = Keep::default();
    let start = Start::Resume(Box::new(whole.0[1].clone()));
    let resumed = train_stream(&arch, start, &stream, None, &plan, &device(), &mut rest).unwrap();
    assert_eq!(resumed.params, full.params);
    let losses = |r: &[EpochReport]| -> Vec<(f64, Option<f64>)> {
        r.iter().map(|e| (e.train_loss, e.valid_loss)).collect()
    };
    assert_eq!(losses(&rest.1), losses(&whole.1[2..]));
}

/// A classifier stopped after `stop_after` batches of its second epoch and resumed from the
/// state it was stopped in ends as the run never stopped: the same parameters and the same
/// epochs, running confusion included; held in memory (`buffer` None) and streamed.
#[test]
fn a_run_stopped_inside_an_epoch_resumes_at_its_next_batch_in_memory_and_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let (path, columns) = classes(dir.path(), 300, 6);
    let arch = Architecture::new(2, vec![5], 3, Activation::Relu).unwrap();
    let mut s = settings();
    s.loss = Some(LossKind::CrossEntropy);
    s.optimizer = Some(crate::engine::optim::OptimizerKind::Adam);
    s.valid_fraction = Some(0.2);
    let plan = TrainPlan::new(&s, &arch, vec![true; arch.num_params()]).unwrap();
    let initial = squiggle_model::standard_normal_values(&arch, 3);

    /// Stops the run after `stop_after` batches of the second epoch, keeping the state.
    struct StopInside {
        stop_after: usize,
        batches: usize,
        paused: Option<Checkpoint>,
        epochs: Vec<EpochReport>,
    }
    impl Observer for StopInside {
        type Error = TrainError;
        fn batch(&mut self, p: &BatchProgress) -> Result<Flow, TrainError> {
            self.batches += usize::from(p.epoch == 1);
            Ok(match self.batches == self.stop_after {
                true => Flow::Stop,
                false => Flow::Continue,
            })
        }
        fn epoch(&mut self, r: &EpochReport, _: &RunState<'_>) -> Result<Flow, TrainError> {
            self.epochs.push(r.clone());
            Ok(Flow::Continue)
        }
        fn paused(&mut self, state: &RunState<'_>) -> Result<(), TrainError> {
            self.paused = Some(state.checkpoint()?);
            Ok(())
        }
    }
    let data = read_csv(&path, &columns, &CsvOptions::default()).unwrap();
    let stream = open(&path, &columns, &plan, 40);
    let run = |start: Start, streamed: bool, observer: &mut StopInside| match streamed {
        false => {
            let mut prepared = Prepared::new(data.clone(), None, &plan);
            crate::run::train(&arch, start, &mut prepared, &plan, &device(), observer).unwrap()
        }
        true => train_stream(&arch, start, &stream, None, &plan, &device(), observer).unwrap(),
    };
    for streamed in [false, true] {
        let watch = || StopInside {
            stop_after: usize::MAX,
            batches: 0,
            paused: None,
            epochs: Vec::new(),
        };
        let mut whole = watch();
        let full = run(Start::Fresh(initial.clone()), streamed, &mut whole);
        let mut stopped = StopInside {
            stop_after: 5,
            ..watch()
        };
        run(Start::Fresh(initial.clone()), streamed, &mut stopped);
        let paused = stopped.paused.expect("the state it stopped in");
        let within = paused.meta.progress.within.clone().unwrap();
        assert_eq!((paused.meta.progress.epoch, within.batches), (1, 5));
        assert_eq!(within.rows, 5 * 16);
        // Another batch size would make other batches: refused, naming both.
        let mut other = settings();
        other.loss = Some(LossKind::CrossEntropy);
        other.optimizer = Some(crate::engine::optim::OptimizerKind::Adam);
        other.valid_fraction = Some(0.2);
        other.batch_size = Some(8);
        let other = TrainPlan::new(&other, &arch, vec![true; arch.num_params()]).unwrap();
        let buffer = streamed.then(|| stream.buffered()).flatten();
        let refused = paused
            .check_resumable(&arch, stream.template(), &other, buffer)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("stopped inside epoch 2")
                && refused.contains("batch_size = 16")
                && refused.contains("batch_size = 8"),
            "{refused}"
        );
        let mut rest = watch();
        let resumed = run(Start::Resume(Box::new(paused)), streamed, &mut rest);
        assert_eq!(resumed.params, full.params, "streamed: {streamed}");
        let figures = |r: &[EpochReport]| -> Vec<_> {
            r.iter()
                .map(|e| (e.train_loss, e.valid_loss, e.train_confusion.clone()))
                .collect()
        };
        assert_eq!(figures(&rest.epochs), figures(&whole.epochs[1..]));
    }
}
