//! One-hot encoding of symbol sequences, shared by the letter tasks
//! (`ab_order`, `temporal_order`).

use crate::DataError;

/// An alphabet in one-hot order.
pub(crate) struct Alphabet {
    /// The symbols; symbol `i` sets feature `i`.
    pub(crate) symbols: &'static [char],
    /// The symbols as one string, for error messages.
    pub(crate) name: &'static str,
}

impl Alphabet {
    /// The feature index of `symbol`, found at `position` of a sequence.
    pub(crate) fn index(&self, symbol: char, position: usize) -> Result<usize, DataError> {
        self.symbols
            .iter()
            .position(|&c| c == symbol)
            .ok_or(DataError::UnknownSymbol {
                symbol,
                position,
                alphabet: self.name,
            })
    }

    /// One-hot rows of `seq`; with `padded_len`, pre-padded with all-zero
    /// rows to that many rows (an error if `seq` is longer).
    pub(crate) fn encode(
        &self,
        seq: &str,
        padded_len: Option<usize>,
    ) -> Result<Vec<f32>, DataError> {
        let n = self.symbols.len();
        let chars: Vec<char> = seq.chars().collect();
        let rows = padded_len.unwrap_or(chars.len());
        if chars.len() > rows {
            return Err(DataError::InvalidParameter {
                what: "sequence length",
                why: format!(
                    "a sequence of {} symbols does not fit a padded length of {rows}",
                    chars.len()
                ),
            });
        }
        let mut out = vec![0.0f32; rows * n];
        let offset = rows - chars.len();
        for (position, &symbol) in chars.iter().enumerate() {
            out[(offset + position) * n + self.index(symbol, position)?] = 1.0;
        }
        Ok(out)
    }

    /// Symbols of one-hot rows. All-zero rows are padding and dropped when
    /// `skip_padding`, an error otherwise; so is any row that is not one-hot.
    pub(crate) fn decode(&self, onehot: &[f32], skip_padding: bool) -> Result<String, DataError> {
        let n = self.symbols.len();
        if !onehot.len().is_multiple_of(n) {
            return Err(DataError::InvalidParameter {
                what: "one-hot input",
                why: format!("{} values is not a multiple of {n}", onehot.len()),
            });
        }
        let mut out = String::with_capacity(onehot.len() / n);
        for (position, row) in onehot.chunks(n).enumerate() {
            let zeros = row.iter().filter(|&&v| v == 0.0).count();
            if zeros == n && skip_padding {
                continue;
            }
            match row.iter().position(|&v| v == 1.0) {
                Some(i) if zeros == n - 1 => out.push(self.symbols[i]),
                _ => return Err(DataError::NotOneHot { position }),
            }
        }
        Ok(out)
    }
}
