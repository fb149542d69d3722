#!/usr/bin/env bash
# t9-slurm (issue #6): the job scripts of jobs/ on a real one-node SLURM cluster on loopback.
#
#   tests/scripts/slurm_check.sh RATEMEM_EXE REPO
#
# Installs slurm-wlm and munge when missing (apt-get, as root), starts munged, slurmctld and slurmd
# with scripts/slurm_local.sh (temporary slurm.conf, 2 CPUs, state in a temp dir), then submits the
# real job scripts with the tiny configs of configs/jobs/ and checks what they wrote:
#   1. jobs/retrieve.sbatch run uninterrupted (the reference);
#   2. the same job signalled mid-run (scancel --signal=USR1 --batch): it must checkpoint, requeue
#      itself, resume from the checkpoint and end with the reference's labels, nearest memories and
#      final states (within 1e-6);
#   3. jobs/submit_sweep.sh (array job + collector): one CSV row per grid point, each equal to the
#      point's own summary, and point 0 equal to the same point run directly with mpiexec;
#   4. jobs/strong_scaling.sbatch (srun) and jobs/weak_scaling.sbatch (forced to mpiexec inside the
#      allocation): every run on the rank count it asked for, the report's CSV/Markdown/PNG;
#   5. jobs/stiff_sweep.sbatch on configs/stiff_sweep_tiny.yaml: its CSV and plot.
# Stops the daemons it started, by their pids, on exit. Exit 77 (meson: skipped) only when the
# daemons cannot start on this machine (or it is not root); any failed check exits 1.
set -Eeuo pipefail
# the daemons live in /usr/sbin, which a CI runner's PATH may leave out
export PATH=$PATH:/usr/sbin:/sbin
exe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
repo=$(cd "$2" && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3

fail() { echo "t9-slurm: FAIL: $*" >&2; exit 1; }
# any other command that fails (set -e) names itself before the exit
trap 'echo "t9-slurm: FAIL: line $LINENO: command failed: $BASH_COMMAND" >&2' ERR
skip() { echo "t9-slurm: SKIP: $*" >&2; exit 77; }
log() { echo "[$(date -u +%H:%M:%S)] t9-slurm: $*"; }

[ "$(id -u)" -eq 0 ] || skip "needs root to run slurmd (run the suite as root, as CI does)"

need=()
for p in slurm-wlm munge; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || fail "could not install ${need[*]}"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ratemem-slurm.XXXXXX")
cleanup() {
  local rc=$?
  bash "$repo/scripts/slurm_local.sh" stop "$tmp/cluster" || true
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    for f in "$tmp"/*.out "$tmp"/*/run.log "$tmp"/*/status "$tmp"/cluster/log/*.log "$tmp"/cluster/log/*.out; do
      [ -f "$f" ] && { echo "--- $f (last lines)" >&2; tail -n 25 "$f" >&2; }
    done
  fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT

rc=0
bash "$repo/scripts/slurm_local.sh" start "$tmp/cluster" 2 || rc=$?
[ $rc -eq 77 ] && skip "the SLURM daemons could not start on this machine (see above)"
[ $rc -eq 0 ] || fail "scripts/slurm_local.sh start exited $rc"
export SLURM_CONF=$tmp/cluster/slurm.conf
export RATEMEM_ROOT=$repo RATEMEM_EXE=$exe RATEMEM_PYTHON=$py
unset RATEMEM_OUT RATEMEM_CONFIG RATEMEM_NP RATEMEM_LAUNCHER

job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n 1; }
job_field() { scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

# wait_job ID TIMEOUT: until the job (every task of an array) has ended. A requeued job becomes
# eligible again cred_expire + 1 s after the requeue (11 s on the local cluster; 121 s by default):
# releasing it earlier makes slurmd refuse it ("Job credential revoked").
wait_job() {
  local id=$1 end=$((SECONDS + $2)) states
  while :; do
    states=$(scontrol show job "$id" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' ')
    [ -n "$states" ] || fail "job $id unknown to slurmctld"
    if ! grep -Eq 'PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED|RESIZING|SUSPENDED|STAGE_OUT' <<< "$states"; then
      return 0
    fi
    [ $SECONDS -lt $end ] || fail "job $id still not finished after $2 s (states: $states)"
    sleep 0.5
  done
}

expect_completed() {  # every task of job $1 COMPLETED
  local s
  s=$(scontrol show job "$1" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' ')
  [ "$s" = "COMPLETED " ] || fail "job $1 ended as: $s (expected COMPLETED)"
}


# --- 1. uninterrupted retrieval (reference)
cd "$tmp"
log "1. jobs/retrieve.sbatch, uninterrupted"
ref=$(RATEMEM_OUT=$tmp/ref RATEMEM_CONFIG=$repo/configs/jobs/retrieve_tiny.yaml \
      sbatch --parsable -n 2 -t 10 --output="$tmp/ref-%j.out" "$repo/jobs/retrieve.sbatch" -monitor -monitor_every 1000)
wait_job "$ref" 240
expect_completed "$ref"
[ "$(cat "$tmp/ref/status")" = done ] || fail "reference job status: $(cat "$tmp/ref/status")"
[ -f "$tmp/ref/summary.json" ] && [ -f "$tmp/ref/states.h5" ] || fail "reference job wrote no summary/states"
grep -q 'run: srun --mpi=pmix' "$tmp"/ref-*.out || fail "retrieve job did not launch with srun --mpi=pmix (job output)"

# --- 2. the same job, signalled mid-run: checkpoint, requeue, resume
{
  log "2. jobs/retrieve.sbatch, signalled mid-run (USR1 to the batch shell)"
  int=$(RATEMEM_OUT=$tmp/int RATEMEM_CONFIG=$repo/configs/jobs/retrieve_tiny.yaml \
        sbatch --parsable -n 2 -t 10 --output="$tmp/int-%j.out" "$repo/jobs/retrieve.sbatch" -monitor -monitor_every 1000)
  # wait until ratemem is integrating (its first -monitor line, on stderr = the job's output), then
  # signal the batch shell
  end=$((SECONDS + 120))
  until grep -q '^\[monitor\] trial 0' "$tmp"/int-*.out 2>/dev/null; do
    [ $SECONDS -lt $end ] || fail "interrupted job did not start ratemem within 120 s"
    st=$(job_state "$int")   # one query: the state may change between two (CONFIGURING -> RUNNING)
    case $st in RUNNING|PENDING|CONFIGURING) ;; *) fail "job $int: $st (expected it to wait or run)" ;; esac
    sleep 0.2
  done
  [ ! -f "$tmp/int/summary.json" ] || fail "the run finished before the signal; make configs/jobs/retrieve_tiny.yaml longer"
  scancel --signal=USR1 --batch "$int"
  wait_job "$int" 240
  expect_completed "$int"
  [ "$(job_field "$int" Restarts)" = 1 ] || fail "job $int was not requeued once (Restarts=$(job_field "$int" Restarts))"
  grep -q 'got SIGUSR1' "$tmp"/int-*.out || fail "the batch shell did not report the signal"
  grep -q 'requeueing job' "$tmp"/int-*.out || fail "the job did not requeue itself after the checkpoint"
  grep -q 'resuming from' "$tmp"/int-*.out || fail "the requeued job did not resume from the checkpoint"
  grep -qi 'checkpointed' "$tmp/int/run.log" || fail "ratemem did not report its checkpoint (run.log)"
  [ "$(cat "$tmp/int/status")" = done ] || fail "interrupted job status: $(cat "$tmp/int/status")"
  "$py" - "$tmp/ref" "$tmp/int" <<'PY' || fail "the resumed run differs from the uninterrupted one"
import json, sys
import h5py, numpy as np
ref, got = sys.argv[1], sys.argv[2]
a = json.load(open(f"{ref}/summary.json")); b = json.load(open(f"{got}/summary.json"))
assert len(a["trials"]) == len(b["trials"]) and len(a["trials"]) > 0
for ta, tb in zip(a["trials"], b["trials"]):
    for k in ("label", "nearest_memory", "cue_memory", "converged"):
        assert ta[k] == tb[k], f"trial {ta['trial']}: {k} {ta[k]} != {tb[k]}"
    assert abs(ta["overlap"] - tb["overlap"]) <= 1e-6, f"trial {ta['trial']}: overlap {ta['overlap']} vs {tb['overlap']}"
assert a["counts"] == b["counts"], (a["counts"], b["counts"])
with h5py.File(f"{ref}/states.h5") as fa, h5py.File(f"{got}/states.h5") as fb:
    xa, xb = fa["final_states"][()], fb["final_states"][()]
    assert xa.shape == xb.shape and xa.size > 0
    d = float(np.max(np.abs(xa - xb)))
    assert d <= 1e-6, f"final states differ by {d}"
print(f"resumed run: same labels {[t['label'] for t in b['trials']]}, final states within {d:.2e}")
PY
}

# --- 3. the sweep: array job + collector
log "3. jobs/submit_sweep.sh (job array + collector)"
read -r arr col < <(RATEMEM_OUT=$tmp/sweep bash "$repo/jobs/submit_sweep.sh" "$repo/configs/jobs/sweep_tiny.yaml" \
                    -t 10 --output="$tmp/sweep-%A_%a.out")
[ -n "$arr" ] && [ -n "$col" ] || fail "submit_sweep.sh did not print the two job ids"
wait_job "$col" 240
wait_job "$arr" 30
expect_completed "$arr"
expect_completed "$col"
npts=$("$py" "$repo/jobs/plan.py" sweep-count "$repo/configs/jobs/sweep_tiny.yaml")
mapfile -t p0 < <("$py" "$repo/jobs/plan.py" sweep-point "$repo/configs/jobs/sweep_tiny.yaml" 0)
mpiexec --allow-run-as-root --oversubscribe -n 1 "$exe" retrieve "${p0[@]}" -quiet -summary "$tmp/direct-point0.json" \
  > "$tmp/direct-point0.log" 2>&1 || fail "direct run of sweep point 0 failed"
"$py" - "$tmp/sweep" "$npts" "$tmp/direct-point0.json" <<'PY' || fail "sweep CSV check"
import csv, json, sys
d, npts, direct = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = list(csv.DictReader(open(f"{d}/sweep.csv")))
assert len(rows) == npts, f"{len(rows)} rows, {npts} points"
for i, r in enumerate(rows):
    assert int(r["point"]) == i and r["status"] == "ok", r
    s = json.load(open(f"{d}/points/point-{i}.json"))
    assert int(r["memories"]) == s["network"]["memories"] and int(r["neurons"]) == s["network"]["n"]
    assert float(r["flip"]) == s["cue"]["flip"]
    assert int(r["memories"]) == max(1, round(float(r["load"]) * int(r["neurons"])))
    for k in ("retrieved", "other", "spurious", "unconverged"):
        assert int(r[k]) == s["counts"][k], (i, k)
    assert abs(float(r["retrieval_rate"]) - s["retrieval_rate"]) < 1e-12
    assert int(r["trials"]) == len(s["trials"]) > 0
points = {(float(r["load"]), float(r["flip"])) for r in rows}
assert len(points) == npts, "grid points are not distinct"
x = json.load(open(direct))
assert x["counts"] == json.load(open(f"{d}/points/point-0.json"))["counts"], "point 0 differs from a direct run"
print(f"sweep: {npts} points, rates {[r['retrieval_rate'] for r in rows]}")
PY
# the collector reports a missing point (exit 1, status "missing") and accepts it with --allow-missing
cp -r "$tmp/sweep" "$tmp/sweep-missing"
rm "$tmp/sweep-missing/points/point-1.json"
if "$py" "$repo/jobs/collect_sweep.py" "$tmp/sweep-missing" > /dev/null 2>&1; then fail "collector ignored a missing point"; fi
grep -q '^1,.*,missing,' "$tmp/sweep-missing/sweep.csv" || fail "collector did not mark point 1 missing"
"$py" "$repo/jobs/collect_sweep.py" "$tmp/sweep-missing" --allow-missing > /dev/null 2>&1 || fail "collector --allow-missing failed"

# --- 4. scaling studies (tiny): strong with srun, weak with mpiexec inside the allocation
log "4. jobs/strong_scaling.sbatch (srun) and jobs/weak_scaling.sbatch (mpiexec in the allocation)"
st=$(RATEMEM_OUT=$tmp/strong RATEMEM_CONFIG=$repo/configs/jobs/scaling_tiny.yaml \
     sbatch --parsable -n 2 -t 10 --output="$tmp/strong-%j.out" "$repo/jobs/strong_scaling.sbatch")
wk=$(RATEMEM_OUT=$tmp/weak RATEMEM_CONFIG=$repo/configs/jobs/scaling_tiny.yaml RATEMEM_LAUNCHER=mpiexec \
     sbatch --parsable -n 2 -t 10 --output="$tmp/weak-%j.out" "$repo/jobs/weak_scaling.sbatch")
wait_job "$st" 240
wait_job "$wk" 240
expect_completed "$st"
expect_completed "$wk"
"$py" - "$tmp/strong" "$tmp/weak" "$repo/configs/jobs/scaling_tiny.yaml" <<'PY' || fail "scaling report check"
import csv, json, os, sys
import yaml
cfg = yaml.safe_load(open(sys.argv[3]))
for d, kind in ((sys.argv[1], "strong"), (sys.argv[2], "weak")):
    rows = list(csv.DictReader(open(f"{d}/scaling.csv")))
    want = {(s, r) for s in cfg["storages"] for r in cfg["ranks"]}
    got = {(r["case"], int(r["ranks"])) for r in rows}
    assert got == want, (kind, got, want)
    for r in rows:
        s = json.load(open(f"{d}/runs/{r['name']}.json"))
        assert s["ranks"] == int(r["ranks"]), f"{r['name']}: ran on {s['ranks']} ranks, asked {r['ranks']}"
        size = cfg[kind]["neurons"] if kind == "strong" else cfg[kind]["neurons_per_rank"]
        n = size[r["case"]] * (1 if kind == "strong" else int(r["ranks"]))
        assert int(r["neurons"]) == n == s["network"]["n"], (r["name"], r["neurons"], n)
        assert r["kind"] == kind and float(r["t_rhs_ms"]) > 0 and float(r["efficiency"]) > 0
        if int(r["ranks"]) == 1:
            assert abs(float(r["efficiency"]) - 1) < 1e-12
        else:
            assert 0 <= float(r["comm_share"]) <= 1 and float(r["reductions_per_product"]) > 0, r
        meta = json.load(open(f"{d}/runs/{r['name']}.meta.json"))
        assert ("srun" in meta["launcher"]) == (kind == "strong"), meta["launcher"]
    md = open(f"{d}/scaling.md").read()
    assert md.count("\n| " + kind) == len(rows), md
    assert os.path.getsize(f"{d}/scaling.png") > 10000
print("scaling: strong (srun) and weak (mpiexec) reports complete")
PY
# the model on the same runs: built from their counts, no communication on one node, efficiency <= 1, falls with N
"$py" "$repo/scripts/scaling_report.py" "$tmp/strong/runs" "$tmp/weak/runs" --out "$tmp/both" --model --latency-us 1.5 --link-gbit 100 \
  > "$tmp/model.log" 2>&1 || { cat "$tmp/model.log" >&2; fail "scaling_report.py --model failed"; }
"$py" - "$tmp/both" <<'PY' || fail "scaling model check"
import csv, os, sys
d = sys.argv[1]
meas = {(r["kind"], r["case"]): r for r in csv.DictReader(open(f"{d}/scaling.csv")) if r["ranks"] == "2"}
model = list(csv.DictReader(open(f"{d}/scaling_model.csv")))
assert {(r["kind"], r["case"]) for r in model} == set(meas), "model does not cover every measured case"
for key, m in meas.items():
    rs = sorted((r for r in model if (r["kind"], r["case"]) == key), key=lambda r: int(r["nodes"]))
    assert [int(r["nodes"]) for r in rs] == [1, 2, 4, 8, 16, 32, 64]
    assert float(rs[0]["measured_t_rhs_ms"]) == float(m["t_rhs_ms"]), key
    # the model's inputs are the run's counts: products and reductions per RHS evaluation
    assert abs(float(rs[0]["w"]) / (float(m["weight_products"]) / float(m["rhs_evals"])) - 1) < 1e-5, key
    assert abs(float(rs[0]["rho"]) / (float(m["reductions"]) / float(m["rhs_evals"])) - 1) < 1e-5, key
    assert float(rs[0]["t_rhs_ms"]) > 0 and float(rs[0]["t_product_comm_ms"]) == 0 == float(rs[0]["t_reductions_ms"]), key
    eff = [float(r["efficiency"]) for r in rs]
    assert abs(eff[0] - 1) < 1e-9 and all(0 < e <= 1 + 1e-9 for e in eff), (key, eff)
    assert eff[-1] < eff[0], (key, eff)
    assert float(rs[0]["comm_share"]) == 0 and all(0 < float(r["comm_share"]) < 1 for r in rs[1:]), key
assert os.path.getsize(f"{d}/scaling_model.png") > 10000
print("scaling model: counts from the runs, efficiency in (0, 1], falling with N")
PY

# --- 5. stiff-regime sweep job
log "5. jobs/stiff_sweep.sbatch (configs/stiff_sweep_tiny.yaml)"
sf=$(RATEMEM_OUT=$tmp/stiff RATEMEM_CONFIG=$repo/configs/stiff_sweep_tiny.yaml \
     sbatch --parsable -n 2 -t 10 --output="$tmp/stiff-%j.out" "$repo/jobs/stiff_sweep.sbatch")
wait_job "$sf" 240
expect_completed "$sf"
"$py" - "$tmp/stiff" "$repo/configs/stiff_sweep_tiny.yaml" <<'PY' || fail "stiff sweep job check"
import csv, os, sys
import yaml
cfg = yaml.safe_load(open(sys.argv[2]))
rows = list(csv.DictReader(open(f"{sys.argv[1]}/stiff_sweep.csv")))
want = len(cfg["stiffness"]) * len(cfg["gain"]) * len(cfg["integrators"])
assert len(rows) == want, (len(rows), want)
assert all(r["failed"] in ("0", "") for r in rows), [r["error"] for r in rows if r["failed"] not in ("0", "")]
assert os.path.getsize(f"{sys.argv[1]}/stiff.png") > 10000
print(f"stiff sweep: {len(rows)} rows")
PY

log "all SLURM job checks passed (checkpoint/requeue included)"
