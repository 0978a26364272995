//! `get_variable`, plain variables, and what they are asked for (`VarSpec`).

use super::Scope;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::Init;
use crate::regularizer::Regularizer;
use crate::store::{Reuse, add_variable, create_variable, reuse_found};
use crate::variable::Variable;

impl Scope {
    /// Gets the variable `name` of the current variable scope, or creates it
    /// (TF's `tf.get_variable`).
    ///
    /// Whether it may create or reuse follows the scope's [`Reuse`]. Reusing
    /// checks the shape (if one is given) and the dtype (the given one, else
    /// the scope's). Creating needs a shape; the initializer is the given one,
    /// else the scope's, else TF's default. Name scopes play no part in the
    /// name.
    pub fn get_variable(&self, name: &str, spec: impl Into<VarSpec>) -> Result<Variable> {
        let spec = spec.into();
        // Borrowed, not cloned: a clone of a shared `Arc` is a write to a
        // cache line every thread's lookups would share.
        let scope = &self.current;
        // The full name is joined in the scope's reused buffer, so a reusing lookup allocates
        // nothing for it; only creation and errors own a copy.
        let mut buf = self.name_buf.try_borrow_mut().ok();
        let heap;
        let full: &str = match buf.as_deref_mut() {
            Some(buf) => {
                buf.clear();
                if !scope.name().is_empty() {
                    buf.push_str(scope.name());
                    buf.push('/');
                }
                buf.push_str(name);
                buf
            }
            None if scope.name().is_empty() => name,
            None => {
                heap = format!("{}/{name}", scope.name());
                &heap
            }
        };
        let dtype = spec.dtype.unwrap_or(scope.dtype());
        let reuse = scope.reuse();
        let graph = &self.graph;
        // The reusing path reads the store alone, so lookups from many
        // threads do not wait for one another.
        let cached = self.seen.try_borrow().ok().and_then(|seen| seen.get(full).cloned());
        if let Some(found) = cached {
            return reuse_found(full, reuse, spec.shape.as_deref(), dtype, found);
        }
        let found = graph.store_get(full);
        if let Some(found) = found {
            if let Ok(mut seen) = self.seen.try_borrow_mut() {
                seen.insert(full.to_string(), found.clone());
            }
            return reuse_found(full, reuse, spec.shape.as_deref(), dtype, found);
        }
        let full = full.to_string();
        if reuse == Reuse::ReuseOnly {
            let suggestion = graph.state().suggest(&full);
            return Err(Error::NotFound { name: full, suggestion });
        }
        let Some(shape) = spec.shape.as_deref().map(<[usize]>::to_vec) else {
            return Err(Error::invalid(format!(
                "variable `{full}` does not exist yet and needs a shape to be created: pass one \
                 (`get_variable(\"{name}\", [..])`), or reuse an existing variable"
            )));
        };
        let init = spec.init.or(scope.initializer()).unwrap_or(Init::default_for(dtype));
        let var = {
            let mut g = graph.state();
            // Another thread may have created it since the lookup above.
            let found = graph.store_get(&full);
            if let Some(found) = found {
                return reuse_found(&full, reuse, spec.shape.as_deref(), dtype, found);
            }
            let var = create_variable(&mut g, graph, "", &full, &shape, dtype, init, spec.trainable)?;
            graph.store_insert(full.clone(), var.clone());
            g.index_store_name(&full);
            var
        };
        if let Some(regularizer) = spec.regularizer.or_else(|| scope.regularizer()) {
            // Its ops go to the exact name scope `<variable>/Regularizer/`, on
            // a scope of its own, so the caller's scope stacks stay untouched.
            let mut cx = graph.scope();
            cx.push_name_scope(&format!("{full}/Regularizer/"))?;
            let loss = regularizer.apply(&mut cx, &var)?;
            graph.state().regularization_losses.push(loss);
        }
        Ok(var)
    }

    /// Creates a plain variable (TF's `tf.Variable`): named by the current
    /// *name* scope, made unique instead of ever being refused, never shared
    /// and not in the `get_variable` store. `None` names it `Variable`. The
    /// spec needs a shape; the initializer defaults to zeros.
    pub fn variable(&self, name: Option<&str>, spec: impl Into<VarSpec>) -> Result<Variable> {
        let spec = spec.into();
        let dtype = spec.dtype.unwrap_or_default();
        let init = spec.init.unwrap_or(Init::Zeros);
        let shape = spec.shape.as_deref().map(<[usize]>::to_vec).ok_or_else(|| {
            Error::invalid(format!(
                "plain variable `{}` needs a shape: pass `VarSpec::new().shape(..)`",
                name.unwrap_or("Variable")
            ))
        })?;
        let graph = self.graph.clone();
        let mut g = graph.state();
        create_variable(
            &mut g,
            &graph,
            &self.name_stack,
            name.unwrap_or("Variable"),
            &shape,
            dtype,
            init,
            spec.trainable,
        )
    }

    /// Like [`Scope::variable`], with the initial value computed by `initial`
    /// once the name is taken (TF's callable `initial_value`). If it fails,
    /// the name stays used, as in TensorFlow. `initial` runs without any lock
    /// of the graph held, so it may use the graph (another scope of it, its
    /// variables) freely.
    pub fn variable_with(
        &self,
        name: Option<&str>,
        trainable: bool,
        initial: impl FnOnce(&str) -> Result<crate::Value>,
    ) -> Result<Variable> {
        let graph = self.graph.clone();
        let names = graph.state().variable_names(&self.name_stack, name.unwrap_or("Variable"))?;
        let value = initial(names.label(name.unwrap_or("Variable")))?;
        let mut g = graph.state();
        add_variable(&mut g, &graph, &names, trainable, value)
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
    pub(crate) shape: Option<SpecShape>,
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
        self.shape = Some(SpecShape::new(shape.as_ref()));
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
        let shape = if shape.len() <= INLINE_DIMS { SpecShape::new(&shape) } else { SpecShape::Heap(shape) };
        VarSpec { shape: Some(shape), ..VarSpec::new() }
    }
}

/// Dimensions a [`SpecShape`] holds without allocating (every shape of the seed models).
const INLINE_DIMS: usize = 6;

/// The shape a [`VarSpec`] asks for: inline up to [`INLINE_DIMS`] dimensions, so the
/// `get_variable(name, [..])` of a reusing lookup allocates nothing for it.
#[derive(Clone)]
pub(crate) enum SpecShape {
    Inline { len: u8, dims: [usize; INLINE_DIMS] },
    Heap(Vec<usize>),
}

impl SpecShape {
    fn new(shape: &[usize]) -> SpecShape {
        let mut dims = [0; INLINE_DIMS];
        match dims.get_mut(..shape.len()) {
            Some(d) => {
                d.copy_from_slice(shape);
                SpecShape::Inline { len: shape.len() as u8, dims }
            }
            None => SpecShape::Heap(shape.to_vec()),
        }
    }
}

impl std::ops::Deref for SpecShape {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        match self {
            SpecShape::Inline { len, dims } => &dims[..usize::from(*len)],
            SpecShape::Heap(v) => v,
        }
    }
}

impl PartialEq for SpecShape {
    fn eq(&self, other: &SpecShape) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for SpecShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_shapes_are_the_same_inline_or_on_the_heap() {
        for shape in [vec![], vec![3], vec![5, 5, 32, 32], vec![1, 2, 3, 4, 5, 6], vec![1, 2, 3, 4, 5, 6, 7, 8]] {
            let from_vec = VarSpec::from(shape.clone());
            let from_slice = VarSpec::new().shape(&shape);
            assert_eq!(from_vec, from_slice);
            assert_eq!(from_vec.shape.as_deref(), Some(shape.as_slice()));
            assert_eq!(matches!(from_slice.shape, Some(SpecShape::Inline { .. })), shape.len() <= INLINE_DIMS);
        }
        assert_ne!(VarSpec::from([2, 3]), VarSpec::from([3, 2]));
        assert_eq!(format!("{:?}", VarSpec::from([2, 3]).shape), "Some([2, 3])");
    }

    /// A repeated lookup is answered from the scope's cache with every check of the first.
    #[test]
    fn cached_lookups_check_shape_dtype_and_reuse_as_the_first() -> Result<()> {
        use crate::store::Reuse;
        let graph = crate::graph::Graph::new();
        let mut cx = graph.scope();
        let v = cx.get_variable("v", [2, 3])?;
        let s = cx.variable_scope(crate::scope::VarScope::new("").reuse(Reuse::Auto))?;
        for _ in 0..2 {
            assert!(s.get_variable("v", [2, 3])?.tensor().same(v.tensor()));
            assert!(s.get_variable("v", [3, 2]).is_err());
            assert!(s.get_variable("v", VarSpec::new().dtype(DType::F64)).is_err());
        }
        drop(s);
        // Under the default reuse mode an existing name is refused, cached or not.
        assert!(cx.get_variable("v", [2, 3]).is_err());
        Ok(())
    }
}
