#!/usr/bin/env bash
# Compile-time benchmark of the DSL (a script, not a test). Generates the crates described in
# generate.sh under target/compile_time, builds their dependencies once, then times
# `cargo check` of each generated crate alone (best of $RUNS, CARGO_INCREMENTAL=0).
# Targets (issue 10): model/ <= 1.5x plain/, chain/ (1,000 vars 200 deep) <= 1 s, rnn_800/
# (an unrolled cell, 800 calls in one auto_reuse scope) <= 2 s and linear in the steps;
# model_walked/ shows the cost when no call can be proved free of conflicts by the macro.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-$root/target/compile_time}
runs=${RUNS:-3}
export CARGO_INCREMENTAL=0
export CARGO_TARGET_DIR=$out/target
steps=(${RNN_STEPS:-200 400 800})
rm -rf "$out"/plain "$out"/var_only "$out"/model "$out"/var_only_walked "$out"/model_walked "$out"/chain "$out"/rnn_*
RNN_STEPS="${steps[*]}" bash "$(dirname "$0")/generate.sh" "$out"

crates=(plain var_only model var_only_walked model_walked chain rnn_plain)
for s in "${steps[@]}"; do crates+=("rnn_$s"); done
declare -A best_ms best_cpu
for crate in "${crates[@]}"; do
    (cd "$out/$crate" && cargo check -q 2>/dev/null) || (cd "$out/$crate" && cargo check)
done
# Rounds interleave the crates, so that a slow spell of the machine hits all of them alike.
for ((r = 0; r < runs; r++)); do
    for crate in "${crates[@]}"; do
        touch "$out/$crate/src/lib.rs"
        t0=$(date +%s%N)
        # User CPU time too: on a loaded machine it varies much less than wall-clock time.
        cpu=$(cd "$out/$crate" && { /usr/bin/time -f "%U" cargo check -q 2>&1 >/dev/null; } | tail -1)
        t1=$(date +%s%N)
        ms=$(((t1 - t0) / 1000000))
        cpu_ms=$(awk -v u="$cpu" 'BEGIN { printf "%d", u * 1000 }')
        if [[ -z ${best_ms[$crate]:-} || $ms -lt ${best_ms[$crate]} ]]; then best_ms[$crate]=$ms; fi
        if [[ -z ${best_cpu[$crate]:-} || $cpu_ms -lt ${best_cpu[$crate]} ]]; then best_cpu[$crate]=$cpu_ms; fi
    done
done
plain=${best_ms[plain]}
var_only=${best_ms[var_only]}
model=${best_ms[model]}
var_only_walked=${best_ms[var_only_walked]}
model_walked=${best_ms[model_walked]}
chain=${best_ms[chain]}
echo "cargo check, best of $runs, CARGO_INCREMENTAL=0 (ms):"
echo "  plain runtime calls, 200 fns x 5 vars      $plain"
echo "  var!/scope! without #[model]               $var_only"
echo "  #[model] (manifests + checks)              $model"
echo "  walked: var!/scope! without #[model]       $var_only_walked"
echo "  walked: #[model], every call walked        $model_walked"
echo "  chain: 1,000 vars in one scope, 200 deep   $chain"
echo "  rnn: plain runtime calls, 800 steps        ${best_ms[rnn_plain]}"
for s in "${steps[@]}"; do
    printf "  rnn: #[model] cell x %-4d in auto_reuse    %s\n" "$s" "${best_ms[rnn_$s]}"
done
awk -v m="$model" -v v="$var_only" -v p="$plain" -v mw="$model_walked" -v vw="$var_only_walked" 'BEGIN {
    printf "  #[model] / without attribute: %.2fx (target <= 2x); / plain: %.2fx\n", m / v, m / p
    printf "  walked: #[model] / without attribute: %.2fx\n", mw / vw }'
last=${steps[${#steps[@]} - 1]}
awk -v first="${best_ms[rnn_${steps[0]}]}" -v f="${steps[0]}" -v last="${best_ms[rnn_$last]}" -v l="$last" \
    -v p="${best_ms[rnn_plain]}" 'BEGIN {
    printf "  rnn: %d steps / %d steps: %.2fx for %.1fx the steps; %d steps / plain 800: %.2fx\n", l, f, last / first, l / f, l, last / p }'

echo "user CPU of cargo check, best of $runs (ms):"
for crate in "${crates[@]}"; do printf "  %-16s %6d\n" "$crate" "${best_cpu[$crate]}"; done
awk -v m="${best_cpu[model]}" -v p="${best_cpu[plain]}" -v r="${best_cpu[rnn_$last]}" -v rp="${best_cpu[rnn_plain]}" \
    -v f="${best_cpu[rnn_${steps[0]}]}" 'BEGIN {
    printf "  #[model] / plain: %.2fx (target <= 1.5x); rnn %d / plain: %.2fx; rnn %d / %d: %.2fx\n", m / p, '"$last"', r / rp, '"$last"', '"${steps[0]}"', r / f }'

# With INSTR=1 (and valgrind installed): instructions executed by `cargo check` and the rustc
# it runs, which do not vary with the machine's load the way wall-clock times do.
if [[ ${INSTR:-0} == 1 ]] && command -v valgrind >/dev/null; then
    declare -A instr
    for crate in "${crates[@]}"; do
        touch "$out/$crate/src/lib.rs"
        instr[$crate]=$(cd "$out/$crate" && valgrind --tool=callgrind --trace-children=yes \
            --callgrind-out-file=/dev/null cargo check -q 2>&1 |
            awk '/I +refs:/ { gsub(",", "", $NF); s += $NF } END { printf "%d", s / 1e6 }')
    done
    echo "instructions (millions):"
    for crate in "${crates[@]}"; do printf "  %-16s %6d\n" "$crate" "${instr[$crate]}"; done
    awk -v m="${instr[model]}" -v v="${instr[var_only]}" -v mw="${instr[model_walked]}" \
        -v vw="${instr[var_only_walked]}" 'BEGIN {
        printf "  #[model] / without attribute: %.2fx; walked: %.2fx\n", m / v, mw / vw }'
fi
