use crate::DataError;

/// A dense, row-major `f32` array with a shape. The first dimension is the
/// sample dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    data: Vec<f32>,
    shape: Vec<usize>,
}

impl Array {
    /// Wraps `data` with `shape`; fails if the sizes disagree or the shape is empty.
    pub fn new(data: Vec<f32>, shape: Vec<usize>) -> Result<Self, DataError> {
        if shape.is_empty() {
            return Err(DataError::InvalidParameter {
                what: "shape",
                why: "an array needs at least one dimension".into(),
            });
        }
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(DataError::ShapeMismatch {
                shape,
                expected,
                actual: data.len(),
            });
        }
        Ok(Self { data, shape })
    }

    /// The shape, sample dimension first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// All values in row-major order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Consumes the array and returns its storage.
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    /// Number of samples (the first dimension).
    pub fn len(&self) -> usize {
        self.shape[0]
    }

    /// True if there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of values per sample.
    pub fn row_len(&self) -> usize {
        self.shape[1..].iter().product()
    }

    /// The values of sample `i`. Panics if `i >= len()`; use [`Array::get_row`] for a checked version.
    pub fn row(&self, i: usize) -> &[f32] {
        let n = self.row_len();
        &self.data[i * n..(i + 1) * n]
    }

    /// The values of sample `i`, or an error if it is out of range.
    pub fn get_row(&self, i: usize) -> Result<&[f32], DataError> {
        if i >= self.len() {
            return Err(DataError::IndexOutOfRange {
                index: i,
                len: self.len(),
            });
        }
        Ok(self.row(i))
    }

    /// A new array holding the samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Result<Self, DataError> {
        let n = self.row_len();
        let mut data = Vec::with_capacity(indices.len() * n);
        for &i in indices {
            data.extend_from_slice(self.get_row(i)?);
        }
        let mut shape = self.shape.clone();
        shape[0] = indices.len();
        Ok(Self { data, shape })
    }
}

/// Targets of a data set: one class label per sample, or real values.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// Class indices `0..n_classes`.
    Classes(Vec<i64>),
    /// Real-valued targets (regression, sequence outputs), sample dimension first.
    Values(Array),
}

impl Targets {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes(c) => c.len(),
            Targets::Values(a) => a.len(),
        }
    }

    /// True if there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn select(&self, indices: &[usize]) -> Result<Self, DataError> {
        match self {
            Targets::Classes(c) => indices
                .iter()
                .map(|&i| {
                    c.get(i).copied().ok_or(DataError::IndexOutOfRange {
                        index: i,
                        len: c.len(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Targets::Classes),
            Targets::Values(a) => a.select(indices).map(Targets::Values),
        }
    }
}

/// Inputs and targets with the same number of samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    inputs: Array,
    targets: Targets,
}

impl Dataset {
    /// Pairs inputs with targets; fails if their sample counts differ.
    pub fn new(inputs: Array, targets: Targets) -> Result<Self, DataError> {
        if inputs.len() != targets.len() {
            return Err(DataError::CountMismatch {
                inputs: inputs.len(),
                targets: targets.len(),
            });
        }
        Ok(Self { inputs, targets })
    }

    /// The inputs.
    pub fn inputs(&self) -> &Array {
        &self.inputs
    }

    /// The targets.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// The class labels, or an error if the targets are real values.
    pub fn class_labels(&self) -> Result<&[i64], DataError> {
        match &self.targets {
            Targets::Classes(c) => Ok(c),
            Targets::Values(_) => Err(DataError::WrongTargets { expected: "class" }),
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// True if there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Result<Self, DataError> {
        Ok(Self {
            inputs: self.inputs.select(indices)?,
            targets: self.targets.select(indices)?,
        })
    }

    /// The first `n` samples (all of them if `n >= len()`).
    pub fn head(&self, n: usize) -> Self {
        let idx: Vec<usize> = (0..n.min(self.len())).collect();
        // Indices are in range by construction.
        self.select(&idx)
            .unwrap_or_else(|_| unreachable!("head indices are in range"))
    }

    /// Splits into the first `n` samples and the rest.
    pub fn split_at(&self, n: usize) -> Result<(Self, Self), DataError> {
        if n > self.len() {
            return Err(DataError::IndexOutOfRange {
                index: n,
                len: self.len(),
            });
        }
        let first: Vec<usize> = (0..n).collect();
        let rest: Vec<usize> = (n..self.len()).collect();
        Ok((self.select(&first)?, self.select(&rest)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Dataset {
        let x = Array::new((0..12).map(|v| v as f32).collect(), vec![4, 3]).unwrap();
        Dataset::new(x, Targets::Classes(vec![0, 1, 2, 3])).unwrap()
    }

    #[test]
    fn shape_checks() {
        assert_eq!(
            Array::new(vec![0.0; 5], vec![2, 3]).unwrap_err(),
            DataError::ShapeMismatch {
                shape: vec![2, 3],
                expected: 6,
                actual: 5
            }
        );
        let x = Array::new(vec![0.0; 6], vec![2, 3]).unwrap();
        let err = Dataset::new(x, Targets::Classes(vec![0])).unwrap_err();
        assert_eq!(err.to_string(), "inputs hold 2 samples but targets hold 1");
    }

    #[test]
    fn select_head_split() {
        let d = toy();
        let s = d.select(&[3, 0]).unwrap();
        assert_eq!(s.inputs().data(), &[9.0, 10.0, 11.0, 0.0, 1.0, 2.0]);
        assert_eq!(s.class_labels().unwrap(), &[3, 0]);
        assert_eq!(d.head(2).class_labels().unwrap(), &[0, 1]);
        assert_eq!(d.head(99).len(), 4);
        let (a, b) = d.split_at(1).unwrap();
        assert_eq!((a.len(), b.len()), (1, 3));
        assert!(d.split_at(5).is_err());
        assert_eq!(
            d.select(&[4]).unwrap_err(),
            DataError::IndexOutOfRange { index: 4, len: 4 }
        );
    }
}
