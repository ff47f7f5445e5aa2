//! The rows a run learns from and is measured on, prepared the way the plan trains: the
//! validation split and the standardisation belong to training, so every command that looks
//! at a run (train, eval, explain, gradcheck, plot) sees the same rows in the same units.

use crate::data::{Dataset, Scaling, Split};
use crate::plan::TrainPlan;

/// A run's data: the training rows, the validation rows and the standardisation applied to
/// both.
#[derive(Clone, Debug)]
pub struct Prepared {
    data: Dataset,
    train: Vec<u32>,
    valid: Option<Valid>,
    scaling: Option<Scaling>,
}

/// Validation rows: some rows of the training data set, or a data set of their own.
#[derive(Clone, Debug)]
struct Valid {
    /// `None`: rows of the training data set.
    data: Option<Dataset>,
    rows: Vec<u32>,
}

impl Prepared {
    /// Prepares `data` for `plan`. Step by step, every row trains, in order, unscaled. By
    /// epochs, `valid_fraction` of the rows (drawn with the seed) are held out, or `valid`
    /// (rows read from a file of their own) validates; with `standardize`, every column is
    /// scaled with the training rows' statistics, validation rows included.
    pub fn new(data: Dataset, valid: Option<Dataset>, plan: &TrainPlan) -> Self {
        let epochs = plan.epoch_plan();
        let standardize = epochs.is_some_and(|e| e.standardize);
        let rescale = epochs.is_some_and(|e| e.rescale);
        Self::build(data, valid, plan, |data, rows| {
            if rescale {
                Some(Scaling::fit_range(data, rows))
            } else {
                standardize.then(|| Scaling::fit(data, rows))
            }
        })
    }

    /// Prepares `data` as [`Prepared::new`], but standardised with `scaling` (a resumed run's
    /// own statistics, so it keeps training in the units it started in) or not at all.
    pub fn resumed(
        data: Dataset,
        valid: Option<Dataset>,
        plan: &TrainPlan,
        scaling: Option<Scaling>,
    ) -> Self {
        Self::build(data, valid, plan, |_, _| scaling)
    }

    fn build(
        mut data: Dataset,
        valid: Option<Dataset>,
        plan: &TrainPlan,
        scaling: impl FnOnce(&Dataset, &[u32]) -> Option<Scaling>,
    ) -> Self {
        let fraction = plan.epoch_plan().and_then(|e| e.valid_fraction);
        let Split { train, valid: held } = match fraction {
            Some(f) => Split::random(data.len(), f, plan.seed()),
            None => Split::all(data.len()),
        };
        let mut valid = match (valid, fraction) {
            (Some(file), _) => Some(Valid {
                rows: Split::all(file.len()).train,
                data: Some(file),
            }),
            (None, Some(_)) => Some(Valid {
                data: None,
                rows: held,
            }),
            (None, None) => None,
        };
        let scaling = scaling(&data, &train);
        if let Some(s) = &scaling {
            s.apply(&mut data);
            if let Some(Valid {
                data: Some(file), ..
            }) = &mut valid
            {
                s.apply(file);
            }
        }
        Self {
            data,
            train,
            valid,
            scaling,
        }
    }

    /// The training data set (standardised when the plan says so).
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// The training rows, as indices into [`Prepared::data`].
    pub fn train_rows(&self) -> &[u32] {
        &self.train
    }

    /// Takes the training rows out, for the epoch loop to shuffle without a second copy;
    /// [`Prepared::put_train_rows`] puts them back.
    pub(crate) fn take_train_rows(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.train)
    }

    /// Puts back the rows of [`Prepared::take_train_rows`].
    pub(crate) fn put_train_rows(&mut self, rows: Vec<u32>) {
        self.train = rows;
    }

    /// The validation rows and the data set they index, if the run validates.
    pub fn valid(&self) -> Option<(&Dataset, &[u32])> {
        self.valid
            .as_ref()
            .map(|v| (v.data.as_ref().unwrap_or(&self.data), v.rows.as_slice()))
    }

    /// Number of validation rows (0 without validation).
    pub fn valid_len(&self) -> usize {
        self.valid.as_ref().map_or(0, |v| v.rows.len())
    }

    /// The standardisation applied, if any.
    pub fn scaling(&self) -> Option<&Scaling> {
        self.scaling.as_ref()
    }

    /// The training rows as a data set of their own (in training units).
    pub fn train_data(&self) -> Dataset {
        self.data.subset(&self.train)
    }

    /// The validation rows as a data set of their own (in training units).
    pub fn valid_data(&self) -> Option<Dataset> {
        self.valid().map(|(data, rows)| data.subset(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Settings;
    use squiggle_model::Architecture;

    fn plan(settings: Settings) -> TrainPlan {
        TrainPlan::new(&settings, &Architecture::statquest(), vec![true; 7]).unwrap()
    }

    fn ramp(rows: usize) -> Dataset {
        let rows: Vec<Vec<f64>> = (0..rows).map(|i| vec![i as f64, 2.0 * i as f64]).collect();
        Dataset::from_rows(&rows, 1, 1).unwrap()
    }

    #[test]
    fn step_by_step_every_row_trains_unscaled() {
        let p = Prepared::new(ramp(5), None, &plan(Settings::default()));
        assert_eq!(p.train_rows(), [0, 1, 2, 3, 4]);
        assert!(p.valid().is_none() && p.scaling().is_none());
        assert_eq!(p.data().input_row(4), [4.0]);
    }

    #[test]
    fn by_epochs_the_split_and_the_scaling_follow_the_plan() {
        let settings = Settings {
            epochs: Some(1),
            valid_fraction: Some(0.2),
            standardize: Some(true),
            ..Settings::default()
        };
        let p = Prepared::new(ramp(10), None, &plan(settings));
        assert_eq!((p.train_rows().len(), p.valid_len()), (8, 2));
        // Statistics of the training rows only: they average to 0.
        let train = p.train_data();
        let mean: f64 = (0..train.len()).map(|i| train.input_row(i)[0]).sum::<f64>() / 8.0;
        assert!(mean.abs() < 1e-6, "{mean}");
        let file = Prepared::new(
            ramp(10),
            Some(ramp(3)),
            &plan(Settings {
                epochs: Some(1),
                valid_csv: true,
                ..Settings::default()
            }),
        );
        assert_eq!((file.train_rows().len(), file.valid_len()), (10, 3));
        assert_eq!(file.valid_data().unwrap().observed(), [0.0, 2.0, 4.0]);
    }
}
