#!/usr/bin/env bash
# The multi-node scaling campaign on the emulated cluster of scripts/cluster_local.sh (docs/scaling.md):
# jobs/strong_scaling.sbatch and jobs/weak_scaling.sbatch through the cluster's SLURM, one job per
# node count (sbatch -N N -n N, 1 rank per node, RATEMEM_RANKS=N), on links unshaped and capped with
# tc tbf on every node; the link measured by a ping-pong (scripts/scaling_model.py --pingpong-only)
# under each shape; repeated REPS times with the shapes interleaved (a different order each
# repetition); then per shape the report of the median runs and the model against them.
#
#   scripts/scaling_campaign.sh OUT [--reps 3] [--shapes off,10gbit,1gbit] [--nodes 1,2,3]
#                                   [--kinds strong,weak] [--config configs/jobs/scaling_cluster.yaml]
#
# Output: OUT/SHAPE/repI/KIND-NN/ (each job's runs and report), OUT/SHAPE/pingpong-repI.txt, and
# OUT/SHAPE/scaling.{csv,md,png}, scaling_model{,_check}.{csv,md} (+ scaling_model.png).
# Environment: RATEMEM_CLUSTER_DIR (/tmp/rm-cluster-campaign) and RATEMEM_CLUSTER_NET (10.215.0) of the
# cluster it starts and always stops; RATEMEM_EXE (build/ratemem). Needs root, slurm-wlm, munge,
# openmpi-bin, mpicc. OUT must be visible inside the nodes (not under /tmp unless under the cluster's
# directory): a path on the host's disk is.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cl=$repo/scripts/cluster_local.sh
py=/usr/bin/python3
die() { echo "scaling_campaign: error: $*" >&2; exit 1; }
log() { echo "[$(date -u +%H:%M:%S)] scaling_campaign: $* (load $(cut -d' ' -f1-3 /proc/loadavg))"; }

[ $# -ge 1 ] || { sed -n '9,10p' "$0" >&2; exit 1; }
out=$1; shift
reps=3 shapes=off,10gbit,1gbit nodelist=1,2,3 kinds=strong,weak config=$repo/configs/jobs/scaling_cluster.yaml
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --shapes) shapes=$2; shift 2 ;;
    --nodes) nodelist=$2; shift 2 ;;
    --kinds) kinds=$2; shift 2 ;;
    --config) config=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || die "--reps $reps is not a positive count"
[[ $nodelist =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--nodes $nodelist is not a list of node counts"
[ -f "$config" ] || die "config $config not found"
exe=${RATEMEM_EXE:-$repo/build/ratemem}
[ -x "$exe" ] || die "ratemem binary $exe not found (bash scripts/build.sh)"
IFS=, read -r -a shape_list <<< "$shapes"
IFS=, read -r -a node_list <<< "$nodelist"
IFS=, read -r -a kind_list <<< "$kinds"
for k in "${kind_list[@]}"; do [ "$k" = strong ] || [ "$k" = weak ] || die "--kinds: '$k' is not strong or weak"; done
for s in "${shape_list[@]}"; do [ "$s" = off ] || [[ $s =~ ^[0-9.]+[kmg]?bit$ ]] || die "--shapes: '$s' is not off or a tc rate such as 1gbit"; done
# sbatch --wait polls at growing intervals (tens of seconds idle per job): poll every 0.3 s instead
job_state() { bash "$cl" exec n1 scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n 's/^JobState=//p' | head -n 1; }
wait_job() {  # wait_job ID: until it leaves the queue; 0 if COMPLETED
  local st
  while :; do
    st=$(job_state "$1")
    case $st in
      COMPLETED) return 0 ;;
      FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED) return 1 ;;
    esac
    sleep 0.3
  done
}
maxn=0
for n in "${node_list[@]}"; do [ "$n" -gt "$maxn" ] && maxn=$n; done
mkdir -p "$out"
out=$(cd "$out" && pwd)

export RATEMEM_CLUSTER_DIR=${RATEMEM_CLUSTER_DIR:-/tmp/rm-cluster-campaign} RATEMEM_CLUSTER_NET=${RATEMEM_CLUSTER_NET:-10.215.0}
export RATEMEM_CLUSTER_NODES=$maxn RATEMEM_CLUSTER_SLOTS=1
trap 'bash "$cl" down || echo "scaling_campaign: cluster_local.sh down failed" >&2' EXIT
log "cluster of $maxn nodes with SLURM in $RATEMEM_CLUSTER_DIR on $RATEMEM_CLUSTER_NET.0/24"
# (one retry: on a loaded machine a holder is now and then not ready in time)
bash "$cl" up --slurm || { sleep 2; bash "$cl" up --slurm; }

for ((rep = 1; rep <= reps; rep++)); do
  for ((j = 0; j < ${#shape_list[@]}; j++)); do
    shape=${shape_list[$(((j + rep - 1) % ${#shape_list[@]}))]}   # interleaved: each repetition starts one shape later
    for ((i = 1; i <= maxn; i++)); do bash "$cl" shape "n$i" "$shape"; done
    mkdir -p "$out/$shape"
    log "rep $rep, links $shape: ping-pong n1 <-> n2"
    "$py" "$repo/scripts/scaling_model.py" --pingpong-only --pingpong-save "$out/$shape/pingpong-rep$rep.txt" | tail -n 2 | tr '\n' ' '
    echo
    for N in "${node_list[@]}"; do
      for kind in "${kind_list[@]}"; do
        d=$out/$shape/rep$rep/$kind-N$N
        rm -rf "$d"; mkdir -p "$d"
        log "rep $rep, links $shape: sbatch -N $N -n $N jobs/${kind}_scaling.sbatch"
        id=$(RATEMEM_OUT=$d RATEMEM_RANKS=$N RATEMEM_CONFIG=$config RATEMEM_ROOT=$repo RATEMEM_EXE=$exe RATEMEM_PYTHON=$py \
          bash "$cl" exec n1 sbatch --parsable -N "$N" -n "$N" --exclusive -t 60 -o "$d/job.out" \
          "$repo/jobs/${kind}_scaling.sbatch") || die "sbatch $kind N=$N ($shape, rep $rep) failed: $id"
        wait_job "$id" || { tail -n 20 "$d/job.out" >&2; die "job $id ($kind N=$N, $shape, rep $rep) ended $(job_state "$id")"; }
      done
    done
  done
done
for ((i = 1; i <= maxn; i++)); do bash "$cl" shape "n$i" off; done

cores=$(nproc)
for shape in "${shape_list[@]}"; do
  pp=$(ls "$out/$shape"/pingpong-rep*.txt | paste -sd, -)
  log "report and model for links $shape (ping-pongs $pp)"
  "$py" "$repo/scripts/scaling_report.py" "$out/$shape"/rep*/*/runs --out "$out/$shape" --model \
    --pingpong-file "$pp" --shared-cores "$cores" > "$out/$shape/report.txt" 2>&1 \
    || { cat "$out/$shape/report.txt" >&2; die "report for $shape failed"; }
done
log "done: $out/SHAPE/scaling.csv, scaling_model_check.md"
