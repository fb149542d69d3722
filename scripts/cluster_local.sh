#!/usr/bin/env bash
# An emulated multi-node cluster on this machine, made of Linux namespaces: for the multi-node test
# (tests/scripts/multinode_check.sh) and for trying MPI and SLURM across "nodes" by hand.
#
#   scripts/cluster_local.sh up [--slurm]       start the nodes (and munged, slurmctld, one slurmd per node)
#   scripts/cluster_local.sh down               stop everything started by up, by the recorded pids
#   scripts/cluster_local.sh exec NODE CMD...   run CMD inside NODE (SLURM_CONF and Open MPI's TCP settings set)
#   scripts/cluster_local.sh mpirun ARGS...     Open MPI's mpirun, from node 1, over TCP across the nodes
#   scripts/cluster_local.sh shape NODE RATE    cap NODE's link to RATE (tc tbf, e.g. 1gbit); RATE=off removes it
#   scripts/cluster_local.sh status             the nodes, their addresses and holder pids
#
# Environment: RATEMEM_CLUSTER_NODES (3), RATEMEM_CLUSTER_DIR (/tmp/ratemem-cluster, the state),
# RATEMEM_CLUSTER_NET (10.213.0: the private /24), RATEMEM_CLUSTER_SLOTS (1: MPI slots and SLURM
# CPUs per node).
#
# Node I is named nI and has the address NET.I on its eth0. Each node is a network + UTS (hostname
# nI) + mount namespace held by a `sleep infinity` holder whose pid is in DIR/run/nI.pid; in its mount
# namespace /etc/hosts is DIR/hosts, /tmp and /dev/shm are private tmpfs (DIR stays visible when it
# lies under /tmp), and /sys is a fresh sysfs of the node's network namespace with the host's
# /sys/fs/cgroup bound back in (slurmd needs it). A switch namespace of its own (DIR/run/switch.pid)
# holds a bridge and one veth per node; both ends of every veth are created inside these namespaces
# and no address exists outside them, so the host's interfaces, routes and qdiscs stay as they were
# and nothing routes out. Every command the script runs in a namespace first checks that the holder
# really has a namespace of its own.
#
# Needs root, iproute2, util-linux (unshare, nsenter); mpirun needs openmpi-bin; --slurm needs
# slurm-wlm and munge. Exit codes: 0 ok, 1 error (usage, missing program, a daemon that failed),
# 77 the kernel forbids what the cluster needs (namespaces, veth, bridge), named in the message.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin

self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
nodes=${RATEMEM_CLUSTER_NODES:-3}
dir=${RATEMEM_CLUSTER_DIR:-/tmp/ratemem-cluster}
net=${RATEMEM_CLUSTER_NET:-10.213.0}
slots=${RATEMEM_CLUSTER_SLOTS:-1}

case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
# a cluster that is up keeps the sizes it was started with
if [ "${1:-}" != up ] && [ -f "$dir/cluster.env" ]; then
  nodes=$(sed -n 's/^RATEMEM_CLUSTER_NODES=//p' "$dir/cluster.env")
  net=$(sed -n 's/^RATEMEM_CLUSTER_NET=//p' "$dir/cluster.env")
  slots=$(sed -n 's/^RATEMEM_CLUSTER_SLOTS=//p' "$dir/cluster.env")
fi
subnet=$net.0/24

die() { echo "cluster_local: error: $*" >&2; exit 1; }
forbid() { echo "cluster_local: the kernel forbids it: $*" >&2; exit 77; }
usage() { sed -n '5,14p' "$self" >&2; exit 1; }

[[ $nodes =~ ^[0-9]+$ ]] && [ "$nodes" -ge 1 ] && [ "$nodes" -le 250 ] || die "RATEMEM_CLUSTER_NODES=$nodes is not a node count in 1..250"
[[ $net =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "RATEMEM_CLUSTER_NET=$net is not the first three numbers of a /24 (e.g. 10.213.0)"
[[ $slots =~ ^[0-9]+$ ]] && [ "$slots" -ge 1 ] || die "RATEMEM_CLUSTER_SLOTS=$slots is not a positive count"

ns_of() { readlink "/proc/$1/ns/$2" 2>/dev/null; }   # ns_of PID net|uts|mnt: e.g. net:[4026532]
host_net=$(ns_of $$ net)

# holder_pid NAME: the live holder's pid, which must have namespaces other than this script's
holder_pid() {
  local f=$dir/run/$1.pid pid
  [ -f "$f" ] || die "no holder for '$1' in $dir (is the cluster up? nodes: n1..n$nodes)"
  pid=$(cat "$f")
  alive "$pid" || die "the holder of '$1' (pid $pid) is gone; run '$self down' and up again"
  # the guard that keeps every command off the host's network stack
  [ "$(ns_of "$pid" net)" != "$host_net" ] || die "holder of '$1' (pid $pid) is in the host's network namespace; refusing"
  echo "$pid"
}

alive() {  # alive PID: running and not a zombie (PID 1 here reaps slowly)
  local st
  kill -0 "$1" 2>/dev/null || return 1
  st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

in_switch() { nsenter -t "$(holder_pid switch)" -n -- "$@"; }          # network commands of the switch
in_node_net() { local p; p=$(holder_pid "$1"); shift; nsenter -t "$p" -n -- "$@"; }

# in_node NODE CMD...: CMD in all of NODE's namespaces, in the caller's directory when the node sees it.
# Open MPI is pointed at the cluster's network (TCP on its subnet, yielding when idle: 2 cores here), so
# ranks started by srun or by a job inherit it; SLURM_CONF too, so no SLURM command ever asks DNS for
# the controller.
in_node() {
  local p; p=$(holder_pid "$1"); shift
  local env=(OMPI_MCA_btl=tcp,self OMPI_MCA_btl_tcp_if_include="$subnet" OMPI_MCA_oob_tcp_if_include="$subnet"
             OMPI_MCA_mpi_yield_when_idle=1)
  [ -f "$dir/slurm.conf" ] && env+=(SLURM_CONF="$dir/slurm.conf")
  nsenter -t "$p" -n -u -m -- env "${env[@]}" /bin/sh -c \
    'cd "$0" 2>/dev/null || cd "$1" || exit 1; shift; exec "$@"' "$PWD" "$dir" "$@"
}

node_index() {  # node_index NAME|ADDRESS: I of nI
  local h=$1 i
  for ((i = 1; i <= nodes; i++)); do
    if [ "$h" = "n$i" ] || [ "$h" = "$net.$i" ]; then echo "$i"; return 0; fi
  done
  return 1
}

wait_for() {  # wait_for SECONDS CMD...: retry every 0.1 s
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt "$end" ] || return 1
    sleep 0.1
  done
}

stop_pid() {  # stop_pid PID NAME: TERM, KILL after 5 s; a zombie counts as gone
  local pid=$1 name=$2
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do alive "$pid" || return 0; sleep 0.1; done
  echo "cluster_local: $name (pid $pid) still running after 5 s, killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 20); do alive "$pid" || return 0; sleep 0.1; done
}

stop_pidfile() { [ -f "$1" ] && stop_pid "$(cat "$1")" "$2"; rm -f "$1"; }

# start_holder NAME SETUP: a `sleep infinity` in new network, UTS and mount namespaces, after SETUP ran in them
start_holder() {
  local name=$1 setup=$2 pid
  rm -f "$dir/run/$name.ready"
  unshare -n -u -m --propagation private -- /bin/sh -c \
    "set -e; $setup; echo \$\$ > '$dir/run/$name.ready'; exec sleep infinity" \
    < /dev/null > "$dir/log/$name.log" 2>&1 &
  pid=$!
  echo "$pid" > "$dir/run/$name.pid"
  # ready = SETUP ran after unshare(2) (so /proc/PID/ns/ now shows the new namespaces)
  until [ -f "$dir/run/$name.ready" ]; do
    alive "$pid" || die "holder '$name' failed: $(tail -n 3 "$dir/log/$name.log" | tr '\n' ' ')"
    sleep 0.02
  done
  [ "$(cat "$dir/run/$name.ready")" = "$pid" ] || die "holder '$name': pid mismatch"
  local t
  for t in net uts mnt; do
    [ "$(ns_of "$pid" $t)" != "$(ns_of $$ $t)" ] || die "holder '$name' shares the host's $t namespace"
  done
}

probe_kernel() {  # exit 77 naming what the kernel does not allow
  local t flag err
  for t in network:-n UTS:-u mount:-m; do
    flag=${t#*:}
    err=$(unshare "$flag" true 2>&1) || forbid "cannot create a $t namespace (unshare $flag: $err)"
  done
  err=$(unshare -n -m --propagation private -- /bin/sh -c 'mount -t tmpfs tmpfs /tmp && mount -t sysfs sysfs /sys' 2>&1) \
    || forbid "cannot mount tmpfs and sysfs in a new mount namespace ($err)"
}

node_setup() {  # the mounts of node I's holder (run by /bin/sh inside its new namespaces)
  local i=$1 s="hostname n$i"
  # the host's cgroup tree, parked on /dev/shm while /sys is replaced (gVisor resolves
  # /proc/self/fd links by name, so an fd cannot carry it across)
  s+="; mount --rbind /sys/fs/cgroup /dev/shm; mount -t sysfs sysfs /sys; mount --move /dev/shm /sys/fs/cgroup"
  # The checkout (this script's repository) must stay visible too when it lies under /tmp (a CI
  # clone): it is bound under DIR first, carried across with DIR, and moved back to its own path.
  local repo_dir
  repo_dir=$(cd "$(dirname "$self")/.." && pwd)
  case $dir/ in
    /tmp/*)  # a private /tmp that still shows DIR
      case $repo_dir/ in
        /tmp/*)
          s+="; mkdir -p '$dir/.repo'; mount --bind '$repo_dir' '$dir/.repo'; mount --rbind '$dir' /dev/shm"
          s+="; mount -t tmpfs -o mode=1777 tmpfs /tmp; mkdir -p '$dir' '$repo_dir'; mount --move /dev/shm '$dir'"
          s+="; mount --move '$dir/.repo' '$repo_dir'" ;;
        *) s+="; mount --bind '$dir' /dev/shm; mount -t tmpfs -o mode=1777 tmpfs /tmp; mkdir -p '$dir'; mount --move /dev/shm '$dir'" ;;
      esac ;;
    *) s+="; mount -t tmpfs -o mode=1777 tmpfs /tmp" ;;
  esac
  s+="; mount -t tmpfs -o mode=1777 tmpfs /dev/shm; mount --bind '$dir/hosts' /etc/hosts"
  echo "$s"
}

write_files() {
  local i
  { echo "127.0.0.1 localhost"; for ((i = 1; i <= nodes; i++)); do echo "$net.$i n$i"; done; } > "$dir/hosts"
  for ((i = 1; i <= nodes; i++)); do echo "n$i slots=$slots"; done > "$dir/hostfile"
  printf '#!/bin/sh\nRATEMEM_CLUSTER_DIR=%q RATEMEM_CLUSTER_NODES=%q RATEMEM_CLUSTER_NET=%q exec bash %q rsh "$@"\n' \
    "$dir" "$nodes" "$net" "$self" > "$dir/rsh-agent"
  chmod 0755 "$dir/rsh-agent"
  { echo "RATEMEM_CLUSTER_NODES=$nodes"; echo "RATEMEM_CLUSTER_NET=$net"; echo "RATEMEM_CLUSTER_SLOTS=$slots"; } > "$dir/cluster.env"
}

up_network() {
  local i pid
  start_holder switch "true"
  in_switch ip link set lo up
  in_switch ip link add br0 type bridge 2>/dev/null || forbid "cannot create a bridge in a network namespace (CONFIG_BRIDGE)"
  in_switch ip link set br0 up
  for ((i = 1; i <= nodes; i++)); do
    start_holder "n$i" "$(node_setup "$i")"
    pid=$(holder_pid "n$i")
    # both ends created in our namespaces: vI in the switch, its peer eth0 straight into the node
    in_switch ip link add "v$i" type veth peer name eth0 netns "$pid" 2>/dev/null \
      || forbid "cannot create a veth pair between network namespaces (CONFIG_VETH)"
    in_switch ip link set "v$i" master br0 up
    in_node_net "n$i" ip link set lo up
    in_node_net "n$i" ip addr add "$net.$i/24" dev eth0
    in_node_net "n$i" ip link set eth0 up
  done
}

slurm_conf() {
  local mem i
  mem=$(awk -v n="$nodes" '/MemTotal/ {printf "%d", $2 / 1024 * 0.8 / n}' /proc/meminfo)
  cat <<EOF
# written by scripts/cluster_local.sh: $nodes emulated nodes (network namespaces) on $subnet
ClusterName=ratemem-cluster
SlurmctldHost=n1($net.1)
SlurmctldPort=6817
SlurmdPort=6818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job may start again cred_expire + 1 s after the requeue (default 120)
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
StateSaveLocation=$dir/slurm/state
SlurmdSpoolDir=$dir/slurm/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pidfile
SlurmdPidFile=$dir/run/slurmd-%n.pidfile
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
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
MinJobAge=600
KillWait=10
InactiveLimit=0
SlurmdTimeout=300
JobRequeue=1
EOF
  for ((i = 1; i <= nodes; i++)); do
    echo "NodeName=n$i NodeAddr=$net.$i NodeHostname=n$i CPUs=$slots RealMemory=$mem State=UNKNOWN"
  done
  echo "PartitionName=local Nodes=n[1-$nodes] Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO"
}

slurm_log_tail() {
  local f
  for f in "$dir"/log/munged.log "$dir"/log/slurm*.log "$dir"/log/slurm*.out; do
    [ -s "$f" ] && { echo "--- $f (last lines)" >&2; tail -n 10 "$f" >&2; }
  done
  return 0
}

up_slurm() {
  local p i
  for p in munged slurmctld slurmd sinfo scontrol; do
    command -v "$p" >/dev/null || die "$p not found (install slurm-wlm and munge: scripts/install-deps.sh)"
  done
  mkdir -p "$dir/munge" "$dir/slurm/state"
  chmod 0700 "$dir/munge"
  for ((i = 1; i <= nodes; i++)); do mkdir -p "$dir/slurm/spool/n$i"; done
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 0400 "$dir/munge/munge.key"
  # one munged for all nodes: its socket is a file in DIR, which every node sees
  in_node n1 munged -F --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/run/munged.pidfile" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" \
    < /dev/null > "$dir/log/munged.out" 2>&1 &
  echo $! > "$dir/run/munged.pid"
  wait_for 10 test -S "$dir/munge/munge.socket" || { slurm_log_tail; die "munged did not create its socket"; }
  slurm_conf > "$dir/slurm.conf"
  in_node n1 slurmctld -D -i -f "$dir/slurm.conf" < /dev/null > "$dir/log/slurmctld.out" 2>&1 &
  echo $! > "$dir/run/slurmctld.pid"
  ctl_up() { [[ $(in_node n1 scontrol ping 2>&1) == *UP* ]]; }
  wait_for 20 ctl_up || { slurm_log_tail; die "slurmctld did not answer"; }
  for ((i = 1; i <= nodes; i++)); do
    in_node "n$i" slurmd -D -f "$dir/slurm.conf" < /dev/null > "$dir/log/slurmd-n$i.out" 2>&1 &
    echo $! > "$dir/run/slurmd-n$i.pid"
  done
  all_idle() { [ "$(in_node n1 sinfo -h -N -o '%t' | grep -c '^idle')" -eq "$nodes" ]; }
  wait_for 30 all_idle || { slurm_log_tail; die "the $nodes slurmd did not all become idle: $(in_node n1 sinfo -h -N -o '%N %t' | tr '\n' ' ')"; }
}

# kill_inside: any process left in a node's network namespace (a job step, an orted) is ours
kill_inside() {
  local f pid nsset="" p
  for f in "$dir"/run/n*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f"); alive "$pid" || continue
    nsset+=" $(ns_of "$pid" net) "
  done
  [ -n "$nsset" ] || return 0
  for sig in TERM KILL; do
    local left=0
    for p in /proc/[0-9]*; do
      p=${p#/proc/}
      [ "$p" = $$ ] && continue
      [[ $nsset == *" $(ns_of "$p" net) "* ]] || continue
      grep -qx "$p" "$dir"/run/n*.pid 2>/dev/null && continue   # the holders go last
      alive "$p" || continue
      kill -"$sig" "$p" 2>/dev/null || true
      left=1
    done
    [ $left -eq 1 ] || break
    sleep 0.5
  done
}

do_down() {
  [ -d "$dir/run" ] || return 0
  if [ -f "$dir/slurm.conf" ] && [ -f "$dir/run/slurmctld.pid" ] && alive "$(cat "$dir/run/slurmctld.pid")"; then
    in_node n1 scancel --partition=local >/dev/null 2>&1 || true
  fi
  local f
  for f in "$dir"/run/slurmd-n*.pid; do [ -f "$f" ] && stop_pidfile "$f" "slurmd $(basename "$f" .pid)"; done
  stop_pidfile "$dir/run/slurmctld.pid" slurmctld
  stop_pidfile "$dir/run/munged.pid" munged
  rm -f "$dir/slurm.conf"
  kill_inside
  for f in "$dir"/run/n*.pid "$dir/run/switch.pid"; do
    [ -f "$f" ] && stop_pidfile "$f" "holder $(basename "$f" .pid)"
  done
  rm -f "$dir"/run/*.ready "$dir/cluster.env"
}

[ $# -ge 1 ] || usage
cmd=$1; shift
case $cmd in
up)
  want_slurm=0
  for a in "$@"; do
    case $a in --slurm) want_slurm=1 ;; *) die "up: unknown option '$a' (only --slurm)" ;; esac
  done
  [ "$(id -u)" -eq 0 ] || die "must run as root (it creates namespaces and network devices)"
  for p in ip:iproute2 tc:iproute2 unshare:util-linux nsenter:util-linux; do
    command -v "${p%%:*}" >/dev/null || die "${p%%:*} not found (install ${p#*:}: scripts/install-deps.sh)"
  done
  if [ -d "$dir/run" ]; then
    for f in "$dir"/run/*.pid; do
      [ -f "$f" ] && alive "$(cat "$f")" && die "a cluster is already up in $dir (holder $(basename "$f" .pid)); run '$self down' first"
    done
  fi
  probe_kernel
  t0=$EPOCHREALTIME
  rm -rf "$dir/run" "$dir/log" "$dir/munge" "$dir/slurm"
  mkdir -p "$dir/run" "$dir/log"
  chmod 0755 "$dir"
  dir=$(cd "$dir" && pwd -P)
  ok=0
  trap 'rc=$?; [ $ok -eq 1 ] || { echo "cluster_local: up failed; stopping what it started" >&2; do_down; }; exit $rc' EXIT
  write_files
  up_network
  [ $want_slurm -eq 0 ] || up_slurm
  ok=1
  printf 'cluster_local: %d nodes up on %s in %.1f s%s (state in %s)\n' "$nodes" "$subnet" \
    "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {print b - a}')" "$([ $want_slurm -eq 1 ] && echo ", SLURM: SLURM_CONF=$dir/slurm.conf")" "$dir"
  ;;
down)
  do_down
  ;;
exec)
  [ $# -ge 2 ] || usage
  node=$1; shift
  node_index "$node" >/dev/null || die "no node '$node' (nodes: n1..n$nodes)"
  in_node "$node" "$@"
  ;;
rsh)  # the plm_rsh_agent of mpirun: [ssh options] HOST COMMAND...
  while [ $# -gt 0 ] && [[ $1 == -* ]]; do shift; done
  [ $# -ge 2 ] || die "rsh: need HOST COMMAND"
  i=$(node_index "$1") || die "rsh: unknown host '$1' (nodes: n1..n$nodes)"
  shift
  p=$(holder_pid "n$i")
  exec nsenter -t "$p" -n -u -m -- /bin/sh -c "cd '$dir' && $*"
  ;;
mpirun)
  command -v mpirun >/dev/null || die "mpirun not found (install openmpi-bin)"
  in_node n1 mpirun --allow-run-as-root --hostfile "$dir/hostfile" \
    --mca plm_rsh_agent "$dir/rsh-agent" --mca plm_rsh_no_tree_spawn 1 \
    --mca btl tcp,self --bind-to none --mca btl_tcp_if_include "$subnet" --mca oob_tcp_if_include "$subnet" \
    --mca mpi_yield_when_idle 1 "$@"
  ;;
shape)
  [ $# -eq 2 ] || usage
  node=$1 rate=$2
  i=$(node_index "$node") || die "no node '$node' (nodes: n1..n$nodes)"
  if [ "$rate" = off ]; then
    in_node_net "n$i" tc qdisc del dev eth0 root 2>/dev/null || true
    in_switch tc qdisc del dev "v$i" root 2>/dev/null || true
  else
    [[ $rate =~ ^[0-9.]+[kmg]?(bit|bps)$ ]] || die "shape: rate '$rate' is not a tc rate such as 100mbit or 1gbit (or off)"
    # both directions: out of the node (its eth0) and into it (the switch's end of its veth)
    in_node_net "n$i" tc qdisc replace dev eth0 root tbf rate "$rate" burst 64kb latency 50ms \
      || die "shape: tc tbf failed on n$i (CONFIG_NET_SCH_TBF?)"
    in_switch tc qdisc replace dev "v$i" root tbf rate "$rate" burst 64kb latency 50ms \
      || die "shape: tc tbf failed on the switch port of n$i"
  fi
  ;;
status)
  for ((i = 1; i <= nodes; i++)); do
    f=$dir/run/n$i.pid
    if [ -f "$f" ] && alive "$(cat "$f")"; then echo "n$i $net.$i holder $(cat "$f") $(ns_of "$(cat "$f")" net)"
    else echo "n$i down"; fi
  done
  if [ -f "$dir/slurm.conf" ]; then echo "SLURM_CONF=$dir/slurm.conf"; fi
  ;;
*) usage ;;
esac
