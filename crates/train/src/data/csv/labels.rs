//! Class labels and categories as they are read: each piece of the file numbers the labels it
//! meets, and the pieces are merged in file order into the data set's classes (or a
//! categorical input's categories).

use std::collections::HashMap;

use crate::data::csv::error::CsvProblem;

use super::{Labels, MAX_CLASSES};

/// What a column of labels holds: a classifier's classes, or a categorical input's categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Class,
    Category,
}

/// The classes every label must name, when the config or the run fixed them.
pub(super) struct Known<'a> {
    names: &'a [String],
    from: &'static str,
    kind: Kind,
    index: HashMap<&'a str, u32>,
}

impl<'a> Known<'a> {
    /// `None` when the file's own labels decide the classes.
    pub(super) fn new(labels: &'a Labels, kind: Kind) -> Option<Self> {
        match labels {
            Labels::Found => None,
            Labels::Known { names, from } => Some(Self {
                names,
                from,
                kind,
                index: names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.as_str(), i as u32))
                    .collect(),
            }),
        }
    }
}

/// One piece's labels: with known classes, their indices; otherwise indices into the labels
/// this piece met first, each with the line (relative to the piece) where it first appeared.
#[derive(Default)]
pub(super) struct PieceLabels {
    pub(super) ids: Vec<u32>,
    found: Vec<(String, u64)>,
    index: HashMap<String, u32>,
}

impl PieceLabels {
    /// Adds the label in `cell` (not empty: an empty label is a missing value), met on `line`.
    pub(super) fn add(
        &mut self,
        cell: &[u8],
        line: u64,
        known: Option<&Known>,
        kind: Kind,
    ) -> Result<(), CsvProblem> {
        let text = std::str::from_utf8(cell).map_err(|_| CsvProblem::NotText)?;
        if let Some(known) = known {
            let &id = known.index.get(text).ok_or_else(|| {
                CsvProblem::UnknownLabel(Box::new(crate::data::csv::error::UnknownLabel {
                    label: text.to_string(),
                    which: known.from,
                    known: known.names.to_vec(),
                    category: known.kind == Kind::Category,
                }))
            })?;
            self.ids.push(id);
            return Ok(());
        }
        if let Some(&id) = self.index.get(text) {
            self.ids.push(id);
            return Ok(());
        }
        if self.found.len() >= MAX_CLASSES {
            return Err(too_many(kind));
        }
        let id = self.found.len() as u32;
        self.found.push((text.to_string(), line));
        self.index.insert(text.to_string(), id);
        self.ids.push(id);
        Ok(())
    }
}

/// More distinct labels than [`MAX_CLASSES`].
fn too_many(kind: Kind) -> CsvProblem {
    match kind {
        Kind::Class => CsvProblem::TooManyClasses { max: MAX_CLASSES },
        Kind::Category => CsvProblem::TooManyCategories { max: MAX_CLASSES },
    }
}

/// The labels of the whole file, merged piece by piece.
pub(super) struct ClassBuilder {
    known: bool,
    kind: Kind,
    /// The classes in the order they were first met (all of them when known).
    names: Vec<String>,
    index: HashMap<String, u32>,
    pub(super) labels: Vec<u32>,
}

impl ClassBuilder {
    pub(super) fn new(known: Option<&Known>, kind: Kind) -> Self {
        Self {
            known: known.is_some(),
            kind,
            names: known.map_or_else(Vec::new, |k| k.names.to_vec()),
            index: HashMap::new(),
            labels: Vec::new(),
        }
    }

    /// Reserves room for `rows` more labels.
    pub(super) fn try_reserve(
        &mut self,
        rows: usize,
    ) -> Result<(), std::collections::TryReserveError> {
        self.labels.try_reserve(rows)
    }

    /// Appends a piece's labels; the error names the line (relative to the piece) of the
    /// first label beyond [`MAX_CLASSES`] distinct ones.
    pub(super) fn merge(&mut self, piece: PieceLabels) -> Result<(), (u64, CsvProblem)> {
        if self.known {
            self.labels.extend_from_slice(&piece.ids);
            return Ok(());
        }
        let mut global = Vec::with_capacity(piece.found.len());
        for (name, line) in piece.found {
            let id = match self.index.get(&name) {
                Some(&id) => id,
                None if self.names.len() >= MAX_CLASSES => return Err((line, too_many(self.kind))),
                None => {
                    let id = self.names.len() as u32;
                    self.index.insert(name.clone(), id);
                    self.names.push(name);
                    id
                }
            };
            global.push(id);
        }
        self.labels
            .extend(piece.ids.iter().map(|&local| global[local as usize]));
        Ok(())
    }

    /// The class names in output order and each row's class: known classes as given; found
    /// ones sorted (numerically when every label is an integer), so that the same data gives
    /// the same output order whatever its row order. A classifier needs two classes; a
    /// categorical input may have one category.
    pub(super) fn finish(self) -> Result<(Vec<String>, Vec<u32>), CsvProblem> {
        if self.known {
            return Ok((self.names, self.labels));
        }
        if self.names.len() < 2 && self.kind == Kind::Class {
            return Err(CsvProblem::OneClass { found: self.names });
        }
        let mut order: Vec<usize> = (0..self.names.len()).collect();
        let integers: Option<Vec<i64>> = self.names.iter().map(|n| n.parse().ok()).collect();
        match integers {
            Some(values) => order.sort_by_key(|&i| values[i]),
            None => order.sort_by(|&a, &b| self.names[a].cmp(&self.names[b])),
        }
        let mut rank = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            rank[old] = new as u32;
        }
        let names = order.iter().map(|&i| self.names[i].clone()).collect();
        let mut labels = self.labels;
        for label in &mut labels {
            *label = rank[*label as usize];
        }
        Ok((names, labels))
    }
}
