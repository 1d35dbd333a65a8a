"""Importing a ``.bpt`` file from the designer: a new template of the chosen type with every
block kept, the editor opening with what was imported and which blocks are unsupported; bad
files are refused with the reader's message and create nothing; the design right is needed."""

import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bizproc.bpt import BptContent, bpt_read, bpt_write
from bizproc.models import Template
from bizproc.tree import root_node

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "bitrix" / "bp-179.bpt"
DEAL_KEY = "crm.CCrmDocumentDeal.DEAL"


@pytest.fixture
def editor(client, designer_user):
    client.force_login(designer_user)
    return client


def upload(client, data: bytes, *, name: str = "", file_name: str = "bp-179.bpt", type_=DEAL_KEY):
    return client.post(
        reverse("designer:template-import"),
        {
            "file": SimpleUploadedFile(file_name, data, "application/octet-stream"),
            "document_type": type_,
            "name": name,
        },
    )


def test_the_list_offers_the_import(editor):
    page = editor.get(reverse("designer:template-list")).text
    assert f'href="{reverse("designer:template-import")}">Import .bpt</a>' in page


def test_the_bitrix_export_opens_in_the_editor_with_a_summary(editor):
    response = upload(editor, FIXTURE.read_bytes(), name="Business trip")

    template = Template.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("designer:template-edit", args=[template.pk])
    assert (template.name, template.document_type) == ("Business trip", "DEAL")
    assert [template.tree] == bpt_read(FIXTURE.read_bytes()).template

    page = editor.get(response["Location"]).text
    assert "“Business trip” imported: 50 blocks, 0 parameters, 4 variables, 3 constants." in page
    assert "not supported" not in page  # every block of the file runs here
    for type_ in (
        "ApproveActivity",
        "ReviewActivity",
        "RequestInformationActivity",
        "GetUserActivity",
        "SetPermissionsActivity",
    ):
        assert f"Unsupported block ({type_})" not in page


def test_without_a_name_the_template_is_named_after_the_file(editor):
    upload(editor, FIXTURE.read_bytes(), file_name="trip approval.bpt")
    assert Template.objects.get().name == "trip approval"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (FIXTURE.read_bytes()[:2000], "The file is damaged or incomplete."),
        (
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
            "The file is not a business process template (.bpt).",
        ),
        (b"x" * (11 * 1024 * 1024), "The file is larger than 10 MB."),
        (zlib.compress(b"\0" * (60 * 1024 * 1024), 9), "The file unpacks to more than 50 MB."),
    ],
    ids=["damaged", "not-bpt", "too-large", "zlib-bomb"],
)
def test_bad_files_are_refused_with_a_clear_message_and_create_nothing(editor, data, message):
    response = upload(editor, data, name="Bad")
    assert response.status_code == 422
    assert message in response.text
    assert 'role="alert"' in response.text
    assert not Template.objects.exists()


def test_no_file_or_a_type_the_user_may_not_design_creates_nothing(editor):
    response = editor.post(
        reverse("designer:template-import"), {"document_type": DEAL_KEY, "name": "x"}
    )
    assert response.status_code == 422
    assert "This field is required." in response.text
    response = upload(editor, FIXTURE.read_bytes(), type_="crm.CCrmDocumentLead.LEAD")
    assert response.status_code == 422
    assert "Select a valid choice." in response.text
    assert not Template.objects.exists()


def test_without_the_design_right_the_import_is_forbidden(client, seller):
    client.force_login(seller)
    assert client.get(reverse("designer:template-import")).status_code == 403
    assert upload(client, FIXTURE.read_bytes()).status_code == 403
    assert not Template.objects.exists()


def test_an_import_it_can_publish_is_published_and_its_warnings_show_on_the_template(editor):
    content = BptContent(
        version=2,
        template=[
            {
                **root_node(),
                "Children": [
                    {
                        "Type": "LogActivity",
                        "Name": "A_say",
                        "Properties": {"Title": "Say", "Text": "{=Document:UF_CRM_CITY}"},
                        "Children": [],
                    }
                ],
            }
        ],
        document_fields={"UF_CRM_CITY": {"Name": "City", "Type": "string"}},
    )
    response = upload(editor, bpt_write(content), name="Welcome")
    template = Template.objects.get()
    assert template.versions.count() == 1

    page = editor.get(response["Location"]).text
    assert "Published as version 1: processes may start from it." in page
    assert "From the last import or publication" in page
    # Only a CRM administrator creates fields: the one it describes is a warning.
    assert "only an administrator may create them: UF_CRM_CITY." in page
    assert 'href="#block-A_say"' in page and "Unknown reference" in page

    listed = editor.get(reverse("designer:template-list")).text
    assert "2 warnings" in listed


def test_an_import_it_cannot_publish_says_so_and_lists_its_problems(editor):
    response = upload(editor, FIXTURE.read_bytes(), name="Business trip")
    page = editor.get(response["Location"]).text
    assert "Kept as a draft: it has problems to fix before it can be published" in page
    # Set permissions runs on list elements only: under deals it is a problem, saying why.
    assert "Problem:" in page and "Set permissions does not apply to Deals" in page
    assert "problems" in editor.get(reverse("designer:template-list")).text
