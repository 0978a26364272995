//! The five optimizers of `tf.compat.v1.train`, each an update rule written
//! with the ops TF's kernel (`training_ops.cc`) evaluates, in its order.

use super::{Core, Hyper, Io, Rate, Rule, as_dtype, deduplicate, optimizer_methods};
use crate::error::Result;
use crate::init::Init;
use crate::scope::Scope;
use crate::tensor::{Tensor, Value};
use crate::variable::Variable;

/// The constant 1 of `var`'s dtype.
fn one(cx: &Scope, var: &Variable) -> Result<Tensor> {
    cx.constant(Value::filled(var.dtype(), &[], 1.0)?)
}

/// Plain gradient descent (TF's `GradientDescentOptimizer`, kernel
/// `ApplyGradientDescent`): `var -= lr * g`; sparse rows are subtracted by
/// `ScatterSub` (repeated rows accumulate). No slots.
///
/// ```
/// use varscope::train::{GradientDescentOptimizer, Minimize};
/// use varscope::{Graph, Init, Session, VarSpec};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let w = cx.get_variable("w", VarSpec::new().shape([]).init(Init::constant(1.0)))?;
/// let loss = cx.mul(&w, &w)?; // gradient 2w
/// let train = GradientDescentOptimizer::new(0.25).minimize(&mut cx, &loss, Minimize::new())?;
/// assert_eq!(train.name(), "GradientDescent:0");
/// Session::new(&graph).run(&[&train], &[])?;
/// assert_eq!(w.value().to_f64_vec(), vec![0.5]);
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct GradientDescentOptimizer {
    core: Core,
    rule: Gd,
}

#[derive(Debug, Clone)]
struct Gd {
    lr: Rate,
}

impl GradientDescentOptimizer {
    /// Gradient descent with this learning rate (a number or a schedule's tensor).
    pub fn new(learning_rate: impl Into<Rate>) -> GradientDescentOptimizer {
        GradientDescentOptimizer { core: Core::new("GradientDescent"), rule: Gd { lr: learning_rate.into() } }
    }
}
optimizer_methods!(GradientDescentOptimizer);

impl Rule for Gd {
    fn slot_names(&self) -> Vec<&'static str> {
        Vec::new()
    }
    fn create_slots(&self, _: &mut Scope, _: &mut Core, _: &[Variable]) -> Result<()> {
        Ok(())
    }
    fn apply_dense(&self, cx: &Scope, _: &Core, h: &mut Hyper, g: &Tensor, var: &Variable) -> Result<Tensor> {
        let lr = h.rate(cx, "learning_rate", &self.lr, var.dtype())?;
        cx.assign_sub(var, &cx.mul(g, &lr)?)
    }
    fn apply_sparse(
        &self,
        cx: &Scope,
        _: &Core,
        h: &mut Hyper,
        values: &Tensor,
        indices: &Tensor,
        var: &Variable,
    ) -> Result<Tensor> {
        // TF skips the deduplication here: `ScatterSub` accumulates repeats.
        let lr = h.rate(cx, "learning_rate", &self.lr, var.dtype())?;
        cx.scatter_sub(var, indices, &cx.mul(values, &lr)?)
    }
}

/// Momentum (TF's `MomentumOptimizer`, kernel `ApplyMomentum`; slot
/// `momentum`, zeros): `a = momentum * a + g; var -= lr * a`, or with
/// Nesterov `var -= lr * g + lr * momentum * a`. Sparse: repeated rows are
/// summed first and only the looked-up rows of `a` and `var` change.
///
/// ```
/// use varscope::train::{Minimize, MomentumOptimizer};
/// use varscope::{Graph, Init, Session, VarSpec};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let w = cx.get_variable("w", VarSpec::new().shape([]).init(Init::constant(1.0)))?;
/// let loss = cx.mul(&w, &w)?;
/// let mut opt = MomentumOptimizer::new(0.25, 0.5);
/// let train = opt.minimize(&mut cx, &loss, Minimize::new())?;
/// assert_eq!(opt.get_slot(&w, "momentum").unwrap().name(), "w/Momentum:0");
/// let sess = Session::new(&graph);
/// sess.run(&[&train], &[])?; // a = 2, w = 0.5
/// sess.run(&[&train], &[])?; // a = 0.5 * 2 + 1 = 2, w = 0
/// assert_eq!(w.value().to_f64_vec(), vec![0.0]);
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MomentumOptimizer {
    core: Core,
    rule: Momentum,
}

#[derive(Debug, Clone)]
struct Momentum {
    lr: Rate,
    momentum: f64,
    nesterov: bool,
}

impl MomentumOptimizer {
    /// Momentum with this learning rate and momentum.
    pub fn new(learning_rate: impl Into<Rate>, momentum: f64) -> MomentumOptimizer {
        MomentumOptimizer {
            core: Core::new("Momentum"),
            rule: Momentum { lr: learning_rate.into(), momentum, nesterov: false },
        }
    }

    /// Nesterov momentum (TF's `use_nesterov=True`).
    pub fn use_nesterov(mut self, on: bool) -> MomentumOptimizer {
        self.rule.nesterov = on;
        self
    }
}
optimizer_methods!(MomentumOptimizer);

impl Momentum {
    fn update(
        &self,
        cx: &Scope,
        core: &Core,
        h: &mut Hyper,
        io: &mut Io<'_>,
        g: &Tensor,
        var: &Variable,
    ) -> Result<Tensor> {
        let dt = var.dtype();
        let lr = h.rate(cx, "learning_rate", &self.lr, dt)?;
        let mom = h.get(cx, "momentum", self.momentum, dt)?;
        let a = core.slot_of(var, "momentum")?;
        let a_t = io.write(&a, &cx.add(&cx.mul(&io.read(&a)?, &mom)?, g)?)?;
        let delta = match (self.nesterov, io.rows.is_some()) {
            (false, _) => cx.mul(&a_t, &lr)?,
            // ApplyMomentum: `grad * lr + accum * momentum * lr`.
            (true, false) => cx.add(&cx.mul(g, &lr)?, &cx.mul(&cx.mul(&a_t, &mom)?, &lr)?)?,
            // SparseApplyMomentum: `lr * g + lr * momentum * a`.
            (true, true) => cx.add(&cx.mul(&lr, g)?, &cx.mul(&cx.mul(&lr, &mom)?, &a_t)?)?,
        };
        io.subtract(var, &delta)
    }
}

impl Rule for Momentum {
    fn slot_names(&self) -> Vec<&'static str> {
        vec!["momentum"]
    }
    fn create_slots(&self, cx: &mut Scope, core: &mut Core, vars: &[Variable]) -> Result<()> {
        vars.iter().try_for_each(|v| core.make_slot(cx, v, "momentum", Init::Zeros))
    }
    fn apply_dense(&self, cx: &Scope, core: &Core, h: &mut Hyper, g: &Tensor, var: &Variable) -> Result<Tensor> {
        self.update(cx, core, h, &mut Io::dense(cx), g, var)
    }
    fn apply_sparse(
        &self,
        cx: &Scope,
        core: &Core,
        h: &mut Hyper,
        values: &Tensor,
        indices: &Tensor,
        var: &Variable,
    ) -> Result<Tensor> {
        let (summed, unique) = deduplicate(cx, values, indices)?;
        self.update(cx, core, h, &mut Io::rows(cx, &unique), &summed, var)
    }
}

/// Adam (TF's `AdamOptimizer`, kernel `ApplyAdam`; slots `m`, `v`, zeros;
/// float32 non-slot variables `beta1_power`, `beta2_power` starting at
/// `beta1`, `beta2`, multiplied by them after every step):
/// `lr_t = lr * sqrt(1 - beta2_power) / (1 - beta1_power)`,
/// `m += (g - m)(1 - beta1)`, `v += (g² - v)(1 - beta2)`,
/// `var -= lr_t * m / (sqrt(v) + epsilon)`. Sparse: `m` and `v` of every row
/// decay and the looked-up rows gain `(1 - beta1) g` and `(1 - beta2) g²`.
///
/// ```
/// use varscope::train::{AdamOptimizer, Minimize};
/// use varscope::{Graph, Init, VarSpec};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let a = cx.get_variable("a", VarSpec::new().shape([2]).init(Init::constant(1.0)))?;
/// let loss = cx.reduce_sum(&cx.mul(&a, &a)?, varscope::ops::Axes::All, false)?;
/// let mut first = AdamOptimizer::new(0.1);
/// first.minimize(&mut cx, &loss, Minimize::new())?;
/// let mut second = AdamOptimizer::new(0.1);
/// let train = second.minimize(&mut cx, &loss, Minimize::new())?;
/// assert_eq!(train.name(), "Adam_1:0");
/// assert_eq!(second.get_slot(&a, "m").unwrap().name(), "a/Adam_2:0");
/// assert_eq!(second.non_slot_variables()[0].name(), "beta1_power_1:0");
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AdamOptimizer {
    core: Core,
    rule: Adam,
}

#[derive(Debug, Clone)]
struct Adam {
    lr: Rate,
    beta1: f64,
    beta2: f64,
    epsilon: f64,
}

impl AdamOptimizer {
    /// Adam with this learning rate and TF's defaults `beta1 = 0.9`,
    /// `beta2 = 0.999`, `epsilon = 1e-8`.
    pub fn new(learning_rate: impl Into<Rate>) -> AdamOptimizer {
        AdamOptimizer {
            core: Core::new("Adam"),
            rule: Adam { lr: learning_rate.into(), beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
        }
    }

    /// The decay of the first moment.
    pub fn beta1(mut self, beta1: f64) -> AdamOptimizer {
        self.rule.beta1 = beta1;
        self
    }

    /// The decay of the second moment.
    pub fn beta2(mut self, beta2: f64) -> AdamOptimizer {
        self.rule.beta2 = beta2;
        self
    }

    /// The constant added to `sqrt(v)`.
    pub fn epsilon(mut self, epsilon: f64) -> AdamOptimizer {
        self.rule.epsilon = epsilon;
        self
    }
}
optimizer_methods!(AdamOptimizer);

impl Adam {
    /// The hyperparameters of `var`'s dtype and `lr_t`.
    fn prepare(&self, cx: &Scope, core: &Core, h: &mut Hyper, var: &Variable) -> Result<[Tensor; 5]> {
        let dt = var.dtype();
        let b1p = as_dtype(cx, core.non_slot("beta1_power")?.tensor(), dt)?;
        let b2p = as_dtype(cx, core.non_slot("beta2_power")?.tensor(), dt)?;
        let lr = h.rate(cx, "learning_rate", &self.lr, dt)?;
        let b1 = h.get(cx, "beta1", self.beta1, dt)?;
        let b2 = h.get(cx, "beta2", self.beta2, dt)?;
        let eps = h.get(cx, "epsilon", self.epsilon, dt)?;
        let one = one(cx, var)?;
        let lr_t = cx.div(&cx.mul(&lr, &cx.sqrt(&cx.sub(&one, &b2p)?)?)?, &cx.sub(&one, &b1p)?)?;
        Ok([lr_t, b1, b2, eps, one])
    }
}

impl Rule for Adam {
    fn slot_names(&self) -> Vec<&'static str> {
        vec!["m", "v"]
    }
    fn create_slots(&self, cx: &mut Scope, core: &mut Core, vars: &[Variable]) -> Result<()> {
        core.make_non_slot(cx, "beta1_power", self.beta1)?;
        core.make_non_slot(cx, "beta2_power", self.beta2)?;
        for v in vars {
            core.make_slot(cx, v, "m", Init::Zeros)?;
            core.make_slot(cx, v, "v", Init::Zeros)?;
        }
        Ok(())
    }
    fn apply_dense(&self, cx: &Scope, core: &Core, h: &mut Hyper, g: &Tensor, var: &Variable) -> Result<Tensor> {
        let [lr_t, b1, b2, eps, one] = self.prepare(cx, core, h, var)?;
        let (m, v) = (core.slot_of(var, "m")?, core.slot_of(var, "v")?);
        let m_t = cx.assign(&m, &cx.add(&m, &cx.mul(&cx.sub(g, &m)?, &cx.sub(&one, &b1)?)?)?)?;
        let v_t = cx.assign(&v, &cx.add(&v, &cx.mul(&cx.sub(&cx.mul(g, g)?, &v)?, &cx.sub(&one, &b2)?)?)?)?;
        cx.assign_sub(var, &cx.div(&cx.mul(&m_t, &lr_t)?, &cx.add(&cx.sqrt(&v_t)?, &eps)?)?)
    }
    fn apply_sparse(
        &self,
        cx: &Scope,
        core: &Core,
        h: &mut Hyper,
        values: &Tensor,
        indices: &Tensor,
        var: &Variable,
    ) -> Result<Tensor> {
        let (g, indices) = deduplicate(cx, values, indices)?;
        let [lr_t, b1, b2, eps, one] = self.prepare(cx, core, h, var)?;
        let (m, v) = (core.slot_of(var, "m")?, core.slot_of(var, "v")?);
        let m_scaled = cx.mul(&g, &cx.sub(&one, &b1)?)?;
        let m_decayed = cx.assign(&m, &cx.mul(&m, &b1)?)?;
        let m_t = {
            let _after = cx.control_dependencies(&[&m_decayed])?;
            cx.scatter_add(&m, &indices, &m_scaled)?
        };
        let v_scaled = cx.mul(&cx.mul(&g, &g)?, &cx.sub(&one, &b2)?)?;
        let v_decayed = cx.assign(&v, &cx.mul(&v, &b2)?)?;
        let v_t = {
            let _after = cx.control_dependencies(&[&v_decayed])?;
            cx.scatter_add(&v, &indices, &v_scaled)?
        };
        let update = cx.assign_sub(var, &cx.div(&cx.mul(&lr_t, &m_t)?, &cx.add(&cx.sqrt(&v_t)?, &eps)?)?)?;
        cx.group(&[&update, &m_t, &v_t])
    }
    fn finish(&self, cx: &Scope, core: &Core, h: &mut Hyper, updates: &[Tensor], name: &str) -> Result<Tensor> {
        let (p1, p2) = (core.non_slot("beta1_power")?, core.non_slot("beta2_power")?);
        let (u1, u2) = {
            let _after = cx.control_dependencies(&updates.iter().collect::<Vec<_>>())?;
            let b1 = h.get(cx, "beta1", self.beta1, p1.dtype())?;
            let b2 = h.get(cx, "beta2", self.beta2, p2.dtype())?;
            (cx.assign(&p1, &cx.mul(&p1, &b1)?)?, cx.assign(&p2, &cx.mul(&p2, &b2)?)?)
        };
        let mut all: Vec<&Tensor> = updates.iter().collect();
        all.extend([&u1, &u2]);
        cx.named(name).group(&all)
    }
}

/// Adagrad (TF's `AdagradOptimizer`, kernel `ApplyAdagrad`; slot
/// `accumulator` starting at `initial_accumulator_value`):
/// `acc += g²; var -= lr * g / sqrt(acc)`. Sparse: repeated rows summed,
/// only the looked-up rows change.
///
/// ```
/// use varscope::train::{AdagradOptimizer, Minimize};
/// use varscope::{Graph, Init, Session, VarSpec};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let w = cx.get_variable("w", VarSpec::new().shape([]).init(Init::constant(1.0)))?;
/// let loss = cx.mul(&w, &w)?; // g = 2
/// let mut opt = AdagradOptimizer::new(0.5).initial_accumulator_value(0.0);
/// let train = opt.minimize(&mut cx, &loss, Minimize::new())?;
/// Session::new(&graph).run(&[&train], &[])?; // acc = 4, w = 1 - 0.5 * 2 / 2
/// assert_eq!(w.value().to_f64_vec(), vec![0.5]);
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AdagradOptimizer {
    core: Core,
    rule: Adagrad,
}

#[derive(Debug, Clone)]
struct Adagrad {
    lr: Rate,
    initial: f64,
}

impl AdagradOptimizer {
    /// Adagrad with this learning rate and TF's `initial_accumulator_value = 0.1`.
    pub fn new(learning_rate: impl Into<Rate>) -> AdagradOptimizer {
        AdagradOptimizer { core: Core::new("Adagrad"), rule: Adagrad { lr: learning_rate.into(), initial: 0.1 } }
    }

    /// The accumulator's starting value.
    pub fn initial_accumulator_value(mut self, x: f64) -> AdagradOptimizer {
        self.rule.initial = x;
        self
    }
}
optimizer_methods!(AdagradOptimizer);

impl Adagrad {
    fn update(
        &self,
        cx: &Scope,
        core: &Core,
        h: &mut Hyper,
        io: &mut Io<'_>,
        g: &Tensor,
        var: &Variable,
    ) -> Result<Tensor> {
        let lr = h.rate(cx, "learning_rate", &self.lr, var.dtype())?;
        let acc = core.slot_of(var, "accumulator")?;
        let acc_t = io.write(&acc, &cx.add(&io.read(&acc)?, &cx.mul(g, g)?)?)?;
        // `grad * lr * accum.rsqrt()`.
        let rsqrt = cx.div(&one(cx, var)?, &cx.sqrt(&acc_t)?)?;
        io.subtract(var, &cx.mul(&cx.mul(g, &lr)?, &rsqrt)?)
    }
}

impl Rule for Adagrad {
    fn slot_names(&self) -> Vec<&'static str> {
        vec!["accumulator"]
    }
    fn create_slots(&self, cx: &mut Scope, core: &mut Core, vars: &[Variable]) -> Result<()> {
        vars.iter().try_for_each(|v| core.make_slot(cx, v, "accumulator", Init::constant(self.initial)))
    }
    fn apply_dense(&self, cx: &Scope, core: &Core, h: &mut Hyper, g: &Tensor, var: &Variable) -> Result<Tensor> {
        self.update(cx, core, h, &mut Io::dense(cx), g, var)
    }
    fn apply_sparse(
        &self,
        cx: &Scope,
        core: &Core,
        h: &mut Hyper,
        values: &Tensor,
        indices: &Tensor,
        var: &Variable,
    ) -> Result<Tensor> {
        let (summed, unique) = deduplicate(cx, values, indices)?;
        self.update(cx, core, h, &mut Io::rows(cx, &unique), &summed, var)
    }
}

/// RMSProp (TF's `RMSPropOptimizer`, kernels `ApplyRMSProp` /
/// `ApplyCenteredRMSProp`; slots `rms` starting at ONES, `mg` zeros when
/// centered, `momentum` zeros): `ms += (g² - ms)(1 - decay)`; centered
/// `mg += (g - mg)(1 - decay)`, `denom = ms - mg² + epsilon`, else
/// `denom = ms + epsilon`; `mom = momentum * mom + lr * g / sqrt(denom)`;
/// `var -= mom`. Sparse: repeated rows summed, only looked-up rows change.
///
/// ```
/// use varscope::train::{Minimize, RMSPropOptimizer};
/// use varscope::{Graph, Init, VarSpec};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let w = cx.get_variable("w", VarSpec::new().shape([]).init(Init::constant(1.0)))?;
/// let loss = cx.mul(&w, &w)?;
/// let mut opt = RMSPropOptimizer::new(0.01).centered(true).momentum(0.5);
/// opt.minimize(&mut cx, &loss, Minimize::new())?;
/// assert_eq!(opt.get_slot_names(), vec!["mg", "momentum", "rms"]);
/// assert_eq!(opt.get_slot(&w, "mg").unwrap().name(), "w/RMSProp_1:0");
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RMSPropOptimizer {
    core: Core,
    rule: RmsProp,
}

#[derive(Debug, Clone)]
struct RmsProp {
    lr: Rate,
    decay: f64,
    momentum: f64,
    epsilon: f64,
    centered: bool,
}

impl RMSPropOptimizer {
    /// RMSProp with this learning rate and TF's defaults `decay = 0.9`,
    /// `momentum = 0`, `epsilon = 1e-10`, not centered.
    pub fn new(learning_rate: impl Into<Rate>) -> RMSPropOptimizer {
        RMSPropOptimizer {
            core: Core::new("RMSProp"),
            rule: RmsProp { lr: learning_rate.into(), decay: 0.9, momentum: 0.0, epsilon: 1e-10, centered: false },
        }
    }

    /// The decay of the moving averages.
    pub fn decay(mut self, decay: f64) -> RMSPropOptimizer {
        self.rule.decay = decay;
        self
    }

    /// The momentum of the update.
    pub fn momentum(mut self, momentum: f64) -> RMSPropOptimizer {
        self.rule.momentum = momentum;
        self
    }

    /// The constant added under the square root.
    pub fn epsilon(mut self, epsilon: f64) -> RMSPropOptimizer {
        self.rule.epsilon = epsilon;
        self
    }

    /// Normalise by the centered second moment (adds the slot `mg`).
    pub fn centered(mut self, centered: bool) -> RMSPropOptimizer {
        self.rule.centered = centered;
        self
    }
}
optimizer_methods!(RMSPropOptimizer);

impl RmsProp {
    fn update(
        &self,
        cx: &Scope,
        core: &Core,
        h: &mut Hyper,
        io: &mut Io<'_>,
        g: &Tensor,
        var: &Variable,
    ) -> Result<Tensor> {
        let dt = var.dtype();
        let lr = h.rate(cx, "learning_rate", &self.lr, dt)?;
        let rho = h.get(cx, "decay", self.decay, dt)?;
        let momentum = h.get(cx, "momentum", self.momentum, dt)?;
        let eps = h.get(cx, "epsilon", self.epsilon, dt)?;
        let one_minus_rho = cx.sub(&one(cx, var)?, &rho)?;
        let ms = core.slot_of(var, "rms")?;
        let ms0 = io.read(&ms)?;
        let ms_t = io.write(&ms, &cx.add(&ms0, &cx.mul(&cx.sub(&cx.mul(g, g)?, &ms0)?, &one_minus_rho)?)?)?;
        let denom = if self.centered {
            let mg = core.slot_of(var, "mg")?;
            let mg0 = io.read(&mg)?;
            let mg_t = io.write(&mg, &cx.add(&mg0, &cx.mul(&cx.sub(g, &mg0)?, &one_minus_rho)?)?)?;
            cx.add(&cx.sub(&ms_t, &cx.mul(&mg_t, &mg_t)?)?, &eps)?
        } else {
            cx.add(&ms_t, &eps)?
        };
        let mom = core.slot_of(var, "momentum")?;
        let step = cx.div(&cx.mul(g, &lr)?, &cx.sqrt(&denom)?)?;
        let mom_t = io.write(&mom, &cx.add(&cx.mul(&io.read(&mom)?, &momentum)?, &step)?)?;
        io.subtract(var, &mom_t)
    }
}

impl Rule for RmsProp {
    fn slot_names(&self) -> Vec<&'static str> {
        if self.centered { vec!["mg", "momentum", "rms"] } else { vec!["momentum", "rms"] }
    }
    fn create_slots(&self, cx: &mut Scope, core: &mut Core, vars: &[Variable]) -> Result<()> {
        for v in vars {
            core.make_slot(cx, v, "rms", Init::Ones)?;
            if self.centered {
                core.make_slot(cx, v, "mg", Init::Zeros)?;
            }
            core.make_slot(cx, v, "momentum", Init::Zeros)?;
        }
        Ok(())
    }
    fn apply_dense(&self, cx: &Scope, core: &Core, h: &mut Hyper, g: &Tensor, var: &Variable) -> Result<Tensor> {
        self.update(cx, core, h, &mut Io::dense(cx), g, var)
    }
    fn apply_sparse(
        &self,
        cx: &Scope,
        core: &Core,
        h: &mut Hyper,
        values: &Tensor,
        indices: &Tensor,
        var: &Variable,
    ) -> Result<Tensor> {
        let (summed, unique) = deduplicate(cx, values, indices)?;
        self.update(cx, core, h, &mut Io::rows(cx, &unique), &summed, var)
    }
}
