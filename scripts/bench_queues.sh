#!/usr/bin/env bash
# The partitioned evaluation with two worker processes on each queue, side by side: the
# database queue (`fincrm db_worker`) and RQ on Redis (`fincrm rqworker`), alternating, on the
# book of FINCRM_DATABASE_URL (docs/benchmarks.md). One warm-up run first (a book's first run
# writes every classification; the next ones only what moved).
#
#   FINCRM_DATABASE_URL=postgres://…/fincrm_bench scripts/bench_queues.sh [ROUNDS] [PART_SIZE] [AS_OF]
#
# Redis at FINCRM_BENCH_REDIS_URL (default redis://127.0.0.1:6379/14; that database is emptied).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
part_size=${2:-50000}
as_of=${3:-2026-06-15}
redis_url=${FINCRM_BENCH_REDIS_URL:-redis://127.0.0.1:6379/14}
export FINCRM_DEBUG=${FINCRM_DEBUG:-1}
fincrm=.venv/bin/fincrm
pids=()

stop_workers() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap stop_workers EXIT

one_run() {  # queue label: db or rq
  local queue=$1 out
  if [ "$queue" = rq ]; then
    export FINCRM_TASKS_URL=$redis_url
    redis-cli -u "$redis_url" flushdb >/dev/null
    for i in 1 2; do
      setsid $fincrm rqworker --job-class django_tasks_rq.Job default >"/tmp/bench_queues_rq$i.log" 2>&1 &
      pids+=($!)
    done
  else
    unset FINCRM_TASKS_URL
    for i in 1 2; do
      setsid $fincrm db_worker --no-reload --interval 0.2 --no-startup-delay --worker-id "bench$i" >"/tmp/bench_queues_db$i.log" 2>&1 &
      pids+=($!)
    done
  fi
  # The workers are up (Django loaded) before the run starts: RQ's register in Redis; the
  # database queue's have no register, they get the same 15 s.
  sleep 15
  if [ "$queue" = rq ]; then
    for _ in $(seq 1 60); do
      [ "$(redis-cli -u "$redis_url" scard rq:workers)" -ge 2 ] && break; sleep 1
    done
  fi
  out=$($fincrm evaluate --partitioned --part-size "$part_size" --as-of "$as_of" --wait)
  stop_workers
  echo "$queue: $(echo "$out" | tail -n 1)"
}

echo "warm-up"; one_run db
for round in $(seq 1 "$rounds"); do
  echo "round $round"
  one_run db
  one_run rq
done
