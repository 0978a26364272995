//! `Const`, `Identity` and the broadcasting rule.

use super::{Naming, Op};
use crate::error::Result;
use crate::scope::Scope;
use crate::tensor::{Tensor, Value};

/// The shape NumPy/TensorFlow broadcasting gives two shapes, if they fit.
///
/// ```
/// use varscope::ops::broadcast_shapes;
/// assert_eq!(broadcast_shapes(&[8, 1, 3], &[4, 3]), Some(vec![8, 4, 3]));
/// assert_eq!(broadcast_shapes(&[2], &[3]), None);
/// ```
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| if i + s.len() >= rank { s[i + s.len() - rank] } else { 1 };
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

impl Scope {
    /// A constant (TF's `tf.constant`, op `Const`, default name `Const`).
    pub fn constant(&self, value: impl Into<Value>) -> Result<Tensor> {
        let value = value.into();
        self.record_op(Naming::Direct { default: "Const" }, "Const", Op::Const, &[], |_| Ok(()), |_, _| Ok(value))
    }

    /// The same value under a new name (op and default name `Identity`).
    pub fn identity(&self, x: &Tensor) -> Result<Tensor> {
        self.record_op(
            Naming::Helper { default: "Identity" },
            "Identity",
            Op::Identity,
            &[x],
            |_| Ok(()),
            |_, v| Ok(v[0].clone()),
        )
    }
}
