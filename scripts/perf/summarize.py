"""Merges the per-run summaries of scripts/perf/compare.sh into one Markdown table.

Each cell is the median over runs of that run's median (ms, or GFLOP/s for matmul), with the
range of the per-run medians in brackets; ratios are taken within a run (same rounds, same
load), then their median and range over runs are shown.
"""
import statistics
import sys

out, rounds = sys.argv[1], int(sys.argv[2])


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            k, med, best, q1, q3 = line.split("\t")
            rows[k] = (float(med), float(best), float(q1), float(q3))
    return rows


vs = [load(f"{out}/run.{r}.tsv") for r in range(1, rounds + 1)]
# TF's figures live in the same files (keys prefixed tf_), measured in the same rounds.
tf = [{k[3:]: v for k, v in r.items() if k.startswith("tf_")} for r in vs]
loads = [open(f"{out}/load.{r}").read().strip() for r in range(1, rounds + 1)]


def cell(vals, fmt="{:.2f}"):
    if not vals:
        return "-"
    m = statistics.median(vals)
    return f"{fmt.format(m)} [{fmt.format(min(vals))}–{fmt.format(max(vals))}]"


def ms(rows, key):
    return [r[key][0] * 1e3 for r in rows if key in r]


def ratio(a_rows, a_key, b_rows, b_key):
    return [a[a_key][0] / b[b_key][0] for a, b in zip(a_rows, b_rows) if a_key in a and b_key in b]


print(f"{rounds} runs; load average (1, 5, 15 min) after each: {'; '.join(loads)}")
print()
print("| workload | varscope, ms | TF 2.21 session.run, ms | candle 0.11, ms | time ratio varscope / TF | time ratio varscope / candle |")
print("|---|---|---|---|---|---|")
table = [
    ("my_image_filter forward (kernels, fused bias+relu)", "filter_fwd_fused", "filter_fwd", "filter_fwd_candle"),
    ("my_image_filter forward (kernels, separate ops)", "filter_fwd_ops", "filter_fwd", "filter_fwd_candle"),
    ("my_image_filter forward (through the graph)", "graph_fwd", "graph_round_fwd", None),
    ("my_image_filter forward + backward (kernels)", "filter_fb", "filter_fb", "filter_fb_candle"),
    ("my_image_filter forward + backward (through the graph)", "graph_fb", "graph_round_fb", None),
    ("my_image_filter forward (Session::run, built once)", "session_fwd", "graph_round_fwd", None),
    ("my_image_filter forward + backward (Session::run, built once)", "session_fb", "graph_round_fb", None),
    ("conv layer forward", "conv_fwd", "conv_fwd", "conv_fwd_candle"),
    ("conv layer backward (input + filter)", "conv_bwd", "conv_bwd", None),
]
for name, v, t, c in table:
    print(
        f"| {name} | {cell(ms(vs, v))} | {cell(ms(tf, t))} | {cell(ms(vs, c)) if c else '-'} | "
        f"{cell(ratio(vs, v, tf, t))}x | {cell(ratio(vs, v, vs, c)) + 'x' if c else '-'} |"
    )
print()
print("| matmul | varscope GFLOP/s | TF GFLOP/s (incl. feed/fetch) | candle GFLOP/s | varscope / TF speed |")
print("|---|---|---|---|---|")
for n in (512, 1024):
    k = f"matmul{n}"
    fl = 2 * n**3 / 1e9
    gv = [fl / r[k][0] for r in vs if k in r]
    gt = [fl / r[k][0] for r in tf if k in r]
    gc = [fl / r[k + "_candle"][0] for r in vs if k + "_candle" in r]
    print(f"| {n}³ | {cell(gv, '{:.0f}')} | {cell(gt, '{:.0f}')} | {cell(gc, '{:.0f}')} | {cell(ratio(tf, k, vs, k))}x |")
print()
print("| graph path / bare kernels, same rounds | forward | forward + backward |")
print("|---|---|---|")
for name, f, b in [("eager ops, rebuilt per step", "graph_fwd", "graph_fb"), ("Session::run", "session_fwd", "session_fb")]:
    fk, bk = "graph_round_kernels_fwd", "graph_round_kernels_fb"
    print(f"| {name} | {cell(ratio(vs, f, vs, fk))}x | {cell(ratio(vs, b, vs, bk))}x |")
bwd = [r["conv_bwd"][0] / r["conv_fwd"][0] for r in vs]
print()
print(f"conv backward / forward (varscope, per round): {cell(bwd)}x (goal <= 2.0x)")
