"""Where external checks come from, configured by environment like the database.

``FINCRM_CHECKS_URL`` (a setting of the same name wins, for tests):

* unset or empty — no live source; reports bought by the lender are imported from CSV
  (``fincrm import-checks``);
* ``qcc://APPKEY:SECRETKEY@api.qichacha.com`` — 企查查's open API (``qcc+http://…`` for a
  gateway or fake without TLS). Every request carries the headers ``Token`` = upper-case
  MD5 of AppKey + Timespan + SecretKey and ``Timespan`` = Unix seconds, and the query
  parameters ``key`` (the AppKey) and ``searchKey`` (the credit code or ID number); the answer
  is ``{"Status": "200", "Message": …, "Result": [...]}`` — ``"201"`` means nothing was found,
  any other status is the provider's error (101 authentication, 201 missing parameter in
  some packages, 301 quota). The endpoint of each category is the package's name in
  :data:`QCC_ENDPOINTS`; a lender whose package names them differently changes that map;
* ``http(s)://host/path`` — a generic JSON source (an in-house data service or a gateway):
  ``GET path?identifier=…&name=…`` answering ``{"findings": [{"category", "key", "title",
  "amount", "date"}]}``; any other answer is an error with its status.

Each adapter raises :class:`ProviderError` with the source's own reason; nothing is stored
from a failed lookup but the failure itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Protocol

from django.conf import settings

from .choices import FindingCategory

TIMEOUT_SECONDS = 10


class ProviderError(Exception):
    """The source could not answer; the message is its reason."""


@dataclass(frozen=True)
class Reported:
    category: str
    key: str
    title: str
    amount: Decimal | None = None
    occurred_on: date | None = None


class Provider(Protocol):
    name: str

    def lookup(self, *, identifier: str, name: str) -> list[Reported]: ...


def _get_json(url: str, headers: dict[str, str]) -> object:
    request = urllib.request.Request(url, headers={"Accept": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        raise ProviderError(f"HTTP {error.code}") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise ProviderError(str(getattr(error, "reason", error))) from error
    try:
        return json.loads(body)
    except ValueError as error:
        raise ProviderError("the answer is not JSON") from error


def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return None


def _day(value) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


class JsonProvider:
    name = "json"

    def __init__(self, url: str):
        self.url = url

    def lookup(self, *, identifier: str, name: str) -> list[Reported]:
        query = urllib.parse.urlencode({"identifier": identifier, "name": name})
        data = _get_json(f"{self.url}?{query}", {})
        if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
            raise ProviderError("the answer has no list of findings")
        found = []
        for item in data["findings"]:
            category = str(item.get("category", ""))
            if category not in FindingCategory.values or not item.get("key"):
                raise ProviderError(f"a finding with an unknown category or no key: {item!r}"[:300])
            found.append(
                Reported(
                    category=category,
                    key=str(item["key"])[:120],
                    title=str(item.get("title") or item["key"])[:300],
                    amount=_amount(item.get("amount")),
                    occurred_on=_day(item.get("date")),
                )
            )
        return found


#: 企查查 endpoint per category, and the fields of its result rows (key, title, amount, date).
QCC_ENDPOINTS: dict[str, tuple[str, str, str, str | None, str]] = {
    FindingCategory.DISHONEST: (
        "ShixinCheck/GetList",
        "CaseNo",
        "ActionRemark",
        "Amount",
        "LianDate",
    ),
    FindingCategory.ENFORCEMENT: (
        "ZhixingCheck/GetList",
        "CaseNo",
        "ExecuteGov",
        "Biaodi",
        "LianDate",
    ),
    FindingCategory.LITIGATION: (
        "JudgeDocCheck/GetList",
        "CaseNo",
        "CaseName",
        "Amount",
        "SubmitDate",
    ),
    FindingCategory.PENALTY: (
        "AdminPenaltyCheck/GetList",
        "DocNo",
        "PunishReason",
        "Amount",
        "PunishDate",
    ),
    FindingCategory.REGISTRATION: ("ECIChange/GetList", "Id", "ProjectName", None, "ChangeDate"),
    FindingCategory.SHAREHOLDER: (
        "ECIPartnerChange/GetList",
        "Id",
        "ProjectName",
        None,
        "ChangeDate",
    ),
}


def qcc_token(app_key: str, timespan: str, secret: str) -> str:
    return hashlib.md5(f"{app_key}{timespan}{secret}".encode()).hexdigest().upper()


class QichachaProvider:
    name = "qcc"

    def __init__(self, base: str, app_key: str, secret: str):
        self.base, self.app_key, self.secret = base.rstrip("/"), app_key, secret

    def lookup(self, *, identifier: str, name: str) -> list[Reported]:
        found = []
        for category, (path, key, title, amount, day) in QCC_ENDPOINTS.items():
            timespan = str(int(time.time()))
            headers = {
                "Token": qcc_token(self.app_key, timespan, self.secret),
                "Timespan": timespan,
            }
            query = urllib.parse.urlencode({"key": self.app_key, "searchKey": identifier or name})
            data = _get_json(f"{self.base}/{path}?{query}", headers)
            status = str(data.get("Status")) if isinstance(data, dict) else ""
            if status == "201":
                continue  # nothing found
            if status != "200":
                message = data.get("Message", "") if isinstance(data, dict) else ""
                raise ProviderError(f"企查查 {path}: {status} {message}".strip())
            for row in data.get("Result") or []:
                if not row.get(key):
                    continue
                found.append(
                    Reported(
                        category=category,
                        key=str(row[key])[:120],
                        title=str(row.get(title) or row[key])[:300],
                        amount=_amount(row.get(amount)) if amount else None,
                        occurred_on=_day(row.get(day)),
                    )
                )
        return found


def provider_from_url(url: str | None) -> Provider | None:
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("qcc", "qcc+http"):
        if not parts.username or not parts.password or not parts.hostname:
            raise ValueError("FINCRM_CHECKS_URL: qcc://APPKEY:SECRETKEY@host")
        scheme = "http" if parts.scheme == "qcc+http" else "https"
        port = f":{parts.port}" if parts.port else ""
        base = f"{scheme}://{parts.hostname}{port}{parts.path}"
        return QichachaProvider(
            base, urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password)
        )
    if parts.scheme in ("http", "https"):
        return JsonProvider(url)
    raise ValueError(f"FINCRM_CHECKS_URL: unknown scheme {parts.scheme!r}")


def configured() -> Provider | None:
    url = getattr(settings, "FINCRM_CHECKS_URL", None)
    if url is None:
        url = os.environ.get("FINCRM_CHECKS_URL", "")
    return provider_from_url(url)
