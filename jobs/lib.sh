# Shared part of the ratemem job scripts (sourced by jobs/*.sbatch; not a job itself).
#
# Environment (all optional; sbatch exports the submitting shell's environment by default):
#   RATEMEM_ROOT      the ratemem checkout (default: found from the job's script path)
#   RATEMEM_EXE       the ratemem binary (default: $RATEMEM_ROOT/build/ratemem)
#   RATEMEM_CONFIG    the job's YAML config (default: per job, under configs/jobs/)
#   RATEMEM_OUT       the job's output directory (default: $RATEMEM_ROOT/results/<job>-<job id>)
#   RATEMEM_NP        MPI ranks (default: $SLURM_NTASKS under SLURM, else 2)
#   RATEMEM_RANKS     scaling jobs: the rank counts to run, e.g. "3" (default: the config's ranks up to NP)
#   RATEMEM_LAUNCHER  auto (default) | srun | mpiexec | any command taking "-n N prog args"
#   RATEMEM_PYTHON    Python with numpy/h5py/yaml (default: /usr/bin/python3)
#
# Launching MPI. Under SLURM the jobs use `srun --mpi=pmix` when SLURM has the PMIx plugin:
# Debian's Open MPI 4.1 is built against the external PMIx only, so a plain `srun` (MpiDefault=none)
# or `srun --mpi=pmi2` cannot start it (MPI_Init fails with "OMPI was not built with SLURM's PMI
# support"), while `srun --mpi=pmix` works (checked on the local cluster of scripts/slurm_local.sh).
# Without the PMIx plugin they use Open MPI's mpiexec, which is SLURM-aware inside an allocation.
# Outside SLURM: mpiexec --allow-run-as-root --oversubscribe.

# rm_find_root SCRIPT: sets RATEMEM_ROOT. sbatch runs a copy of the script from its spool
# directory, so under SLURM the original path comes from `scontrol show job` (Command=).
rm_find_root() {
  local script=$1 cmd
  if [ -z "${RATEMEM_ROOT:-}" ] && [ -n "${SLURM_JOB_ID:-}" ] && command -v scontrol >/dev/null; then
    cmd=$(scontrol show job "$SLURM_JOB_ID" 2>/dev/null | sed -n 's/^ *Command=\([^ ]*\).*/\1/p' | head -n 1)
    if [ -n "$cmd" ] && [ -f "$(dirname "$cmd")/lib.sh" ]; then RATEMEM_ROOT=$(cd "$(dirname "$cmd")/.." && pwd); fi
  fi
  if [ -z "${RATEMEM_ROOT:-}" ] && [ -f "$(dirname "$script")/lib.sh" ]; then
    RATEMEM_ROOT=$(cd "$(dirname "$script")/.." && pwd)
  fi
  if [ -z "${RATEMEM_ROOT:-}" ] && [ -n "${SLURM_SUBMIT_DIR:-}" ] && [ -f "$SLURM_SUBMIT_DIR/jobs/lib.sh" ]; then
    RATEMEM_ROOT=$SLURM_SUBMIT_DIR
  fi
  [ -n "${RATEMEM_ROOT:-}" ] || { echo "ratemem job: error: cannot find the ratemem checkout; set RATEMEM_ROOT" >&2; exit 1; }
  export RATEMEM_ROOT
}

rm_log() { echo "[$(date -u +%H:%M:%S)] ratemem job: $*" >&2; }   # stderr: stays in the job output while a run's stdout is redirected
rm_die() { echo "ratemem job: error: $*" >&2; exit 1; }

# rm_init JOBNAME DEFAULT_CONFIG: sets EXE, CONFIG, OUT, NP, PY and checks them
rm_init() {
  local name=$1 default_config=$2 id
  EXE=${RATEMEM_EXE:-$RATEMEM_ROOT/build/ratemem}
  [ -x "$EXE" ] || rm_die "ratemem binary $EXE not found (build it, or set RATEMEM_EXE)"
  CONFIG=${RATEMEM_CONFIG:-$RATEMEM_ROOT/$default_config}
  [ -f "$CONFIG" ] || rm_die "config $CONFIG not found"
  if [ -n "${SLURM_ARRAY_JOB_ID:-}" ]; then id=$SLURM_ARRAY_JOB_ID
  elif [ -n "${SLURM_JOB_ID:-}" ]; then id=$SLURM_JOB_ID
  else id=local-$(date -u +%Y%m%dT%H%M%S)-$$
  fi
  OUT=${RATEMEM_OUT:-$RATEMEM_ROOT/results/$name-$id}
  mkdir -p "$OUT"
  OUT=$(cd "$OUT" && pwd)
  NP=${RATEMEM_NP:-${SLURM_NTASKS:-2}}
  PY=${RATEMEM_PYTHON:-/usr/bin/python3}
  [ -x "$PY" ] || PY=python3
  rm_log "$name: job ${SLURM_JOB_ID:-(none)}${SLURM_ARRAY_TASK_ID:+ array task $SLURM_ARRAY_TASK_ID}," \
         "restart ${SLURM_RESTART_COUNT:-0}, $NP ranks, config $CONFIG, output $OUT, load $(cut -d' ' -f1-3 /proc/loadavg)"
}

# rm_launcher: sets the array LAUNCH (the command that takes "-n N prog args")
rm_launcher() {
  local want=${RATEMEM_LAUNCHER:-auto}
  if [ "$want" = auto ]; then
    if [ -n "${SLURM_JOB_ID:-}" ] && command -v srun >/dev/null; then
      local types
      types=$(srun --mpi=list 2>&1 || true)   # (no `| grep -q` under pipefail: SIGPIPE races)
      if grep -qw pmix <<< "$types"; then want=srun; else want=mpiexec; fi
    else
      want=mpiexec
    fi
  fi
  case $want in
    srun) LAUNCH=(srun --mpi=pmix --kill-on-bad-exit=0) ;;
    mpiexec)
      LAUNCH=(mpiexec)
      [ "$(id -u)" -eq 0 ] && LAUNCH+=(--allow-run-as-root)
      # inside an allocation the slots are SLURM's; outside, allow more ranks than cores
      [ -n "${SLURM_JOB_ID:-}" ] || LAUNCH+=(--oversubscribe)
      ;;
    *) read -r -a LAUNCH <<< "$want" ;;
  esac
}

# Signals. With `#SBATCH --signal=B:USR1@T` SLURM signals only this batch shell, T seconds before
# the time limit. The shell forwards it to the launcher as SIGUSR1 (srun and Open MPI's mpiexec
# both pass SIGUSR1 on to every rank); SIGTERM (scancel, or the time limit itself) is forwarded as
# SIGUSR1 too, because mpiexec answers SIGTERM by killing the ranks, which would lose the checkpoint.
RM_CHILD=
RM_SIGNALLED=
rm_forward() {
  RM_SIGNALLED=$1
  if [ -n "$RM_CHILD" ] && kill -0 "$RM_CHILD" 2>/dev/null; then
    rm_log "got SIG$1; asking ratemem (launcher pid $RM_CHILD) to checkpoint and stop"
    kill -USR1 "$RM_CHILD" 2>/dev/null || true
  else
    # no run to stop: a TERM ends the job script itself (it must not be swallowed); a USR1 is noted
    rm_log "got SIG$1 with no run in progress"
    if [ "$1" = TERM ]; then exit 143; fi
  fi
}
trap 'rm_forward USR1' USR1
trap 'rm_forward TERM' TERM

# rm_run ARGS...: "${LAUNCH[@]}" -n $NP ARGS in the background, waits for it through signals;
# returns its exit code
rm_run() {
  local rc=0
  rm_log "run: ${LAUNCH[*]} -n $NP $*"
  "${LAUNCH[@]}" -n "$NP" "$@" &
  RM_CHILD=$!
  # `wait` returns early (status > 128) when a trapped signal arrives; wait again until the
  # launcher is gone, then collect its exit status (bash keeps it for the last wait)
  while kill -0 "$RM_CHILD" 2>/dev/null; do wait "$RM_CHILD" || true; done
  wait "$RM_CHILD" || rc=$?
  RM_CHILD=
  return $rc
}

# rm_supports OPTION: whether `ratemem retrieve -help` lists OPTION
rm_supports() {
  local help
  help=$("$EXE" retrieve -help 2>/dev/null || true)
  grep -q -- "^ *$1 " <<< "$help"
}

# rm_scaling KIND (strong | weak): every (storage, ranks, n) of the config's plan with at most $NP
# ranks (or the counts of $RATEMEM_RANKS), one `ratemem retrieve` each with -summary and -log_view into $OUT/runs/, then the report
# (scripts/scaling_report.py) into $OUT/. Each run's launcher, load average before and after, and
# wall time go into runs/NAME.meta.json.
rm_scaling() {
  local kind=$1 storage r n name t0 t1 rc failed=0 plan
  local -a opts
  shift
  mkdir -p "$OUT/runs"
  cp -f "$CONFIG" "$OUT/scaling.yaml"
  plan=$("$PY" "$RATEMEM_ROOT/jobs/plan.py" scaling "$CONFIG" "$kind" "$NP" "${RATEMEM_RANKS:-}") || rm_die "no scaling plan (above)"
  while read -r storage r n; do
    name=$kind-$storage-np$r
    mapfile -t opts < <("$PY" "$RATEMEM_ROOT/jobs/plan.py" scaling-args "$CONFIG" "$storage" "$r" "$n")
    local load0 load1
    load0=$(cut -d' ' -f1 /proc/loadavg)
    t0=$(date +%s.%N)
    rc=0
    NP=$r rm_run "$EXE" retrieve "${opts[@]}" -summary "$OUT/runs/$name.json" -log_view ":$OUT/runs/$name.log_view" \
         -quiet "$@" < /dev/null > "$OUT/runs/$name.out" 2>&1 || rc=$?
    t1=$(date +%s.%N)
    load1=$(cut -d' ' -f1 /proc/loadavg)
    printf '{"kind": "%s", "case": "%s", "ranks": %d, "neurons": %d, "launcher": "%s", "nodes": %s, "load_before": %s, "load_after": %s, "launch_wall_s": %s, "exit_code": %d}\n' \
      "$kind" "$storage" "$r" "$n" "${LAUNCH[*]}" "${SLURM_JOB_NUM_NODES:-1}" "$load0" "$load1" \
      "$(awk "BEGIN {printf \"%.3f\", $t1 - $t0}")" "$rc" > "$OUT/runs/$name.meta.json"
    if [ "$rc" -ne 0 ]; then rm_log "$name failed ($rc): $(tail -n 1 "$OUT/runs/$name.out")"; failed=1
    else rm_log "$name: n = $n, $r ranks, $(awk "BEGIN {printf \"%.3f\", $t1 - $t0}") s"
    fi
  done <<< "$plan"
  "$PY" "$RATEMEM_ROOT/scripts/scaling_report.py" "$OUT/runs" --out "$OUT" --kind "$kind" \
    || rm_die "scripts/scaling_report.py failed"
  [ "$failed" -eq 0 ] || rm_die "some runs failed (see $OUT/runs/*.out)"
  rm_log "done: $OUT/scaling.csv, $OUT/scaling.md, $OUT/scaling.png"
}
