"""A template's history in the designer: its published versions with their exports (``.bpt``
and JSON), a block-by-block comparison of any two of them and the draft, restoring a version
into the draft; and importing a ``.bpt`` file as a new template.

Like the editor, every view asks ``access`` for the "design automation" right first (403
otherwise), and every change goes through an engine service: a refused one shows its message
and changes nothing.
"""

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from bizproc import services
from bizproc.activities import activities
from bizproc.documents import DocumentType
from bizproc.models import Template, TemplateVersion
from bizproc.services import EditRefused, StaleRevision
from bizproc.tree import count
from designer import diff
from designer.access import designable_types, editable_template, provider_of
from designer.forms import type_key
from designer.services import draft_edit

DRAFT = "draft"
EXPORT_FORMAT = "bizproc-designer/template"
# More than the .bpt reader accepts: reading past its limit lets it refuse with its own
# message, without holding an arbitrarily large upload in memory.
UPLOAD_READ_LIMIT = 16 * 1024 * 1024


# ---- import ------------------------------------------------------------------------------


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Template file (.bpt)"))
    document_type = forms.ChoiceField(label=gettext_lazy("Entity type"))
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=services.NAME_MAX,
        required=False,
        help_text=gettext_lazy("If empty, the file's name."),
    )

    def __init__(self, *args: Any, document_types: list[DocumentType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.document_types = {type_key(t): t for t in document_types}
        self.fields["document_type"].choices = [
            (key, provider_of(t).caption(t, plural=True)) for key, t in self.document_types.items()
        ]
        self.fields["file"].widget.attrs["accept"] = ".bpt"


def _read(upload: UploadedFile) -> bytes:
    data = bytearray()
    for chunk in upload.chunks():
        data += chunk
        if len(data) > UPLOAD_READ_LIMIT:
            break
    return bytes(data)


def _file_name(upload: UploadedFile) -> str:
    name = (upload.name or "").rsplit("/", 1)[-1].strip()
    if name.lower().endswith(".bpt"):
        name = name[:-4]
    return name[: services.NAME_MAX] or _("Imported template")


@login_required
@require_http_methods(["GET", "POST"])
def template_import(request: HttpRequest) -> HttpResponse:
    """A ``.bpt`` file becomes a new template of the chosen type, every block kept, published
    at once when it can be (as Bitrix saves an imported template active); the editor then
    opens with what was imported, the fields it created, whether it was published and which
    blocks are unsupported. Its notices (problems, warnings) show in the editor."""
    types = designable_types(request.user)
    initial = {}
    wanted = [t for t in types if t.type == request.GET.get("type")]
    if wanted:
        initial["document_type"] = type_key(wanted[0])
    posted = request.method == "POST"
    form = ImportForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        document_types=types,
        initial=initial,
    )
    status = 200
    if posted:
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                outcome = services.template_import(
                    data=_read(upload),
                    document_type=form.document_types[form.cleaned_data["document_type"]],
                    name=form.cleaned_data["name"].strip() or _file_name(upload),
                    user=request.user,
                )
            except EditRefused as refused:
                form.add_error("file", refused.message)
            else:
                _report_import(request, outcome.template, outcome.version)
                return redirect("designer:template-edit", pk=outcome.template.pk)
        status = 422
    return render(request, "designer/template_import.html", {"form": form}, status=status)


def _report_import(
    request: HttpRequest, template: Template, version: TemplateVersion | None
) -> None:
    numbers = {
        "blocks": count(template.tree) - 1,  # the root is the process itself, not a block
        "parameters": len(template.parameters),
        "variables": len(template.variables),
        "constants": len(template.constants),
    }
    words = {
        "blocks": ngettext("%(count)d block", "%(count)d blocks", numbers["blocks"]),
        "parameters": ngettext(
            "%(count)d parameter", "%(count)d parameters", numbers["parameters"]
        ),
        "variables": ngettext("%(count)d variable", "%(count)d variables", numbers["variables"]),
        "constants": ngettext("%(count)d constant", "%(count)d constants", numbers["constants"]),
    }
    messages.success(
        request,
        _("“%(name)s” imported: %(blocks)s, %(parameters)s, %(variables)s, %(constants)s.")
        % {
            "name": template.name,
            **{key: words[key] % {"count": number} for key, number in numbers.items()},
        },
    )
    unsupported = services.unsupported_blocks(template.tree)
    if unsupported:
        listed = ", ".join(f"{diff.title_of(node)} ({node.get('Type')})" for node in unsupported)
        messages.warning(
            request,
            ngettext(
                "%(count)d block is not supported; it is kept as imported, read-only: %(list)s.",
                "%(count)d blocks are not supported; they are kept as imported, read-only: "
                "%(list)s.",
                len(unsupported),
            )
            % {"count": len(unsupported), "list": listed},
        )
    for notice in template.notices or []:
        if notice.get("level") == services.NOTICE_INFO:
            messages.info(request, notice.get("message", ""))
    if version is not None:
        messages.success(
            request,
            _("Published as version %(number)d: processes may start from it.")
            % {"number": version.number},
        )
    else:
        messages.warning(
            request,
            _("Kept as a draft: it has problems to fix before it can be published (see below)."),
        )


# ---- versions and their comparison -------------------------------------------------------


def _version(template: Template, number: int) -> TemplateVersion:
    version = template.versions.filter(number=number).first()
    if version is None:
        raise Http404
    return version


def _snapshot(template: Template, key: str) -> tuple[diff.Snapshot, str] | None:
    """The draft or a version named as the comparison form names them, with its label."""
    if key == DRAFT:
        source: Template | TemplateVersion = template
        label = _("Draft")
    else:
        version = (
            template.versions.filter(number=int(key)).first()
            if key.isascii() and key.isdigit() and len(key) <= 9
            else None
        )
        if version is None:
            return None
        source, label = version, _("Version %(number)d") % {"number": version.number}
    snapshot = diff.Snapshot(
        tree=source.tree,
        parameters=source.parameters,
        variables=source.variables,
        constants=source.constants,
    )
    return snapshot, label


KIND_LABELS = {
    diff.ADDED: gettext_lazy("Added"),
    diff.REMOVED: gettext_lazy("Removed"),
    diff.MOVED: gettext_lazy("Moved"),
    diff.CHANGED: gettext_lazy("Changed"),
}
SCHEMA_LABELS = {
    "parameters": gettext_lazy("Parameter"),
    "variables": gettext_lazy("Variable"),
    "constants": gettext_lazy("Constant"),
}


def _comparison(template: Template, old_key: str, new_key: str) -> dict[str, Any]:
    old, new = _snapshot(template, old_key), _snapshot(template, new_key)
    if old is None or new is None:
        wrong = (old_key if old is None else new_key).strip()[:20]
        if not wrong:
            return {"error": _("Choose the two versions to compare.")}
        return {"error": _("There is no version %(number)s of this template.") % {"number": wrong}}
    found = diff.snapshot_diff(old[0], new[0])
    return {
        "old_label": old[1],
        "new_label": new[1],
        "diff": found,
        "counts": [
            (KIND_LABELS[kind], len(found.of_kind(kind)))
            for kind in (diff.ADDED, diff.REMOVED, diff.MOVED, diff.CHANGED)
        ],
        "blocks": [
            {
                "change": change,
                "kinds": [(kind, KIND_LABELS[kind]) for kind in change.kinds],
                "activity": _activity_title(change.type),
            }
            for change in found.blocks
        ],
        "schemas": [
            {
                "change": change,
                "kind": SCHEMA_LABELS[change.kind],
                "label": KIND_LABELS[change.change],
            }
            for change in found.schemas
        ],
    }


def _activity_title(type_: str) -> str:
    return str(activities.get(type_).title) if activities.is_known(type_) else type_


@login_required
def template_versions(request: HttpRequest, pk: int) -> HttpResponse:
    """The published versions (who, when, comment, exports, restore) and the comparison of
    any two of them or the draft; the comparison alone for htmx."""
    template = editable_template(request.user, pk)
    versions = list(template.versions.select_related("published_by").order_by("-number"))
    default_old = str(versions[0].number) if versions else DRAFT
    old_key = request.GET.get("old", default_old)
    new_key = request.GET.get("new", DRAFT)
    comparison = _comparison(template, old_key, new_key)
    context = {
        "template": template,
        "caption_plural": provider_of(template.document_type_triple).caption(
            template.document_type_triple, plural=True
        ),
        "versions": versions,
        "choices": [(DRAFT, _("Draft"))]
        + [(str(v.number), _("Version %(number)d") % {"number": v.number}) for v in versions],
        "old_key": old_key,
        "new_key": new_key,
        **comparison,
    }
    name = "designer/template_versions.html"
    if request.htmx and request.htmx.target == "version-diff":
        name += "#version-diff"
    return render(request, name, context, status=422 if "error" in comparison else 200)


# ---- exports -----------------------------------------------------------------------------


def _file_stem(template: Template, number: int | None) -> str:
    stem = slugify(template.name, allow_unicode=True) or "template"
    return f"{stem}-v{number}" if number is not None else f"{stem}-draft"


def _export(template: Template, source: Template | TemplateVersion, fmt: str) -> HttpResponse:
    number = source.number if isinstance(source, TemplateVersion) else None
    if fmt == "bpt":
        content = services.template_export_bpt(source=source)
        content_type = "application/octet-stream"
    elif fmt == "json":
        content = json.dumps(
            {
                "format": EXPORT_FORMAT,
                "version": 1,
                "name": template.name,
                "document_type": list(template.document_type_triple),
                "template_version": number,
                "tree": source.tree,
                "parameters": source.parameters,
                "variables": source.variables,
                "constants": source.constants,
            },
            ensure_ascii=False,
            indent=2,
        ).encode()
        content_type = "application/json; charset=utf-8"
    else:
        raise Http404
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{_file_stem(template, number)}.{fmt}"
    )
    return response


@login_required
def version_export(request: HttpRequest, pk: int, number: int, fmt: str) -> HttpResponse:
    template = editable_template(request.user, pk)
    return _export(template, _version(template, number), fmt)


@login_required
def draft_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    template = editable_template(request.user, pk)
    return _export(template, template, fmt)


# ---- restore -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def version_restore(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """Asks first (a dialog for htmx, a page otherwise); the confirmation names the draft
    revision it was shown on, so a draft edited meanwhile is not overwritten unseen."""
    template = editable_template(request.user, pk)
    version = _version(template, number)
    error, status = "", 200
    if request.method == "POST":
        try:
            revision = int(request.POST.get("revision", ""))
        except ValueError:
            revision = 0  # never a revision: answered as stale
        try:
            # Logged like every editor edit, so Undo in the editor takes the restore back.
            draft_edit(
                template=template,
                revision=revision,
                user=request.user,
                edit=lambda: services.draft_restore(
                    template=template, version=version, revision=revision, user=request.user
                ),
            )
        except EditRefused as refused:
            error = refused.message
            status = 409 if isinstance(refused, StaleRevision) else 422
            template.refresh_from_db()
        else:
            messages.success(
                request,
                _("Version %(number)d was restored into the draft.") % {"number": version.number},
            )
            return redirect("designer:template-edit", pk=template.pk)
    page = "designer/version_restore.html" + ("#confirm" if request.htmx else "")
    context = {"template": template, "version": version, "error": error}
    return render(request, page, context, status=status)
