#!/bin/bash
# django-crm (DjangoCRM/django-crm) at a given commit, in its own venv, on SQLite with DEBUG off,
# set up through its own steps (manage.py setupdata: its migrations, fixtures, the superuser
# IamSUPER and the sales manager IamSALES), then filled with 100,000 companies (djcrm_fill.py).
#
#   DJCRM_GIT=<a clone or bare git dir of django-crm> scripts/side_by_side/setup_djcrm.sh [commit]
#
# Environment: DJCRM_GIT (default: clone from GitHub), DJCRM_SRC (/tmp/djcrm), DJCRM_VENV
# (/tmp/djcrm-venv), DJCRM_DB (/tmp/djcrm-data/crm.sqlite3), DJCRM_PYTHON (a Python >= 3.12:
# its requirements pin Django 6.0, which needs 3.12), COMPANIES (100000).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
COMMIT="${1:-4a0caf5}"
SRC="${DJCRM_SRC:-/tmp/djcrm}"
VENV="${DJCRM_VENV:-/tmp/djcrm-venv}"
export DJCRM_DB="${DJCRM_DB:-/tmp/djcrm-data/crm.sqlite3}"
COMPANIES="${COMPANIES:-100000}"
PY="${DJCRM_PYTHON:-$(command -v python3.12 || command -v python3.13 || echo python3)}"

if [ ! -f "$SRC/manage.py" ]; then
    GIT="${DJCRM_GIT:-}"
    if [ -z "$GIT" ]; then
        GIT=/tmp/djcrm-clone
        [ -d "$GIT" ] || git clone --bare https://github.com/DjangoCRM/django-crm.git "$GIT"
    fi
    mkdir -p "$SRC"
    git --git-dir="$GIT" archive "$COMMIT" | tar -x -C "$SRC"
fi

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
    # mysqlclient is its MySQL driver: not needed on SQLite, and it needs the MySQL headers.
    grep -v mysqlclient "$SRC/requirements.txt" | sed 's/^ *//' > "$VENV/requirements-sqlite.txt"
    "$VENV/bin/pip" install -q -r "$VENV/requirements-sqlite.txt"
fi

mkdir -p "$(dirname "$DJCRM_DB")"
cd "$SRC"
export DJANGO_SETTINGS_MODULE=djcrm_settings PYTHONPATH="$HERE:$SRC"
if [ ! -f "$DJCRM_DB" ]; then
    "$VENV/bin/python" manage.py setupdata   # migrate + loaddata + IamSUPER + IamSALES
fi
"$VENV/bin/python" "$HERE/djcrm_fill.py" --companies "$COMPANIES"
