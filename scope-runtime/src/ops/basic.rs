//! `Const`, `Identity`, `Placeholder`, the assignments and the broadcasting rule.

use super::{Naming, Op, arg, op_error, same_value_dtype};
use crate::error::{Error, Result, fmt_shape};
use crate::record::AssignKind;
use crate::scope::Scope;
use crate::tensor::{Origin, Tensor, Value};

/// The shape NumPy/TensorFlow broadcasting gives two shapes, if they fit.
///
/// ```
/// use varscope::ops::broadcast_shapes;
/// assert_eq!(broadcast_shapes(&[8, 1, 3], &[4, 3]), Some(vec![8, 4, 3]));
/// assert_eq!(broadcast_shapes(&[2], &[3]), None);
/// ```
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    crate::kernels::broadcast_shape(a, b).ok()
}

impl Scope {
    /// A constant (TF's `tf.constant`, op `Const`, default name `Const`).
    pub fn constant(&self, value: impl Into<Value>) -> Result<Tensor> {
        let value = value.into();
        self.record_computed(
            Naming::Direct { default: "Const" },
            Op::Const.op_type(),
            &[],
            |_| Ok(()),
            |_, _| Ok((vec![value], Op::Const)),
        )
        .and_then(|mut o| super::first_output(Op::Const.op_type(), &mut o))
    }

    /// The same value under a new name (op and default name `Identity`).
    pub fn identity(&self, x: &Tensor) -> Result<Tensor> {
        self.record_op(Naming::Helper { default: "Identity" }, Op::Identity, &[x], |_| Ok(()))
    }

    /// A value fed at run time (TF's `tf.compat.v1.placeholder`, op
    /// `Placeholder`, named `name` in the current name scope).
    ///
    /// `value` is what the placeholder holds while the graph is built, so
    /// every op built on it computes eagerly; it also fixes the dtype and the
    /// shape every feed must have. [`Session::run`](crate::Session::run)
    /// refuses a run that needs the placeholder but does not feed it.
    ///
    /// ```
    /// use varscope::{Graph, Session, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.placeholder("x", Value::from(vec![1.0f32, 2.0]))?;
    /// let y = cx.add(&x, &x)?;
    /// assert_eq!(y.value().to_f64_vec(), vec![2.0, 4.0]); // built eagerly
    /// let sess = Session::new(&graph);
    /// let out = sess.run(&[&y], &[(&x, Value::from(vec![5.0f32, 6.0]))])?;
    /// assert_eq!(out[0].to_f64_vec(), vec![10.0, 12.0]);
    /// assert!(sess.run(&[&y], &[]).is_err()); // x must be fed
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn placeholder(&self, name: &str, value: impl Into<Value>) -> Result<Tensor> {
        let value = value.into();
        let op_type = Op::Placeholder { with_default: false }.op_type();
        self.named(name)
            .record_computed(
                Naming::Helper { default: op_type },
                op_type,
                &[],
                |_| Ok(()),
                |_, _| Ok((vec![value], Op::Placeholder { with_default: false })),
            )
            .and_then(|mut o| super::first_output(op_type, &mut o))
    }

    /// A placeholder that passes `default` through when it is not fed (TF's
    /// `tf.compat.v1.placeholder_with_default`, op `PlaceholderWithDefault`).
    ///
    /// ```
    /// use varscope::{Graph, Session, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let keep = cx.constant(Value::from(1.0f32))?;
    /// let keep_prob = cx.placeholder_with_default("keep_prob", &keep)?;
    /// let sess = Session::new(&graph);
    /// assert_eq!(sess.run(&[&keep_prob], &[])?[0].to_f64_vec(), vec![1.0]);
    /// let fed = sess.run(&[&keep_prob], &[(&keep_prob, Value::from(0.5f32))])?;
    /// assert_eq!(fed[0].to_f64_vec(), vec![0.5]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn placeholder_with_default(&self, name: &str, default: &Tensor) -> Result<Tensor> {
        let op = Op::Placeholder { with_default: true };
        self.named(name).record_op(Naming::Helper { default: op.op_type() }, op, &[default], |_| Ok(()))
    }

    /// Sets `var` to `value` now and whenever the op runs again in a
    /// [`Session`](crate::Session) (TF's `tf.compat.v1.assign`, op and default
    /// name `Assign`); the output is the new value.
    ///
    /// ```
    /// use varscope::{Graph, Init, Session, VarSpec};
    /// let graph = Graph::new();
    /// let mut cx = graph.scope();
    /// let v = cx.get_variable("v", VarSpec::new().shape([]).init(Init::constant(1.0)))?;
    /// let one = cx.constant(1.0f32)?;
    /// let inc = cx.assign_add(&v, &one)?; // v: 2 (eager)
    /// Session::new(&graph).run(&[&inc], &[])?; // v: 3
    /// assert_eq!(v.value().to_f64_vec(), vec![3.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn assign(&self, var: &Tensor, value: &Tensor) -> Result<Tensor> {
        self.assignment(AssignKind::Set, var, value)
    }

    /// `var += value` (TF's `tf.compat.v1.assign_add`, op and default name `AssignAdd`).
    pub fn assign_add(&self, var: &Tensor, value: &Tensor) -> Result<Tensor> {
        self.assignment(AssignKind::Add, var, value)
    }

    /// `var -= value` (TF's `tf.compat.v1.assign_sub`, op and default name `AssignSub`).
    pub fn assign_sub(&self, var: &Tensor, value: &Tensor) -> Result<Tensor> {
        self.assignment(AssignKind::Sub, var, value)
    }

    /// An op that does nothing but run `deps` first (TF's `tf.group`, op
    /// `NoOp`, default name `group_deps`): the train op of an optimizer,
    /// say. Its output is an empty tensor; run it in a
    /// [`Session`](crate::Session) for its effects.
    pub fn group(&self, deps: &[&Tensor]) -> Result<Tensor> {
        let _deps = self.control_dependencies(deps)?;
        self.record_op(Naming::Scoped { default: "group_deps" }, Op::Group, &[], |_| Ok(()))
    }

    /// Until the guard drops, every op recorded on this scope gets `deps` as
    /// control inputs: a [`Session`](crate::Session) runs them first (TF's
    /// `tf.control_dependencies`).
    ///
    /// ```
    /// use varscope::{Graph, Init, Session, VarSpec};
    /// let graph = Graph::new();
    /// let mut cx = graph.scope();
    /// let v = cx.get_variable("v", VarSpec::new().shape([]).init(Init::constant(0.0)))?;
    /// let one = cx.constant(1.0f32)?;
    /// let inc = cx.assign_add(&v, &one)?;
    /// let read = {
    ///     let _after = cx.control_dependencies(&[&inc])?;
    ///     cx.identity(&v)?
    /// };
    /// let sess = Session::new(&graph);
    /// assert_eq!(sess.run(&[&read], &[])?[0].to_f64_vec(), vec![2.0]); // 1 eagerly, 2 now
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn control_dependencies(&self, deps: &[&Tensor]) -> Result<ControlDependencies<'_>> {
        {
            let g = self.graph().state();
            for t in deps {
                g.check_input(self.graph(), "control_dependencies", t)?;
            }
        }
        let mut control = self.control.borrow_mut();
        let len = control.len();
        control.extend(deps.iter().map(|t| (*t).clone()));
        Ok(ControlDependencies { scope: self, len })
    }

    fn assignment(&self, kind: AssignKind, var: &Tensor, value: &Tensor) -> Result<Tensor> {
        let op = Op::Assign(kind);
        let op_type = op.op_type();
        let out = self.record_op(Naming::Helper { default: op_type }, op, &[var, value], |node| {
            if !matches!(var.origin(), Origin::Variable { .. }) {
                return Err(op_error(
                    op_type,
                    node,
                    format!("`{}` is not a variable: assign to a variable", var.name()),
                ));
            }
            same_value_dtype(op_type, node, &var.value(), &value.value())
        })?;
        var.set_value(out.value());
        Ok(out)
    }
}

/// The value an assignment gives its variable (input 0) from input 1.
pub(crate) fn assigned(kind: AssignKind, op_type: &'static str, node: &str, v: &[Value]) -> Result<Value> {
    let (var, x) = (arg(op_type, node, v, 0)?, arg(op_type, node, v, 1)?);
    same_value_dtype(op_type, node, var, x)?;
    if var.shape() != x.shape() {
        return Err(Error::IncompatibleShapes {
            op: op_type,
            node: node.to_string(),
            lhs: var.shape().to_vec(),
            rhs: x.shape().to_vec(),
            reason: format!("the value must have the variable's shape {}", fmt_shape(var.shape())),
        });
    }
    let zip = |f: fn(f64, f64) -> f64,
               g: fn(f32, f32) -> f32,
               h: fn(i32, i32) -> i32,
               l: fn(i64, i64) -> i64|
     -> Result<Value> {
        Ok(match (var, x) {
            (Value::F32(a), Value::F32(b)) => {
                Value::F32(ndarray::Zip::from(a).and(b).map_collect(|&a, &b| g(a, b)).into_shared())
            }
            (Value::F64(a), Value::F64(b)) => {
                Value::F64(ndarray::Zip::from(a).and(b).map_collect(|&a, &b| f(a, b)).into_shared())
            }
            (Value::I32(a), Value::I32(b)) => {
                Value::I32(ndarray::Zip::from(a).and(b).map_collect(|&a, &b| h(a, b)).into_shared())
            }
            (Value::I64(a), Value::I64(b)) => {
                Value::I64(ndarray::Zip::from(a).and(b).map_collect(|&a, &b| l(a, b)).into_shared())
            }
            _ => return Err(Error::internal(format!("op `{node}` ({op_type}): dtypes differ"))),
        })
    };
    match kind {
        AssignKind::Set => Ok(x.clone()),
        AssignKind::Add => zip(|a, b| a + b, |a, b| a + b, i32::wrapping_add, i64::wrapping_add),
        AssignKind::Sub => zip(|a, b| a - b, |a, b| a - b, i32::wrapping_sub, i64::wrapping_sub),
    }
}

/// Control inputs in force until dropped: see [`Scope::control_dependencies`].
#[must_use = "the control dependencies end when this guard drops"]
pub struct ControlDependencies<'a> {
    scope: &'a Scope,
    len: usize,
}

impl Drop for ControlDependencies<'_> {
    fn drop(&mut self) {
        self.scope.control.borrow_mut().truncate(self.len);
    }
}
