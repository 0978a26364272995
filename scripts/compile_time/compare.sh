#!/usr/bin/env bash
# Before/after of the DSL's compile time, side by side in one run: generates generate.sh's crates
# twice, against this tree and against git revision $1 (default HEAD~1, exported with `git
# archive`), then times `cargo check` of each crate for both in interleaved rounds (user CPU,
# best of $RUNS) and, with valgrind installed, counts the instructions of one `cargo check`
# and the rustc it runs (which do not move with the machine's load). $CRATES picks the crates.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rev=${1:-HEAD~1}
runs=${RUNS:-3}
crates=(${CRATES:-plain var_only model model_walked chain rnn_800})
base=$root/target/compile_time_base
export CARGO_INCREMENTAL=0
rm -rf "$base/src" && mkdir -p "$base/src"
git -C "$root" archive "$rev" | tar -x -C "$base/src"
declare -A dir
for side in after before; do
    if [[ $side == after ]]; then out=$root/target/compile_time_after src=$root; else out=$base/crates src=$base/src; fi
    # Keep the target dir (its dependencies build once); regenerate the crates.
    mkdir -p "$out" && find "$out" -mindepth 1 -maxdepth 1 ! -name target -exec rm -rf {} +
    VARSCOPE_ROOT=$src RNN_STEPS=800 bash "$(dirname "$0")/generate.sh" "$out"
    dir[$side]=$out
    for c in "${crates[@]}"; do
        (cd "$out/$c" && CARGO_TARGET_DIR=$out/target cargo check -q 2>/dev/null) ||
            (cd "$out/$c" && CARGO_TARGET_DIR=$out/target cargo check)
    done
done
check() { # side crate -> user CPU ms of one `cargo check`
    local out=${dir[$1]}
    touch "$out/$2/src/lib.rs"
    (cd "$out/$2" && CARGO_TARGET_DIR=$out/target /usr/bin/time -o "$out/time" -f "%U %S" cargo check -q >/dev/null 2>&1)
    awk '{ printf "%d", ($1 + $2) * 1000 }' "$out/time"
}
declare -A best
for ((r = 0; r < runs; r++)); do
    for c in "${crates[@]}"; do
        for side in before after; do
            ms=$(check $side "$c")
            k=$side/$c
            if [[ -z ${best[$k]:-} || $ms -lt ${best[$k]} ]]; then best[$k]=$ms; fi
        done
    done
done
declare -A instr
if command -v valgrind >/dev/null && [[ ${INSTR:-1} == 1 ]]; then
    for c in "${crates[@]}"; do
        for side in before after; do
            out=${dir[$side]}
            touch "$out/$c/src/lib.rs"
            instr[$side/$c]=$(cd "$out/$c" && CARGO_TARGET_DIR=$out/target valgrind --tool=callgrind \
                --trace-children=yes --callgrind-out-file=/dev/null cargo check -q 2>&1 |
                awk '/I +refs:/ { gsub(",", "", $NF); s += $NF } END { printf "%d", s / 1e6 }')
        done
    done
fi
echo "cargo check of generate.sh's crates, $rev (before) and this tree (after); load: $(uptime | sed 's/.*load/load/')"
printf "%-14s %10s %10s %7s %12s %12s %7s\n" crate "cpu before" "cpu after" ratio "instr before" "instr after" ratio
for c in "${crates[@]}"; do
    b=${best[before/$c]} a=${best[after/$c]} ib=${instr[before/$c]:-0} ia=${instr[after/$c]:-0}
    awk -v c="$c" -v b="$b" -v a="$a" -v ib="$ib" -v ia="$ia" 'BEGIN {
        if (ib) printf "%-14s %8d ms %8d ms %6.2fx %10d M %10d M %6.2fx\n", c, b, a, a / b, ib, ia, ia / ib
        else printf "%-14s %8d ms %8d ms %6.2fx\n", c, b, a, a / b }'
done
for side in before after; do
    awk -v s="$side" -v m="${best[$side/model]:-0}" -v p="${best[$side/plain]:-1}" \
        -v im="${instr[$side/model]:-0}" -v ip="${instr[$side/plain]:-0}" 'BEGIN {
        printf "%s: #[model] / plain: %.2fx CPU", s, m / p
        if (ip) printf ", %.2fx instructions", im / ip
        print " (target <= 1.5x)" }'
done
