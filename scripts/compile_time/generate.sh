#!/usr/bin/env bash
# Generates the crates that `run.sh` times, under the directory given as $1:
#   plain/      200 fns x 5 variables against the runtime API, no macros;
#   var_only/   the same fns with `var!`/`scope!` but without `#[model]`;
#   model/      the same fns with `#[model]` (manifests and cross-model checks);
#   var_only_walked/, model_walked/
#               the same, but each call shares its scope with a variable of the caller
#               (`scope!(cx, "sub" { var!(cx, "x", ..)?; m(cx) })`): the macro cannot prove the
#               call free of conflicts, so every model's check const walks its callees;
#   chain/      the worst case: 200 `#[model]` fns x 5 variables, each calling the next, all
#               in one scope, so the top model's check sees 1,000 variables through nested calls;
#   rnn_N/      an unrolled RNN: one `#[model]` cell (two variables in scope `cell`) called N
#               times in one `auto_reuse` scope ($RNN_STEPS, default 200 400 800), and
#   rnn_plain/  the same 800 steps as plain runtime calls.
# Every model except the first in each run of ten calls the previous one inside `scope!("sub")`,
# so the checks across calls are exercised too.
set -euo pipefail
out=$1
# The varscope the crates depend on: this tree, or $VARSCOPE_ROOT (compare.sh's baseline).
root=${VARSCOPE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
n=${MODELS:-200}

manifest() {
    mkdir -p "$out/$1/src"
    cat > "$out/$1/Cargo.toml" <<TOML
[package]
name = "ct_$1"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
varscope = { path = "$root" }

[workspace]
TOML
}

gen_plain() {
    manifest plain
    {
        echo "#![allow(dead_code)]"
        echo "use varscope::prelude::*;"
        for ((i = 0; i < n; i++)); do
            echo "pub fn m$i(cx: &mut Scope) -> Result<()> {"
            for ((k = 0; k < 5; k++)); do
                echo "    cx.get_variable(\"v$k\", VarSpec::new().shape([$((k + 1)), 4]).init(Init::Zeros))?;"
            done
            if ((i % 10 != 0)); then
                echo "    { let mut g = cx.variable_scope(\"sub\")?; m$((i - 1))(&mut g)?; }"
            fi
            echo "    Ok(())"
            echo "}"
        done
    } > "$out/plain/src/lib.rs"
}

gen_macros() {
    local name=$1 attr=$2 walked=${3:-}
    local x=""
    [[ -n $walked ]] && x='var!(cx, "x", [1], init = Init::Zeros)?; '
    manifest "$name"
    {
        echo "#![allow(dead_code)]"
        echo "use varscope::prelude::*;"
        echo "use varscope::{model, scope, var};"
        for ((i = 0; i < n; i++)); do
            [[ -n $attr ]] && echo "$attr"
            echo "pub fn m$i(cx: &mut Scope) -> Result<()> {"
            for ((k = 0; k < 5; k++)); do
                echo "    var!(cx, \"v$k\", [$((k + 1)), 4], init = Init::Zeros)?;"
            done
            if ((i % 10 != 0)) && [[ -n $attr ]]; then
                echo "    scope!(cx, \"sub\" { $x""m$((i - 1))(cx) })?;"
            elif ((i % 10 != 0)); then
                # Without #[model] the callee has no manifest: mark the call as not followed.
                echo "    scope!(cx, \"sub\" { $x""varscope::opaque!(m$((i - 1))(cx)) })?;"
            else
                echo "    scope!(cx, \"sub\" { Ok::<(), Error>(()) })?;"
            fi
            echo "    Ok(())"
            echo "}"
        done
    } > "$out/$name/src/lib.rs"
}

gen_chain() {
    manifest chain
    {
        echo "#![allow(dead_code)]"
        echo "use varscope::prelude::*;"
        echo "use varscope::{model, var};"
        for ((i = 0; i < n; i++)); do
            echo "#[model]"
            echo "pub fn m$i(cx: &mut Scope) -> Result<()> {"
            for ((k = 0; k < 5; k++)); do
                echo "    var!(cx, \"m${i}_v$k\", [4], init = Init::Zeros)?;"
            done
            if ((i + 1 < n)); then
                echo "    m$((i + 1))(cx)?;"
            fi
            echo "    Ok(())"
            echo "}"
        done
    } > "$out/chain/src/lib.rs"
}

gen_rnn() {
    local name=$1 steps=$2 plain=${3:-}
    manifest "$name"
    {
        echo "#![allow(dead_code)]"
        echo "use varscope::prelude::*;"
        [[ -z $plain ]] && echo "use varscope::{model, scope, var};"
        if [[ -n $plain ]]; then
            echo "pub fn cell(cx: &mut Scope) -> Result<()> {"
            echo "    let mut g = cx.variable_scope(\"cell\")?;"
            echo "    g.get_variable(\"kernel\", VarSpec::new().shape([8, 8]).init(Init::Zeros))?;"
            echo "    g.get_variable(\"bias\", VarSpec::new().shape([8]).init(Init::Zeros))?;"
            echo "    Ok(())"
            echo "}"
            echo "pub fn unrolled(cx: &mut Scope) -> Result<()> {"
            echo "    let mut g = cx.variable_scope(VarScope::new(\"rnn\").reuse(Reuse::Auto))?;"
            for ((t = 0; t < steps; t++)); do echo "    cell(&mut g)?;"; done
        else
            echo "#[model]"
            echo "pub fn cell(cx: &mut Scope) -> Result<()> {"
            echo "    scope!(cx, \"cell\" {"
            echo "        var!(cx, \"kernel\", [8, 8], init = Init::Zeros)?;"
            echo "        var!(cx, \"bias\", [8], init = Init::Zeros)"
            echo "    })?;"
            echo "    Ok(())"
            echo "}"
            echo "#[model]"
            echo "pub fn unrolled(cx: &mut Scope) -> Result<()> {"
            echo "    scope!(cx, \"rnn\", auto_reuse {"
            for ((t = 0; t < steps; t++)); do echo "        cell(cx)?;"; done
            echo "        Ok::<(), Error>(())"
            echo "    })?;"
        fi
        echo "    Ok(())"
        echo "}"
    } > "$out/$name/src/lib.rs"
}

gen_plain
gen_macros var_only ""
gen_macros model "#[model]"
gen_macros var_only_walked "" walked
gen_macros model_walked "#[model]" walked
gen_chain
for steps in ${RNN_STEPS:-200 400 800}; do gen_rnn "rnn_$steps" "$steps"; done
gen_rnn rnn_plain 800 plain
