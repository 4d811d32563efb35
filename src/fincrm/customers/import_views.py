"""The upload page of the bulk client import: upload → column mapping and check → import.

Each upload lives in ``MEDIA_ROOT/imports/<token>/`` (:mod:`fincrm.customers.import_uploads`);
only the uploader may open a token. A small file is imported inside the request; a large one
by a background task (:mod:`fincrm.customers.import_jobs`), whose page polls its progress and
is visible to the user who started it and to admins. The rules of the import itself are in
:mod:`fincrm.customers.importer`.
"""

from __future__ import annotations

import csv
import secrets
import shutil
from itertools import islice
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from fincrm.core.permissions import get_restricted_or_404

from . import import_jobs, importer
from .choices import ImportJobStatus
from .import_uploads import Upload
from .models import ImportJob

PREVIEW_ROWS = 10
#: The preview checks this many rows; the import itself checks every row.
PREVIEW_CHECK_ROWS = 20_000
PREVIEW_ERRORS = 20
SHOWN_ERRORS = 500

MSG_TOO_BIG = gettext_lazy("The file is larger than %(max)s.")


def _store(user, uploaded) -> Upload:
    """Save the upload under a fresh token; a file that is not what it claims is refused."""
    token = secrets.token_urlsafe(24)
    extension = Path(uploaded.name).suffix.lower().lstrip(".")
    upload = Upload(
        token=token,
        user=user.pk,
        filename=Path(uploaded.name).name[:200],
        format=extension,
        uploaded_at=timezone.now().isoformat(),
    )
    upload.folder.mkdir(parents=True)
    try:
        with open(upload.path, "wb") as out:
            for chunk in uploaded.chunks():
                out.write(chunk)
        importer.sniff_format(upload.path, uploaded.name)
        with importer.open_table(upload.path) as table:  # headers readable?
            next(table.rows, None)
    except importer.BadFile:
        shutil.rmtree(upload.folder, ignore_errors=True)
        raise
    upload.save()
    return upload


def _require_importer(user) -> None:
    if not importer.may_import(user):
        raise PermissionDenied


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "CSV (UTF-8 or GB18030, as Excel saves it) or Excel .xlsx; "
            "the first row holds the column headers."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if Path(uploaded.name).suffix.lower().lstrip(".") not in importer.FORMATS:
            raise forms.ValidationError(importer.MSG_BAD_EXTENSION)
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if uploaded.size > limit:
            raise forms.ValidationError(MSG_TOO_BIG % {"max": filesizeformat(limit)})
        return uploaded


class MappingForm(forms.Form):
    """One select per file column (which field it holds) and the all-or-nothing switch."""

    #: Ticked when the page opens: writing the good rows and skipping the bad ones is a
    #: choice the user makes by unticking it, not what happens to one who did not know.
    all_or_nothing = forms.BooleanField(
        label=gettext_lazy("All or nothing: import nothing if any row is bad"),
        required=False,
        initial=True,
    )

    def __init__(self, *args, headers: list[str], mapping: list[str | None], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— ignore —")), *importer.field_choices()]
        self.columns = []
        for index, header in enumerate(headers):
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header or _("Column %(n)d") % {"n": index + 1},
                choices=choices,
                required=False,
                initial=mapping[index] or "",
            )
            self.columns.append(self[name])

    def mapping(self) -> list[str | None]:
        return [self.cleaned_data[f"col_{i}"] or None for i in range(len(self.columns))]


@login_required
def import_upload(request):
    _require_importer(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            upload = _store(request.user, form.cleaned_data["file"])
        except importer.BadFile as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("customers:import_preview", token=upload.token)
    context = {
        "form": form,
        "max_size": settings.IMPORT_MAX_UPLOAD_BYTES,
        "fields": [
            (label, " / ".join(importer.HEADER_ALIASES.get(name, ())))
            for name, label in importer.field_choices()
        ],
    }
    return render(request, "customers/import_upload.html", context)


@login_required
def import_preview(request, token: str):
    _require_importer(request.user)
    upload = Upload.load(token, user=request.user)
    job = ImportJob.objects.filter(token=upload.token).only("pk").first()
    if job is not None:
        return redirect(job)
    if request.GET.get("download") == "errors":
        return _errors_download(request, upload)
    if upload.result is not None:
        return _result_page(request, upload)
    try:
        with importer.open_table(upload.path) as table:
            headers = table.headers
            estimated_rows = table.estimated_rows
            rows = importer.preview_rows(table, PREVIEW_ROWS)
    except importer.BadFile as exc:
        messages.error(request, str(exc))
        return redirect("customers:import")
    mapping = importer.resolve_mapping(headers, dict(enumerate(upload.mapping or [])))
    form = MappingForm(request.POST or None, headers=headers, mapping=mapping)
    if request.method == "POST" and form.is_valid():
        upload.mapping = form.mapping()
        upload.save()
        if request.POST.get("action") == "import" and not importer.mapping_problems(upload.mapping):
            all_or_nothing = form.cleaned_data["all_or_nothing"]
            if import_jobs.runs_in_background(upload.path, estimated_rows):
                job = import_jobs.import_job_start(
                    user=request.user,
                    upload=upload,
                    all_or_nothing=all_or_nothing,
                    rows_total=estimated_rows or 0,
                    language=request.LANGUAGE_CODE,
                )
                return redirect(job)
            _run_import(request, upload, headers, all_or_nothing=all_or_nothing)
        return redirect("customers:import_preview", token=upload.token)
    problems = importer.mapping_problems(mapping)
    check = None
    if not problems:
        try:
            check = importer.customer_import(
                upload.path,
                user=request.user,
                mapping=dict(enumerate(mapping)),
                filename=upload.filename,
                dry_run=True,
                max_rows=PREVIEW_CHECK_ROWS,
            )
        except (importer.BadFile, importer.BadMapping) as exc:
            problems = [str(exc)]
    context = {
        "upload": upload,
        "form": form,
        "headers": headers,
        "rows": rows,
        "problems": problems,
        "check": check,
        "check_errors": _shown_errors(
            check.errors[:PREVIEW_ERRORS] if check else [], headers, mapping
        ),
    }
    return render(request, "customers/import_preview.html", context)


def _shown_errors(
    errors: list[importer.RowError], headers: list[str], mapping: list[str | None]
) -> list[dict]:
    """Errors with the column they are in: the file's header, else the field's name."""
    column_of = importer.column_headers(headers, mapping)
    return [
        {
            "row": e.row,
            "column": column_of.get(e.field) or (importer.field_label(e.field) if e.field else ""),
            "message": e.message,
            "value": e.value,
        }
        for e in errors
    ]


def _run_import(request, upload: Upload, headers: list[str], *, all_or_nothing: bool) -> None:
    mapping = upload.mapping or []
    try:
        result = importer.customer_import(
            upload.path,
            user=request.user,
            mapping=dict(enumerate(mapping)),
            filename=upload.filename,
            all_or_nothing=all_or_nothing,
        )
    except (importer.BadFile, importer.BadMapping) as exc:
        messages.error(request, str(exc))
        return
    upload.record(result, headers, all_or_nothing=all_or_nothing)


def _first_errors(path: Path) -> list[list[str]]:
    """The first :data:`SHOWN_ERRORS` rows of an import's errors file."""
    if not path.exists():
        return []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        return list(islice(reader, SHOWN_ERRORS))


def _result_page(request, upload: Upload):
    errors = _first_errors(upload.errors_path)
    context = {"upload": upload, "result": upload.result, "errors": errors, "shown": len(errors)}
    return render(request, "customers/import_result.html", context)


def _errors_download(request, upload: Upload):
    name = f"{Path(upload.filename).stem}-errors.csv"
    if upload.result is not None and upload.errors_path.exists():
        return FileResponse(open(upload.errors_path, "rb"), as_attachment=True, filename=name)
    with importer.open_table(upload.path) as table:
        headers = table.headers
    mapping = importer.resolve_mapping(headers, dict(enumerate(upload.mapping or [])))
    if importer.mapping_problems(mapping):
        return redirect("customers:import_preview", token=upload.token)
    try:
        check = importer.customer_import(
            upload.path,
            user=request.user,
            mapping=dict(enumerate(mapping)),
            filename=upload.filename,
            dry_run=True,
        )
    except (importer.BadFile, importer.BadMapping) as exc:
        messages.error(request, str(exc))
        return redirect("customers:import_preview", token=upload.token)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, name)
    response.write("\ufeff")
    importer.write_errors_csv(
        check.errors, response, headers=importer.column_headers(headers, mapping)
    )
    return response


@login_required
@require_GET
def import_job(request, import_job_id: int):
    """A background import: its progress while it runs (the page polls this view with htmx
    and gets the fragment), its outcome and errors once it is done."""
    job = get_restricted_or_404(request.user, ImportJob, "view", pk=import_job_id)
    if request.GET.get("download") == "errors":
        if not job.errors_file:
            return redirect(job)
        name = f"{Path(job.filename).stem}-errors.csv"
        return FileResponse(job.errors_file.open("rb"), as_attachment=True, filename=name)
    import_jobs.live_progress(job)
    context = {"job": job}
    if job.status == ImportJobStatus.DONE:
        errors = _first_errors(Path(job.errors_file.path)) if job.errors_file else []
        context |= {"result": _job_result(job), "errors": errors, "shown": len(errors)}
    template = "customers/import_job.html"
    if request.htmx:
        template = "customers/_import_job_status.html"
    return render(request, template, context)


def _job_result(job: ImportJob) -> dict:
    """The job's outcome in the shape the result page shows."""
    seconds = (job.finished_at - job.started_at).total_seconds() if job.started_at else 0.0
    errors = 0
    if job.errors_file:
        with open(job.errors_file.path, encoding="utf-8-sig", newline="") as fh:
            errors = max(sum(1 for _row in csv.reader(fh)) - 1, 0)
    return {
        "total_rows": job.rows_done,
        "good_rows": job.rows_done - job.bad_rows,
        "bad_rows": job.bad_rows,
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "errors": errors,
        "seconds": round(seconds, 2),
        "aborted": job.aborted,
        "all_or_nothing": job.all_or_nothing,
    }
