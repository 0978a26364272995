//! Variables: named tensors whose value persists and can be assigned.

use std::ops::Deref;

use crate::error::{Error, Result};
use crate::tensor::{Origin, Tensor, Value};

/// A variable: a named tensor whose value persists and can be assigned.
///
/// It derefs to its [`Tensor`], so it can be passed wherever ops take
/// `&Tensor`. Clones share identity; [`Variable::same`] compares it.
#[derive(Clone)]
pub struct Variable {
    pub(crate) tensor: Tensor,
}

impl Deref for Variable {
    type Target = Tensor;
    fn deref(&self) -> &Tensor {
        &self.tensor
    }
}

impl std::fmt::Debug for Variable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Variable")
            .field("name", &self.name())
            .field("dtype", &self.dtype())
            .field("shape", &self.shape())
            .field("trainable", &self.trainable())
            .finish()
    }
}

impl Variable {
    /// The variable's tensor.
    pub fn tensor(&self) -> &Tensor {
        &self.tensor
    }

    /// Whether the variable is in the trainable collection.
    pub fn trainable(&self) -> bool {
        matches!(self.tensor.origin(), Origin::Variable { trainable: true })
    }

    /// Whether both handles are the same variable.
    pub fn same(&self, other: &Variable) -> bool {
        self.tensor.same(&other.tensor)
    }

    /// Replaces the value; its dtype and shape must be the variable's.
    pub fn assign(&self, value: impl Into<Value>) -> Result<()> {
        let value = value.into();
        if value.dtype() != self.dtype() {
            return Err(Error::invalid(format!(
                "cannot assign a {} value to variable `{}` of dtype {}: convert the value first",
                value.dtype(),
                self.op_name(),
                self.dtype()
            )));
        }
        if value.shape() != self.shape() {
            return Err(Error::invalid(format!(
                "cannot assign a value of shape {} to variable `{}` of shape {}",
                crate::error::fmt_shape(value.shape()),
                self.op_name(),
                crate::error::fmt_shape(self.shape())
            )));
        }
        self.tensor.set_value(value);
        Ok(())
    }
}
