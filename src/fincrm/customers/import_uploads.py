"""Where an upload of the client import lives between the request that stores it, the pages
that preview it and the task that may import it: ``MEDIA_ROOT/imports/<token>/`` holds the
file, a ``meta.json`` naming the uploading user, the chosen mapping and, once imported, the
result and ``errors.csv``. Only the uploader may open a token; for anyone else it does not
exist (404)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.http import Http404

from . import importer

_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def imports_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


@dataclass
class Upload:
    token: str
    user: int
    filename: str
    format: str
    uploaded_at: str
    mapping: list[str | None] | None = None
    result: dict | None = None

    @property
    def folder(self) -> Path:
        return imports_dir() / self.token

    @property
    def path(self) -> Path:
        return self.folder / f"source.{self.format}"

    @property
    def errors_path(self) -> Path:
        return self.folder / "errors.csv"

    def save(self) -> None:
        data = {k: v for k, v in asdict(self).items() if k != "token"}
        (self.folder / "meta.json").write_text(json.dumps(data, ensure_ascii=False))

    @classmethod
    def load(cls, token: str, *, user) -> Upload:
        """The upload, or 404 when the token is malformed, unknown or someone else's."""
        if not _TOKEN.fullmatch(token):
            raise Http404
        try:
            data = json.loads((imports_dir() / token / "meta.json").read_text())
        except (OSError, ValueError) as exc:
            raise Http404 from exc
        if data.get("user") != user.pk:
            raise Http404
        return cls(token=token, **data)

    def record(self, result: importer.ImportResult, headers: list[str], *, all_or_nothing: bool):
        """Keep an import's outcome with the upload: every error in ``errors.csv`` (cells
        neutralised, so a formula in the file stays text in Excel) and the counts in
        ``meta.json``, which turn the preview into the result page."""
        mapping = self.mapping or []
        with open(self.errors_path, "w", encoding="utf-8-sig", newline="") as out:
            importer.write_errors_csv(
                result.errors, out, headers=importer.column_headers(headers, mapping)
            )
        self.result = {
            "total_rows": result.total_rows,
            "good_rows": result.good_rows,
            "bad_rows": result.bad_rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "errors": len(result.errors),
            "seconds": round(result.seconds, 2),
            "aborted": result.aborted,
            "all_or_nothing": all_or_nothing,
        }
        self.save()
