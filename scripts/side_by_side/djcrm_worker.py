"""django-crm's side: its own pages through Django's test client, in its own process and venv.

Started by ``driver.py`` as ``/tmp/djcrm-venv/bin/python djcrm_worker.py`` with the working
directory django-crm's source, ``DJANGO_SETTINGS_MODULE=djcrm_settings`` (DEBUG off) and
``DJCRM_DB``. django-crm runs as it ships: no garbage-collector tuning, its background threads
(e-mail import, rates loader) started by its app config as always.

Cases: its company list (``/en/123/crm/company/``, the CRM site's changelist) first page as
the sales manager IamSALES (the default view for a manager: his own companies in his
department) and as the superuser IamSUPER; its search box (``?q=``, the changelist's
``search_fields``) with a term matching a few companies and one matching none.
"""

import os
import sys
import threading
import time

from worker_common import protocol_stream, serve

OUT = protocol_stream()

import django  # noqa: E402

django.setup()

from crm.models import Company  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.test import Client  # noqa: E402

LIST = f"/en/{settings.SECRET_CRM_PREFIX}crm/company/"
IMPORT = f"/en/{settings.SECRET_CRM_PREFIX}import-companies/"
HOST = "localhost"  # in its ALLOWED_HOSTS as shipped
NO_MATCH = "zzqx no such company"


def few_matches_term() -> tuple[str, int]:
    """The first company name (by id) whose words less the legal suffix match 2 to 5 names."""
    for name in Company.objects.order_by("pk").values_list("full_name", flat=True)[:2000]:
        term = name.rsplit(" ", 1)[0]
        n = Company.objects.filter(full_name__icontains=term).count()
        if 2 <= n <= 5:
            return term, n
    raise RuntimeError("no term with a few matches")


def clients() -> dict:
    result = {}
    for key, username in (("restricted", "IamSALES"), ("superuser", "IamSUPER")):
        client = Client()
        client.force_login(User.objects.get(username=username))
        result[key] = client
    return result


def do_import(rows: int) -> dict:
    """Its own import: the CRM site's "import companies" (an Excel file posted to the view,
    read with pandas, each row saved by crm.utils.create_objects in a thread the view
    starts). Timed from the POST to the end of that thread; the file is written first, untimed.
    No "industry" column: its fixtures name each industry once per department, and the import
    looks an industry up by name with ``get()`` (MultipleObjectsReturned stops the whole file).
    """
    import io

    import pandas as pd

    superuser = Client()
    superuser.force_login(User.objects.get(username="IamSUPER"))
    countries = ["Austria", "Belgium", "Canada", "Denmark", "Finland", "France", "Germany"]
    frame = pd.DataFrame(
        {
            "full_name": [f"Imported Trading Company {i:05d}" for i in range(rows)],
            "website": [f"https://imported{i}.example.com" for i in range(rows)],
            "phone": [f"+49 30 {1000000 + i}" for i in range(rows)],
            "city_name": ["Berlin"] * rows,
            "address": [f"{i % 300 + 1} Import Street" for i in range(rows)],
            "email": [f"info@imported{i}.example.com" for i in range(rows)],
            "description": ["imported from the trade fair list"] * rows,
            "country": [countries[i % len(countries)] for i in range(rows)],
            "owner": ["IamSALES"] * rows,
            "type": ["end customer"] * rows,
            "department": ["Global sales"] * rows,
        }
    )
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    buffer.seek(0)
    buffer.name = "companies.xlsx"
    before = Company.objects.count()
    threads_before = set(threading.enumerate())
    started = time.perf_counter()
    response = superuser.post(IMPORT, {"file": buffer}, secure=True, HTTP_HOST=HOST)
    posted = time.perf_counter() - started
    for thread in set(threading.enumerate()) - threads_before:
        thread.join()
    seconds = time.perf_counter() - started
    created = Company.objects.count() - before
    return {
        "status": response.status_code,
        "rows": rows,
        "created": created,
        "seconds": seconds,
        "post_seconds": posted,
        "rows_per_s": created / seconds if seconds else 0,
        "how": "Excel file posted to the CRM site's import-companies view (create_objects)",
    }


def main() -> None:
    term, matches = few_matches_term()
    cases = {
        "list_restricted": {"user": "restricted", "path": LIST},
        "list_superuser": {"user": "superuser", "path": LIST},
        "search_few_restricted": {
            "user": "restricted",
            "path": LIST + "?q=" + term.replace(" ", "+"),
            "note": f"{term!r}: {matches} companies",
        },
        "search_none_restricted": {
            "user": "restricted",
            "path": LIST + "?q=" + NO_MATCH.replace(" ", "+"),
            "note": f"{NO_MATCH!r}: 0 companies",
        },
        "search_few_superuser": {
            "user": "superuser",
            "path": LIST + "?q=" + term.replace(" ", "+"),
            "note": f"{term!r}: {matches} companies",
        },
    }
    info = {
        "companies": Company.objects.count(),
        "restricted_owns": Company.objects.filter(owner__username="IamSALES").count(),
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "debug": settings.DEBUG,
        "db": os.environ.get("DJCRM_DB"),
    }
    for case in cases.values():
        case["info"] = info
    serve(OUT, cases, clients(), do_import, secure=True, host=HOST)


if __name__ == "__main__":
    main()
