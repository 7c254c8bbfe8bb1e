//! Keras-like model summaries.
//!
//! A [`Summary`] lists each layer with its output shape and parameter count,
//! and the totals. Recurrent layers differ between frameworks: libtorch
//! keeps two bias vectors per gate block (`b_ih` and `b_hh`), Keras one, so
//! an LSTM has `4H(in+H+2)` parameters here and `4H(in+H+1)` in Keras. Every
//! row therefore carries both counts, and [`Summary`]'s `Display` shows the
//! Keras column whenever it differs.

use std::fmt;

/// One layer of a summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    /// Layer name (its variable-store path).
    pub name: String,
    /// Layer type, e.g. `LSTM` or `Dense`.
    pub layer: String,
    /// Output shape with `None` for the batch dimension, like Keras.
    pub output_shape: String,
    /// Parameters as stored in libtorch.
    pub params: i64,
    /// Parameters as Keras would count them for the same layer.
    pub keras_params: i64,
    /// Parameters not trained by the optimiser (e.g. batch-norm statistics).
    pub non_trainable: i64,
}

/// A model summary table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// Model name.
    pub name: String,
    /// Layers in order.
    pub rows: Vec<SummaryRow>,
}

impl Summary {
    /// Total parameters as stored in libtorch.
    pub fn total_params(&self) -> i64 {
        self.rows.iter().map(|r| r.params).sum()
    }

    /// Total parameters as Keras counts them.
    pub fn total_keras_params(&self) -> i64 {
        self.rows.iter().map(|r| r.keras_params).sum()
    }

    /// Trainable parameters (libtorch count).
    pub fn trainable_params(&self) -> i64 {
        self.rows.iter().map(|r| r.params - r.non_trainable).sum()
    }

    /// Parameters the optimiser does not train (batch-norm statistics);
    /// the same in both counts.
    pub fn non_trainable_params(&self) -> i64 {
        self.rows.iter().map(|r| r.non_trainable).sum()
    }

    /// Trainable parameters as Keras counts them (its summary's
    /// "Trainable params" line).
    pub fn keras_trainable_params(&self) -> i64 {
        self.total_keras_params() - self.non_trainable_params()
    }

    fn shows_keras(&self) -> bool {
        self.rows.iter().any(|r| r.params != r.keras_params)
    }
}

/// Formats an output shape with a leading `None` batch dimension.
pub fn shape_str(dims: &[i64]) -> String {
    let mut s = String::from("(None");
    for d in dims {
        s.push_str(&format!(", {d}"));
    }
    s.push(')');
    s
}

/// `n` with thousands separators: `652,577`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keras = self.shows_keras();
        let name_w = self
            .rows
            .iter()
            .map(|r| r.name.len() + r.layer.len() + 3)
            .max()
            .unwrap_or(0)
            .max(18);
        let shape_w = self
            .rows
            .iter()
            .map(|r| r.output_shape.len())
            .max()
            .unwrap_or(0)
            .max(14);
        let width = name_w + shape_w + 12 + if keras { 14 } else { 0 } + 4;
        writeln!(f, "Model: \"{}\"", self.name)?;
        writeln!(f, "{}", "=".repeat(width))?;
        write!(
            f,
            "{:<name_w$}  {:<shape_w$}  {:>10}",
            "Layer (type)", "Output Shape", "Param #"
        )?;
        if keras {
            write!(f, "  {:>12}", "Keras Param #")?;
        }
        writeln!(f)?;
        writeln!(f, "{}", "-".repeat(width))?;
        for r in &self.rows {
            let label = format!("{} ({})", r.name, r.layer);
            write!(
                f,
                "{label:<name_w$}  {:<shape_w$}  {:>10}",
                r.output_shape,
                thousands(r.params)
            )?;
            if keras {
                write!(f, "  {:>12}", thousands(r.keras_params))?;
            }
            writeln!(f)?;
        }
        writeln!(f, "{}", "=".repeat(width))?;
        writeln!(f, "Total params: {}", thousands(self.total_params()))?;
        writeln!(
            f,
            "Trainable params: {}",
            thousands(self.trainable_params())
        )?;
        writeln!(
            f,
            "Non-trainable params: {}",
            thousands(self.total_params() - self.trainable_params())
        )?;
        if keras {
            writeln!(
                f,
                "Keras would count {} params (trainable {}, non-trainable {}): libtorch recurrent layers keep two bias vectors (b_ih, b_hh) where Keras keeps one.",
                thousands(self.total_keras_params()),
                thousands(self.keras_trainable_params()),
                thousands(self.non_trainable_params())
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_counts_and_keras_note() {
        let s = Summary {
            name: "m".into(),
            rows: vec![
                SummaryRow {
                    name: "lstm".into(),
                    layer: "LSTM".into(),
                    output_shape: shape_str(&[32]),
                    params: 12_544,
                    keras_params: 12_416,
                    non_trainable: 0,
                },
                SummaryRow {
                    name: "bn".into(),
                    layer: "BatchNormalization".into(),
                    output_shape: shape_str(&[32]),
                    params: 128,
                    keras_params: 128,
                    non_trainable: 64,
                },
                SummaryRow {
                    name: "dense".into(),
                    layer: "Dense".into(),
                    output_shape: shape_str(&[1]),
                    params: 33,
                    keras_params: 33,
                    non_trainable: 0,
                },
            ],
        };
        let text = s.to_string();
        assert!(text.contains("lstm (LSTM)"), "{text}");
        assert!(text.contains("(None, 32)"));
        assert!(text.contains("12,544") && text.contains("12,416"));
        assert!(text.contains("Total params: 12,705"));
        assert!(text.contains("Trainable params: 12,641"));
        assert!(text.contains("Non-trainable params: 64"));
        // The book's LSTM layer, batch norm and head: 12,416 + 128 + 33.
        assert!(
            text.contains("Keras would count 12,577 params (trainable 12,513, non-trainable 64)"),
            "{text}"
        );
        assert_eq!(s.keras_trainable_params(), 12_513);
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
