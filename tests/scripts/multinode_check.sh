#!/usr/bin/env bash
# t9-multinode: ratemem across an emulated 3-node cluster (scripts/cluster_local.sh: one network,
# UTS and mount namespace per node, a bridge between them, Open MPI over TCP).
#
#   tests/scripts/multinode_check.sh RATEMEM_EXE REPO
#
# Starts the cluster in a temporary directory and, for each storage (dense; aij diluted, compressed,
# lowrank; the E/I network), runs one retrieval on 1 rank (plain mpiexec) and on 3 nodes x 1 rank
# (mpirun over TCP) and checks: /patterns and /initial_states bit-identical, every trial's label and
# nearest memory identical, /final_states within 10*(rtol*max|x| + atol) (the rule of
# tests/compare_ranks.py); the 3-rank summary's "hosts" is [n1, n2, n3] (3 different nodes) and the
# nodes' eth0 byte counters grew (the ranks talked over the emulated network). One case runs again
# on a link capped with tc tbf. Then SLURM on the same nodes: jobs/retrieve.sbatch on 3 nodes,
# signalled mid-run (USR1), checkpointed, requeued, resumed on 2 nodes (3 ranks), must give the uninterrupted
# run's labels, overlaps and final states (within 1e-6). Then jobs/strong_scaling.sbatch on 2 nodes (1 and 2
# ranks) and scripts/scaling_model.py on its report with a ping-pong it runs itself between n1 and n2:
# structure and sanity, not timing. The host's `ip addr`, `ip route` and `tc qdisc` must be identical
# before and after. The cluster is always torn down (trap). Exit 77 (skip) when not root or when the
# kernel forbids the namespaces; any failed check exits 1.
set -Eeuo pipefail
export PATH=$PATH:/usr/sbin:/sbin
exe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
repo=$(cd "$2" && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
cl=$repo/scripts/cluster_local.sh

fail() { echo "t9-multinode: FAIL: $*" >&2; exit 1; }
trap 'echo "t9-multinode: FAIL: line $LINENO: command failed: $BASH_COMMAND" >&2' ERR
skip() { echo "t9-multinode: SKIP: $*" >&2; exit 77; }
log() { echo "[$(date -u +%H:%M:%S)] t9-multinode: $*"; }

[ "$(id -u)" -eq 0 ] || skip "needs root to create namespaces (run the suite as root, as CI does)"
need=()
for p in iproute2 util-linux openmpi-bin; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || fail "could not install ${need[*]}"
fi

host_net() { ip addr; ip route; tc qdisc; }
host_net > /dev/null 2>&1 || fail "cannot read the host's network state (ip addr / ip route / tc qdisc)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ratemem-multinode.XXXXXX")
export RATEMEM_CLUSTER_DIR=$tmp/cluster RATEMEM_CLUSTER_NODES=3
unset RATEMEM_CLUSTER_NET RATEMEM_CLUSTER_SLOTS
out=$RATEMEM_CLUSTER_DIR/out          # inside the cluster's directory: every node sees it
mkdir -p "$out"
host_net > "$tmp/host-before.txt"
cleanup() {
  local rc=$?
  trap - ERR
  bash "$cl" down || { echo "t9-multinode: FAIL: cluster_local.sh down failed" >&2; rc=1; }
  if ! host_net | diff "$tmp/host-before.txt" - >&2; then
    echo "t9-multinode: FAIL: the host's ip addr / ip route / tc qdisc changed (diff above)" >&2; rc=1
  fi
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    for f in "$out"/*.out "$out"/job/run.log "$RATEMEM_CLUSTER_DIR"/log/*.log; do
      [ -s "$f" ] && { echo "--- $f (last lines)" >&2; tail -n 20 "$f" >&2; }
    done
  fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT

rc=0
t0=$SECONDS
bash "$cl" up || rc=$?
[ $rc -eq 77 ] && skip "the kernel forbids the cluster's namespaces (see above)"
[ $rc -eq 0 ] || fail "scripts/cluster_local.sh up exited $rc"
log "cluster up in $((SECONDS - t0)) s"

# three distinct nodes: hostnames, network namespaces, addresses
declare -A seen=()
for i in 1 2 3; do
  h=$(bash "$cl" exec "n$i" hostname)
  [ "$h" = "n$i" ] || fail "node n$i says its hostname is '$h'"
  ns=$(bash "$cl" exec "n$i" readlink /proc/self/ns/net)
  [ "$ns" != "$(readlink /proc/self/ns/net)" ] || fail "node n$i shares the host's network namespace"
  [ -z "${seen[$ns]:-}" ] || fail "nodes ${seen[$ns]} and n$i share the network namespace $ns"
  seen[$ns]=n$i
  bash "$cl" exec "n$i" ip -4 -o addr show dev eth0 | grep -q " 10\.213\.0\.$i/24 " || fail "n$i has no address 10.213.0.$i/24 on eth0"
done

tx_bytes() { bash "$cl" exec "$1" cat /sys/class/net/eth0/statistics/tx_bytes; }

compare() {  # compare NAME: the 1-rank and 3-node runs of case NAME
  "$py" - "$out/$1" <<'PY'
import json, sys
import h5py, numpy as np
d = sys.argv[1]
s1, s3 = json.load(open(f"{d}-1.json")), json.load(open(f"{d}-3.json"))
assert s1["ranks"] == 1 and len(s1["hosts"]) == 1, (s1["ranks"], s1.get("hosts"))
assert s3["ranks"] == 3, s3["ranks"]
assert s3["hosts"] == ["n1", "n2", "n3"], f"3-rank run not on 3 different nodes: hosts {s3['hosts']}"
with h5py.File(f"{d}-1.h5") as f1, h5py.File(f"{d}-3.h5") as f3:
    for k in ("patterns", "initial_states"):
        a, b = f1[k][()], f3[k][()]
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), f"/{k} differs"
    x1, x3 = f1["final_states"][()], f3["final_states"][()]
assert x1.shape == x3.shape and x1.size > 0, (x1.shape, x3.shape)
t1, t3 = s1["trials"], s3["trials"]
assert len(t1) == len(t3) > 0, (len(t1), len(t3))
for a, b in zip(t1, t3):
    for k in ("label", "nearest_memory"):
        assert a[k] == b[k], f"trial {a['trial']} {k}: {a[k]!r} on 1 rank, {b[k]!r} on 3 nodes"
rtol, atol = float(s1["integrator"]["rtol"]), float(s1["integrator"]["atol"])
tol = 10 * (rtol * float(np.max(np.abs(x1))) + atol)
diff = float(np.max(np.abs(x1 - x3)))
assert diff <= tol, f"/final_states differ by {diff:.3e} > {tol:.3e}"
print(f"  labels {[t['label'] for t in t3]} on hosts {s3['hosts']}; max |final state difference| {diff:.2e} (tolerance {tol:.2e})")
PY
}

# run_case NAME ARGS...: 1 rank on the host, 3 nodes x 1 rank on the cluster, then compare
run_case() {
  local name=$1; shift
  local args=(retrieve -neurons 400 -memories 5 -trials 3 -seed 3 "$@")
  log "$name: ${args[*]}"
  mpiexec --allow-run-as-root --oversubscribe -n 1 "$exe" "${args[@]}" -summary "$out/$name-1.json" \
    -output "$out/$name-1.h5" > "$out/$name-1.log" 2>&1 || { tail -n 20 "$out/$name-1.log" >&2; fail "$name: 1-rank run failed"; }
  local tx0 tx1 t=$SECONDS
  tx0=$(tx_bytes n3)
  bash "$cl" mpirun -n 3 --map-by node "$exe" "${args[@]}" -summary "$out/$name-3.json" \
    -output "$out/$name-3.h5" > "$out/$name-3.log" 2>&1 || { tail -n 20 "$out/$name-3.log" >&2; fail "$name: 3-node run failed"; }
  tx1=$(tx_bytes n3)
  [ "$tx1" -gt "$tx0" ] || fail "$name: n3's eth0 sent no bytes during the 3-node run ($tx0 -> $tx1)"
  compare "$name" || fail "$name: the 3-node run differs from the 1-rank run"
  echo "  3-node run $((SECONDS - t)) s, n3 sent $((tx1 - tx0)) bytes on eth0"
}

run_case dense -storage dense
run_case aij-diluted -storage aij -indegree 40
run_case compressed -storage compressed -indegree 40
run_case lowrank -storage lowrank
run_case ei -storage lowrank -network ei -stiffness 100

# a capped link (tc tbf on n2, both directions) changes nothing but the time
bash "$cl" shape n2 200mbit
bash "$cl" exec n2 tc qdisc show dev eth0 | grep -q 'tbf .*rate 200Mbit' || fail "shape n2 200mbit: no tbf qdisc on n2's eth0"
run_case dense-shaped -storage dense
bash "$cl" shape n2 off
bash "$cl" exec n2 tc qdisc show dev eth0 | grep -q tbf && fail "shape n2 off: the tbf qdisc is still there"

# --- SLURM across the nodes: a retrieval job started on 3 nodes, signalled, requeued, resumed on 2
log "SLURM: restarting the cluster with munged, slurmctld and one slurmd per node"
bash "$cl" down
need=()
for p in slurm-wlm munge; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || fail "could not install ${need[*]}"
fi
# 2 CPUs per node (this machine's count), so that 3 tasks fit on 2 nodes after the requeue
RATEMEM_CLUSTER_SLOTS=2 bash "$cl" up --slurm || fail "scripts/cluster_local.sh up --slurm failed"
sl() { bash "$cl" exec n1 "$@"; }     # every SLURM command inside node 1, with the cluster's SLURM_CONF
job_field() { sl scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
wait_state() {  # wait_state JOB SECONDS PATTERN: until "JobState Restarts" matches PATTERN
  local end=$((SECONDS + $2)) s
  while :; do
    s="$(job_field "$1" JobState) $(job_field "$1" Restarts)"
    [[ $s =~ $3 ]] && return 0
    [[ $s =~ ^(FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE) ]] && fail "job $1 ended as $s"
    [ $SECONDS -lt $end ] || fail "job $1 is '$s' after $2 s (waited for $3)"
    sleep 0.5
  done
}
[ "$(sl sinfo -h -N -o %t | grep -c '^idle')" -eq 3 ] || fail "not 3 idle SLURM nodes: $(sl sinfo -h -N -o '%N %t' | tr '\n' ' ')"
[ "$(sl srun -N 3 hostname | sort | tr '\n' ' ')" = "n1 n2 n3 " ] || fail "srun -N 3 hostname did not run on n1 n2 n3"

# the job's options: the tiny retrieval, shortened (each Euler step costs an MPI reduction over TCP)
jopts=(-monitor -monitor_every 1000 -trials 3 -euler_dt 1e-3)
log "SLURM: reference, the same retrieval uninterrupted on 1 rank (mpiexec on the host)"
mpiexec --allow-run-as-root --oversubscribe -n 1 "$exe" retrieve -options_file_yaml "$repo/configs/jobs/retrieve_tiny.yaml" \
  "${jopts[@]}" -summary "$out/jref.json" -output "$out/jref.h5" > "$out/jref.log" 2>&1 || { tail -n 20 "$out/jref.log" >&2; fail "reference run failed"; }
log "SLURM: sbatch -N 3 -n 3 jobs/retrieve.sbatch, USR1 mid-run, requeued, resumed on 2 nodes (3 ranks)"
export RATEMEM_ROOT=$repo RATEMEM_EXE=$exe RATEMEM_PYTHON=$py
unset RATEMEM_CONFIG RATEMEM_NP RATEMEM_LAUNCHER RATEMEM_REQUEUE
id=$(RATEMEM_OUT=$out/job RATEMEM_CONFIG=$repo/configs/jobs/retrieve_tiny.yaml \
     sl sbatch --parsable -N 3 -n 3 -t 10 --output="$out/job-%j.out" "$repo/jobs/retrieve.sbatch" "${jopts[@]}")
[[ $id =~ ^[0-9]+$ ]] || fail "sbatch printed no job id: $id"
end=$((SECONDS + 120))
until grep -q '^\[monitor\] trial 0' "$out"/job-*.out 2>/dev/null; do
  [ $SECONDS -lt $end ] || fail "job $id did not start ratemem within 120 s"
  sleep 0.2
done
[ ! -f "$out/job/summary.json" ] || fail "the job finished before the signal"
[ "$(job_field "$id" NumNodes)" = 3 ] || fail "job $id runs on $(job_field "$id" NumNodes) nodes, not 3"
sl scancel --signal=USR1 --batch "$id"
wait_state "$id" 120 '^PENDING 1$'
# resume on 2 nodes (as after losing one) while SLURM holds the requeued job (cred_expire + 1 = 11 s).
# The task count stays 3: the job's SLURM_NTASKS is fixed when it is submitted.
sl scontrol update JobId="$id" NumNodes=2
wait_state "$id" 600 '^COMPLETED 1$'
[ "$(job_field "$id" NumNodes)" = 2 ] || fail "the resumed job ran on $(job_field "$id" NumNodes) nodes, not 2"
jout=$(ls "$out"/job-*.out)
grep -q 'restart 0, 3 ranks' "$jout" || fail "the first start of job $id did not have 3 ranks"
grep -q 'requeueing job' "$jout" || fail "job $id did not checkpoint and requeue itself"
grep -q 'restart 1, 3 ranks' "$jout" || fail "the second start of job $id did not have 3 ranks"
grep -q 'resuming from' "$jout" || fail "job $id did not resume from its checkpoint"
[ "$(cat "$out/job/status")" = done ] || fail "job status: $(cat "$out/job/status")"
"$py" - "$out/jref.json" "$out/jref.h5" "$out/job/summary.json" "$out/job/states.h5" <<'PY' || fail "the resumed job differs from the uninterrupted run"
import json, sys
import h5py, numpy as np
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[3]))
assert b["ranks"] == 3 and sorted(set(b["hosts"])) == ["n1", "n2"], (b["ranks"], b["hosts"])
assert len(a["trials"]) == len(b["trials"]) > 0
for ta, tb in zip(a["trials"], b["trials"]):
    for k in ("label", "nearest_memory", "cue_memory", "converged"):
        assert ta[k] == tb[k], f"trial {ta['trial']}: {k} {ta[k]} != {tb[k]}"
    assert abs(ta["overlap"] - tb["overlap"]) <= 1e-6, f"trial {ta['trial']}: overlap {ta['overlap']} vs {tb['overlap']}"
assert a["counts"] == b["counts"], (a["counts"], b["counts"])
with h5py.File(sys.argv[2]) as fa, h5py.File(sys.argv[4]) as fb:
    xa, xb = fa["final_states"][()], fb["final_states"][()]
assert xa.shape == xb.shape and xa.size > 0
d = float(np.max(np.abs(xa - xb)))
assert d <= 1e-6, f"final states differ by {d}"
print(f"  resumed on {b['hosts']}: labels {[t['label'] for t in b['trials']]} as uninterrupted, final states within {d:.2e}")
PY

# --- the scaling job across 2 nodes, and the model on it with a link it measures itself
log "SLURM: sbatch -N 2 -n 2 jobs/strong_scaling.sbatch (1 and 2 ranks), then scripts/scaling_model.py"
id=$(RATEMEM_OUT=$out/scal RATEMEM_CONFIG=$repo/configs/jobs/scaling_tiny.yaml RATEMEM_RANKS=1,2 \
     sl sbatch --parsable -N 2 -n 2 -t 10 --output="$out/scal-%j.out" "$repo/jobs/strong_scaling.sbatch")
[[ $id =~ ^[0-9]+$ ]] || fail "sbatch of the scaling job printed no job id: $id"
wait_state "$id" 300 '^COMPLETED'
"$py" "$repo/scripts/scaling_model.py" --measured "$out/scal/scaling.csv" --out "$out/scal/model" --nodes 1,2,4 \
  --shared-cores "$(nproc)" --pingpong-save "$out/scal/pingpong.txt" > "$out/scal/model.log" 2>&1 \
  || { cat "$out/scal/model.log" >&2; fail "scaling_model.py on the 2-node scaling job failed"; }
"$py" - "$out/scal" <<'PY' || fail "the scaling job or its model is incomplete"
import csv, json, math, os, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(f"{d}/scaling.csv")))
assert {(r["case"], int(r["ranks"])) for r in rows} == {(c, k) for c in ("dense", "lowrank") for k in (1, 2)}, rows
for r in rows:
    assert int(r["nodes"]) == int(r["ranks"]), f"{r['name']}: {r['ranks']} ranks on {r['nodes']} nodes ({r['hosts']})"
    assert r["hosts"] == "/".join(f"n{i + 1}" for i in range(int(r["ranks"]))), r["hosts"]
pp = open(f"{d}/pingpong.txt").read()
assert "ping-pong n1 <-> n2" in pp, pp
chk = list(csv.DictReader(open(f"{d}/model/scaling_model_check.csv")))
assert {(r["case"], int(r["nodes"])) for r in chk} == {(r["case"], int(r["nodes"])) for r in rows}, chk
for r in chk:
    lat, gbit = float(r["latency_us"]), float(r["link_gbit"])
    assert lat > 0 and gbit > 0 and math.isfinite(lat) and math.isfinite(gbit), (lat, gbit)
    t, m, share = float(r["model_t_rhs_ms"]), float(r["measured_t_rhs_ms"]), float(r["model_comm_share"])
    assert t > 0 and m > 0 and math.isfinite(float(r["error"])), r
    if int(r["nodes"]) == 1:
        assert share == 0 and abs(t / m - 1) < 1e-4, r   # the one-node run calibrates the node
    else:
        assert 0 < share < 1 and float(r["model_comm_ms"]) > 0, r
ext = list(csv.DictReader(open(f"{d}/model/scaling_model.csv")))
for case in ("dense", "lowrank"):
    e = [float(r["efficiency"]) for r in sorted((r for r in ext if r["case"] == case), key=lambda r: int(r["nodes"]))]
    assert len(e) == 3 and abs(e[0] - 1) < 1e-9 and all(0 < x <= 1 + 1e-9 for x in e), (case, e)
assert "Largest error" in open(f"{d}/model/scaling_model_check.md").read()
errs = ", ".join("%+.0f%%" % (100 * float(r["error"])) for r in chk)
hosts = [r["hosts"] for r in rows]
print(f"  scaling job on hosts {hosts}; model on a measured link of {float(chk[0]['latency_us']):.1f} us, "
      f"{float(chk[0]['link_gbit']):.2f} Gbit/s; errors {errs}")
PY

log "all multi-node checks passed in $((SECONDS - t0)) s (the teardown and host check follow)"
