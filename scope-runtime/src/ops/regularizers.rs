//! The built-in regularizers, written with the ops (the [`Regularizer`] type itself sits
//! with the scopes, below the ops).

use super::Axes;
use crate::regularizer::Regularizer;
use crate::scope::Scope;
use crate::tensor::{Tensor, Value};

impl Regularizer {
    /// `scale * sum(w * w) / 2` (TF's `l2_regularizer`: `scale * tf.nn.l2_loss(w)`), its ops in
    /// the name scope `l2_regularizer`.
    pub fn l2(scale: f64) -> Regularizer {
        Regularizer::builtin("l2", move |cx: &mut Scope, w: &Tensor| {
            let g = cx.name_scope("l2_regularizer")?;
            let squares = g.mul(w, w)?;
            let sum = g.reduce_sum(&squares, Axes::All, false)?;
            let half_scale = g.named("scale").constant(Value::filled(w.dtype(), &[], scale / 2.0)?)?;
            // The result takes the name of the scope itself, as TF names it.
            let name = format!("{}/", g.current_name_scope());
            g.named(&name).mul(&half_scale, &sum)
        })
    }
}
