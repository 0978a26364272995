//! Variables and the request to get or create one.

use std::ops::Deref;

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::Init;
use crate::regularizer::Regularizer;
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

/// What `get_variable` (or a plain `variable`) is asked for.
///
/// A shape is needed to create a variable; without one, `get_variable` only
/// looks an existing variable up. Shapes convert directly:
///
/// ```
/// use varscope::{DType, Init, VarSpec};
/// let spec: VarSpec = [5, 5, 32, 32].into();
/// let spec = VarSpec::new().shape([32]).init(Init::constant(0.0)).dtype(DType::F32);
/// # let _ = spec;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct VarSpec {
    pub(crate) shape: Option<Vec<usize>>,
    pub(crate) dtype: Option<DType>,
    pub(crate) init: Option<Init>,
    pub(crate) regularizer: Option<Regularizer>,
    pub(crate) trainable: bool,
}

impl Default for VarSpec {
    fn default() -> VarSpec {
        VarSpec::new()
    }
}

impl VarSpec {
    /// No shape (a lookup), the scope's dtype and initializer, trainable.
    pub fn new() -> VarSpec {
        VarSpec { shape: None, dtype: None, init: None, regularizer: None, trainable: true }
    }

    /// A lookup of an existing variable: same as [`VarSpec::new`].
    pub fn lookup() -> VarSpec {
        VarSpec::new()
    }

    /// Sets the shape.
    pub fn shape(mut self, shape: impl AsRef<[usize]>) -> VarSpec {
        self.shape = Some(shape.as_ref().to_vec());
        self
    }

    /// Sets the dtype (default: the scope's, else `float32`).
    pub fn dtype(mut self, dtype: DType) -> VarSpec {
        self.dtype = Some(dtype);
        self
    }

    /// Sets the initializer (default: the scope's, else TF's default).
    pub fn init(mut self, init: Init) -> VarSpec {
        self.init = Some(init);
        self
    }

    /// Sets the regularizer run when `get_variable` creates the variable (default: the
    /// scope's); see [`Regularizer`].
    pub fn regularizer(mut self, regularizer: Regularizer) -> VarSpec {
        self.regularizer = Some(regularizer);
        self
    }

    /// Whether the variable joins the trainable collection (default `true`).
    pub fn trainable(mut self, trainable: bool) -> VarSpec {
        self.trainable = trainable;
        self
    }
}

impl<const N: usize> From<[usize; N]> for VarSpec {
    fn from(shape: [usize; N]) -> VarSpec {
        VarSpec::new().shape(shape)
    }
}

impl From<&[usize]> for VarSpec {
    fn from(shape: &[usize]) -> VarSpec {
        VarSpec::new().shape(shape)
    }
}

impl From<Vec<usize>> for VarSpec {
    fn from(shape: Vec<usize>) -> VarSpec {
        VarSpec { shape: Some(shape), ..VarSpec::new() }
    }
}
