#!/usr/bin/env bash
# A one-node SLURM cluster on loopback, for the job tests (tests/scripts/slurm_check.sh) and for
# trying the job scripts in jobs/ by hand. Everything lives in one state directory; nothing under
# /etc is touched, and the daemons are ours alone (their own munge socket, ports, spool, logs).
#
#   scripts/slurm_local.sh start DIR [CPUS]   start munged, slurmctld, slurmd; wait until the node is idle
#   scripts/slurm_local.sh stop DIR           stop the daemons started in DIR (by their recorded pids)
#   scripts/slurm_local.sh env DIR            print `export SLURM_CONF=...` for the client commands
#
# Needs root (slurmd runs jobs as their submitting user) and the Debian packages slurm-wlm and munge
# (scripts/install-deps.sh installs them). Exit codes of start: 0 = cluster up, 77 = the daemons
# could not start on this machine (logs in DIR/log), 1 = usage or missing programs.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin   # munged, slurmctld, slurmd (a non-login PATH may lack sbin)

usage() { sed -n '2,12p' "$0" >&2; exit 1; }
[ $# -ge 2 ] || usage
cmd=$1 dir=$2
cpus=${3:-2}

# wait_for TIMEOUT CMD...: retries CMD every 0.2 s until it succeeds or TIMEOUT seconds pass
wait_for() {
  local t=$1; shift
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.2
  done
}

# free_port: a TCP port on loopback nobody listens on (asked from the kernel)
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

stop_pidfile() {   # stop_pidfile FILE NAME: TERM, then KILL after 10 s, the pid recorded in FILE
  local f=$1 name=$2 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "slurm_local: $name (pid $pid) still running after 10 s, killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
}

fail_start() {     # the daemons did not come up: say why, clean up, exit 77 (skip)
  echo "slurm_local: $1; logs in $dir/log" >&2
  for f in "$dir"/log/*.log; do
    [ -s "$f" ] && { echo "--- $f (last lines)" >&2; tail -n 15 "$f" >&2; }
  done
  "$0" stop "$dir" || true
  exit 77
}

case $cmd in
start)
  for p in munged slurmctld slurmd sbatch scontrol; do
    command -v "$p" >/dev/null || { echo "slurm_local: $p not found (install slurm-wlm and munge)" >&2; exit 1; }
  done
  [ "$(id -u)" -eq 0 ] || { echo "slurm_local: must run as root" >&2; exit 1; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  chmod 0755 "$dir"
  mkdir -p "$dir/munge" "$dir/log" "$dir/state" "$dir/spool" "$dir/run"
  chmod 0700 "$dir/munge"

  # munge: our own key and socket
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 0400 "$dir/munge/munge.key"
  munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
         --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" \
    || fail_start "munged did not start"
  wait_for 10 test -S "$dir/munge/munge.socket" || fail_start "munged did not create its socket"

  node=$(hostname -s)
  ctl_port=$(free_port)
  d_port=$(free_port)
  while [ "$d_port" = "$ctl_port" ]; do d_port=$(free_port); done
  mem=$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.8}' /proc/meminfo)
  cat > "$dir/slurm.conf" <<EOF
# written by scripts/slurm_local.sh: a one-node cluster on loopback
ClusterName=ratemem-local
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job may start again cred_expire + 1 s after the requeue (default 120)
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
ReturnToService=2
MailProg=/bin/true
# keep finished jobs visible to scontrol show job for 10 minutes
MinJobAge=600
KillWait=10
InactiveLimit=0
SlurmdTimeout=300
JobRequeue=1
NodeName=$node NodeAddr=127.0.0.1 NodeHostname=$node CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  mkdir -p "$dir/spool/$node"

  export SLURM_CONF=$dir/slurm.conf
  slurmctld -D -i -f "$dir/slurm.conf" > "$dir/log/slurmctld.out" 2>&1 &
  echo $! > "$dir/run/slurmctld.daemon.pid"
  wait_for 20 scontrol ping || fail_start "slurmctld did not answer"
  [[ $(scontrol ping 2>&1) == *UP* ]] || fail_start "slurmctld is not UP"
  slurmd -D -f "$dir/slurm.conf" > "$dir/log/slurmd.out" 2>&1 &
  echo $! > "$dir/run/slurmd.daemon.pid"
  node_idle() { [[ $(scontrol show node "$node" 2>/dev/null) == *State=IDLE* ]]; }
  wait_for 30 node_idle || fail_start "node $node did not become idle"
  echo "slurm_local: cluster up (node $node, $cpus CPUs, ports $ctl_port/$d_port); export SLURM_CONF=$dir/slurm.conf"
  ;;
stop)
  [ -d "$dir" ] || exit 0
  # cancel what is still queued or running, so no job step outlives slurmd
  if [ -f "$dir/run/slurmctld.daemon.pid" ] && kill -0 "$(cat "$dir/run/slurmctld.daemon.pid")" 2>/dev/null; then
    SLURM_CONF=$dir/slurm.conf scancel --partition=local >/dev/null 2>&1 || true
    for _ in $(seq 25); do
      [ -z "$(SLURM_CONF=$dir/slurm.conf squeue -h -t running,completing 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  stop_pidfile "$dir/run/slurmd.daemon.pid" slurmd
  stop_pidfile "$dir/run/slurmctld.daemon.pid" slurmctld
  if [ -f "$dir/run/munged.pid" ]; then stop_pidfile "$dir/run/munged.pid" munged; fi
  ;;
env)
  echo "export SLURM_CONF=$(cd "$dir" && pwd)/slurm.conf"
  ;;
*) usage ;;
esac
