//! Per-epoch training history, written and read as CSV.
//!
//! The CSV (`History::to_csv`) holds `epoch`, every metric column, and `lr`:
//! a pure function of the seed on CPU, so two runs with the same seed write
//! byte-identical files. Wall-clock seconds per epoch are kept in the
//! history too but written separately (`History::timing_csv`), because they
//! differ from run to run.

use crate::TrainError;
use std::path::Path;

/// One epoch of training.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Values in the order of [`History::columns`].
    pub values: Vec<f64>,
    /// Learning rate used during the epoch.
    pub lr: f64,
    /// Wall-clock seconds of the epoch (training and validation).
    pub seconds: f64,
}

/// The training history: metric columns and one record per epoch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    columns: Vec<String>,
    epochs: Vec<EpochRecord>,
}

impl History {
    /// An empty history with the given metric columns (e.g. `loss`, `accuracy`, `val_loss`).
    pub fn new(columns: Vec<String>) -> Self {
        Self {
            columns,
            epochs: Vec::new(),
        }
    }

    /// The metric column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The epochs recorded so far.
    pub fn epochs(&self) -> &[EpochRecord] {
        &self.epochs
    }

    /// Number of epochs recorded.
    pub fn len(&self) -> usize {
        self.epochs.len()
    }

    /// True if no epoch was recorded.
    pub fn is_empty(&self) -> bool {
        self.epochs.is_empty()
    }

    /// Appends an epoch; `values` must match the columns.
    pub fn push(&mut self, record: EpochRecord) -> Result<(), TrainError> {
        if record.values.len() != self.columns.len() {
            return Err(TrainError::InvalidConfig(format!(
                "history record has {} values for {} columns",
                record.values.len(),
                self.columns.len()
            )));
        }
        self.epochs.push(record);
        Ok(())
    }

    /// The values of one column over all epochs, if the column exists.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let i = self.columns.iter().position(|c| c == name)?;
        Some(self.epochs.iter().map(|e| e.values[i]).collect())
    }

    /// The last recorded value of a column.
    pub fn last(&self, name: &str) -> Option<f64> {
        self.column(name).and_then(|v| v.last().copied())
    }

    /// The 1-based epoch numbers, as `f64` (the x values of a plot, e.g.
    /// `seqlab_plot::plot_history(&h.epoch_numbers(), |c| h.column(c), ...)`).
    pub fn epoch_numbers(&self) -> Vec<f64> {
        self.epochs.iter().map(|e| e.epoch as f64).collect()
    }

    /// Learning rate per epoch.
    pub fn learning_rates(&self) -> Vec<f64> {
        self.epochs.iter().map(|e| e.lr).collect()
    }

    /// Total wall-clock seconds over all epochs.
    pub fn total_seconds(&self) -> f64 {
        self.epochs.iter().map(|e| e.seconds).sum()
    }

    /// The deterministic CSV: `epoch,<columns...>,lr`.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("epoch");
        for c in &self.columns {
            s.push(',');
            s.push_str(c);
        }
        s.push_str(",lr\n");
        for e in &self.epochs {
            s.push_str(&e.epoch.to_string());
            for v in &e.values {
                s.push(',');
                s.push_str(&fmt_value(*v));
            }
            s.push(',');
            s.push_str(&fmt_value(e.lr));
            s.push('\n');
        }
        s
    }

    /// The timing CSV: `epoch,seconds`.
    pub fn timing_csv(&self) -> String {
        let mut s = String::from("epoch,seconds\n");
        for e in &self.epochs {
            s.push_str(&format!("{},{:.4}\n", e.epoch, e.seconds));
        }
        s
    }

    /// Writes [`History::to_csv`] atomically.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<(), TrainError> {
        Ok(seqlab_io::write_atomic(path, self.to_csv().as_bytes())?)
    }

    /// Parses a CSV written by [`History::to_csv`] (timings are zero).
    pub fn from_csv(text: &str) -> Result<Self, TrainError> {
        let bad = |line: usize, why: String| {
            TrainError::InvalidConfig(format!("history CSV line {line}: {why}"))
        };
        let mut lines = text.lines();
        let header: Vec<&str> = lines
            .next()
            .ok_or_else(|| bad(1, "missing header".into()))?
            .split(',')
            .collect();
        if header.len() < 2 || header[0] != "epoch" || header[header.len() - 1] != "lr" {
            return Err(bad(
                1,
                format!("header must be epoch,...,lr, got {}", header.join(",")),
            ));
        }
        let columns: Vec<String> = header[1..header.len() - 1]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut h = History::new(columns);
        for (i, line) in lines.enumerate() {
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != header.len() {
                return Err(bad(
                    i + 2,
                    format!("{} fields, header has {}", fields.len(), header.len()),
                ));
            }
            let num = |s: &str| {
                s.parse::<f64>()
                    .map_err(|_| bad(i + 2, format!("not a number: {s:?}")))
            };
            let epoch = fields[0]
                .parse::<usize>()
                .map_err(|_| bad(i + 2, format!("bad epoch {:?}", fields[0])))?;
            let values = fields[1..fields.len() - 1]
                .iter()
                .map(|s| num(s))
                .collect::<Result<Vec<_>, _>>()?;
            let lr = num(fields[fields.len() - 1])?;
            h.push(EpochRecord {
                epoch,
                values,
                lr,
                seconds: 0.0,
            })?;
        }
        Ok(h)
    }
}

/// Shortest representation that parses back to the same f64.
fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip_and_columns() {
        let mut h = History::new(vec!["loss".into(), "val_loss".into()]);
        h.push(EpochRecord {
            epoch: 1,
            values: vec![0.5, 0.25],
            lr: 1e-3,
            seconds: 1.5,
        })
        .unwrap();
        h.push(EpochRecord {
            epoch: 2,
            values: vec![0.125, 0.3],
            lr: 5e-4,
            seconds: 2.0,
        })
        .unwrap();
        let csv = h.to_csv();
        assert_eq!(
            csv,
            "epoch,loss,val_loss,lr\n1,0.5,0.25,0.001\n2,0.125,0.3,0.0005\n"
        );
        let back = History::from_csv(&csv).unwrap();
        assert_eq!(back.column("val_loss").unwrap(), vec![0.25, 0.3]);
        assert_eq!(back.learning_rates(), vec![1e-3, 5e-4]);
        assert_eq!(h.last("loss"), Some(0.125));
        assert_eq!(h.total_seconds(), 3.5);
        assert_eq!(h.timing_csv(), "epoch,seconds\n1,1.5000\n2,2.0000\n");
        assert!(h
            .push(EpochRecord {
                epoch: 3,
                values: vec![1.0],
                lr: 0.1,
                seconds: 0.0
            })
            .is_err());
    }

    #[test]
    fn rejects_malformed_csv() {
        assert!(History::from_csv("").is_err());
        assert!(History::from_csv("epoch,loss\n").is_err());
        let err = History::from_csv("epoch,loss,lr\n1,abc,0.1\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(History::from_csv("epoch,loss,lr\n1,0.1\n").is_err());
    }
}
