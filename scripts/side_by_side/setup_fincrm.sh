#!/bin/bash
# fincrm's 100,000-client SQLite book, as `fincrm bench list --customers 100000 --database-url …`
# prepares it (phase_prepare): migrations, `fincrm demo-data --customers 100000 --seed 7`, the
# book's first full evaluation run (the list shows each client's tier and grade from it).
# Reused when it is already there.
#
#   scripts/side_by_side/setup_fincrm.sh
#
# FINCRM_DB (default /tmp/fincrm_perf/book-100000.sqlite3); FINCRM_SRC: the source to run
# (default the checkout's src; e.g. a `git archive HEAD` export's src, so that other sessions'
# uncommitted work in the checkout is not what gets measured), with the checkout's venv.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="${FINCRM_DB:-/tmp/fincrm_perf/book-100000.sqlite3}"
SRC="${FINCRM_SRC:-$ROOT/src}"
mkdir -p "$(dirname "$DB")"
export FINCRM_DATABASE_URL="sqlite:///$DB" FINCRM_DEBUG=1 PYTHONPATH="$SRC"
PY="$ROOT/.venv/bin/python"
count() {
    "$PY" -c "
import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'fincrm.settings'); django.setup()
$1"
}
"$PY" -m fincrm.manage migrate -v0
clients=$(count "from fincrm.customers.models import Customer; print(Customer.objects.count())")
if [ "$clients" != 100000 ]; then
    "$PY" -m fincrm.manage demo-data --customers 100000 --seed 7 --reset
fi
runs=$(count "from fincrm.evaluation.models import EvaluationRun
print(EvaluationRun.objects.filter(status='succeeded').count())")
if [ "$runs" = 0 ]; then
    "$PY" -m fincrm.manage evaluate --full
fi
echo "book ready: $DB"
