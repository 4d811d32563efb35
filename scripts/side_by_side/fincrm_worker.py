"""fincrm's side: its own pages through Django's test client, in its own process and venv.

Started by ``driver.py`` as ``/work/main/.venv/bin/python fincrm_worker.py`` with
``FINCRM_DATABASE_URL`` (the 100k demo book), ``FINCRM_DEBUG=0`` and a secret key. Set up as a
fincrm web process is (``fincrm.wsgi`` and the page benches, ``bench.benchmarks.web_process``):
the application loaded, then ``core.gc_tuning.freeze_loaded_app()``.

Cases: the client list ``/customers/`` first page as the account manager manager1 (a restricted
role: his own clients) and as admin; the list's search (``?q=``) with a term matching a few of
manager1's clients and one matching none (the term of ``fincrm bench search``).
"""

import os
import sys
import time

from worker_common import protocol_stream, serve

OUT = protocol_stream()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fincrm.settings")
import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from fincrm.accounts.models import User  # noqa: E402
from fincrm.core.gc_tuning import freeze_loaded_app  # noqa: E402
from fincrm.customers.models import Customer  # noqa: E402

LIST = "/customers/"
HOST = "localhost"
NO_MATCH = "不存在的客户名称"


def few_matches_term(owner) -> tuple[str, int, int]:
    """The first six characters of the first of the manager's company names (by id) that match
    2 to 5 client names in the whole book: (term, matches in the book, of them the manager's)."""
    mine = Customer.objects.filter(owner=owner).exclude(credit_code=None)
    for name in mine.order_by("pk").values_list("name", flat=True)[:3000]:
        term = name[:6]
        n = Customer.objects.filter(name__contains=term).count()
        if 2 <= n <= 5:
            return term, n, Customer.objects.filter(owner=owner, name__contains=term).count()
    raise RuntimeError("no term with a few matches")


def clients() -> dict:
    result = {}
    for key, username in (("restricted", "manager1"), ("superuser", "admin")):
        client = Client()
        client.force_login(User.objects.get(username=username))
        result[key] = client
    return result


def import_file(path, rows: int) -> None:
    """``rows`` new company clients as fincrm's Chinese-header CSV: the book's first company
    rows (the columns ``fincrm bench import`` exports) under a new name and a new valid credit
    code (region 990000, as the bench's own copies use), so every row is a new client."""
    import csv

    from stdnum.cn import uscc

    from fincrm.bench.benchmarks import IMPORT_HEADERS

    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(IMPORT_HEADERS)
        values = (
            Customer.objects.exclude(credit_code=None)
            .order_by("pk")
            .values_list(
                "name", "credit_code", "id_number", "client_type", "industry", "province",
                "city", "registered_capital", "annual_revenue", "employee_count",
                "owner__username", "phone", "founded_on", "birthday",
            )[:rows]
        )  # fmt: skip
        for n, row in enumerate(values):
            row = ["" if v is None else str(v) for v in row]
            body = f"91990000{n:09d}"
            row[0] = "新" + row[0]
            row[1] = body + uscc.calc_check_digit(body)
            writer.writerow(row)


def do_import(rows: int) -> dict:
    """Its own import: ``customers.importer.customer_import`` (what the import page's job runs)
    of a CSV of ``rows`` new clients, as admin. Timed: the call; the file is written first."""
    from fincrm.customers.importer import customer_import

    path = f"/tmp/sbs-fincrm-import-{rows}.csv"
    import_file(path, rows)
    admin = User.objects.get(username="admin")
    before = Customer.objects.count()
    started = time.perf_counter()
    result = customer_import(path, user=admin)
    seconds = time.perf_counter() - started
    created = Customer.objects.count() - before
    return {
        "rows": rows,
        "created": created,
        "errors": len(result.errors),
        "seconds": seconds,
        "rows_per_s": created / seconds if seconds else 0,
        "how": "customers.importer.customer_import of a CSV (the import page's service)",
    }


def main() -> None:
    manager = User.objects.get(username="manager1")
    term, matches, his = few_matches_term(manager)
    cases = {
        "list_restricted": {"user": "restricted", "path": LIST},
        "list_superuser": {"user": "superuser", "path": LIST},
        "search_few_restricted": {
            "user": "restricted",
            "path": LIST + "?q=" + term,
            "note": f"{term!r}: {his} of manager1's clients",
        },
        "search_none_restricted": {
            "user": "restricted",
            "path": LIST + "?q=" + NO_MATCH,
            "note": f"{NO_MATCH!r}: 0 clients",
        },
        "search_few_superuser": {
            "user": "superuser",
            "path": LIST + "?q=" + term,
            "note": f"{term!r}: {matches} clients",
        },
    }
    info = {
        "clients": Customer.objects.count(),
        "restricted_owns": Customer.objects.filter(owner=manager).count(),
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "debug": settings.DEBUG,
        "db": settings.DATABASES["default"]["NAME"],
    }
    for case in cases.values():
        case["info"] = info
    logged_in = clients()
    info["gc_frozen"] = freeze_loaded_app()  # as fincrm.wsgi does once the app is loaded
    serve(OUT, cases, logged_in, do_import, secure=True, host=HOST)


if __name__ == "__main__":
    main()
