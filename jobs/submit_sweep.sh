#!/bin/bash
# Submits a sweep: the job array (one task per grid point of CONFIG) and a collector job that runs
# after every task has ended (afterany) and writes sweep.csv. Prints "ARRAY_JOB_ID COLLECT_JOB_ID".
#   jobs/submit_sweep.sh [CONFIG] [sbatch options for both jobs...]
#   jobs/submit_sweep.sh configs/jobs/sweep.yaml -p PART -A ACCOUNT
# Environment as for jobs/sweep.sbatch (RATEMEM_EXE, RATEMEM_OUT, ...). RATEMEM_ARRAY_LIMIT=K
# runs at most K array tasks at once (--array=0-N%K).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
config=${1:-$root/configs/jobs/sweep.yaml}
[ $# -gt 0 ] && shift
config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
py=${RATEMEM_PYTHON:-/usr/bin/python3}
n=$("$py" "$root/jobs/plan.py" sweep-count "$config")
range=0-$((n - 1))${RATEMEM_ARRAY_LIMIT:+%$RATEMEM_ARRAY_LIMIT}
export RATEMEM_ROOT=$root RATEMEM_CONFIG=$config
array=$(sbatch --parsable --array="$range" "$@" "$root/jobs/sweep.sbatch")
array=${array%%;*}
out=${RATEMEM_OUT:-$root/results/sweep-$array}
collect=$(sbatch --parsable --dependency=afterany:"$array" --ntasks=1 --job-name=ratemem-sweep-collect "$@" \
          --wrap "$py $root/jobs/collect_sweep.py $out --config $config")
echo "$array ${collect%%;*}"
