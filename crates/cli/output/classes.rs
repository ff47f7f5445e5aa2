//! A classifier's results as the terminal and `--json` show them: the confusion matrix with
//! each class's precision and recall, and per-point SoftMax probabilities.

use serde_json::json;
use squiggle_train::{Confusion, EpochReport};

use squiggle_train::format::plural;

/// An epoch's confusion matrices by split: `train`, then `valid` when rows validate; none for
/// a regression.
pub fn of_report(r: &EpochReport) -> Vec<(&'static str, &Confusion)> {
    [
        ("train", r.train_confusion.as_ref()),
        ("valid", r.valid_confusion.as_ref()),
    ]
    .into_iter()
    .filter_map(|(split, c)| Some((split, c?)))
    .collect()
}

/// The matrix as a table: one row per true class with its recall, one column per predicted
/// class, the precision of each predicted class under it, then the accuracy.
pub fn table(label: &str, c: &Confusion) -> Vec<String> {
    let width = c
        .classes
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(9)
        + 2;
    let column = |text: &str| format!("{text:>width$}");
    let mut lines = vec![format!(
        "Confusion matrix, {label} ({}): rows are the true classes, columns the predicted ones (ArgMax).",
        plural(c.rows() as usize, "row")
    )];
    let mut header = format!("{:<width$}", "");
    for name in &c.classes {
        header += &column(name);
    }
    header += &column("recall");
    lines.push(header);
    for (k, name) in c.classes.iter().enumerate() {
        let mut line = format!("{name:<width$}");
        for count in &c.counts[k] {
            line += &column(&count.to_string());
        }
        line += &column(&share(c.recall(k)));
        lines.push(line);
    }
    let mut line = format!("{:<width$}", "precision");
    for k in 0..c.classes.len() {
        line += &column(&share(c.precision(k)));
    }
    lines.push(line);
    lines.push(format!("accuracy {}", share(Some(c.accuracy()))));
    lines
}

/// `0.9667`, or `n/a` for a class no row has (recall) or none is predicted as (precision).
pub fn share(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"))
}

/// `{"classes", "matrix", "accuracy", "precision", "recall", "cross_entropy"}`.
pub fn json(c: &Confusion) -> serde_json::Value {
    let by_class = |f: &dyn Fn(usize) -> Option<f64>| {
        c.classes
            .iter()
            .enumerate()
            .map(|(k, name)| (name.clone(), json!(f(k))))
            .collect::<serde_json::Map<_, _>>()
    };
    json!({
        "rows": c.rows(),
        "classes": c.classes,
        "matrix": c.counts,
        "accuracy": c.accuracy(),
        "precision": by_class(&|k| c.precision(k)),
        "recall": by_class(&|k| c.recall(k)),
        "cross_entropy": c.cross_entropy,
    })
}
