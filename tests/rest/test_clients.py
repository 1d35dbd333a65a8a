"""The public Bitrix24 clients, unmodified, against the real server.

fast-bitrix24 and bitrix24-rest over http; b24pysdk and pybitrix24 over https (they build
``https://`` URLs). Each adds deals, lists more than 120 of them (through its own paging where it
has one), gets and updates one, starts a process on it, lists running processes, answers a
Request information task (``bizproc.task.list`` shows its fields, ``bizproc.task.complete``
fills them in), and meets a denied method (the auditor's webhook may not write), an unknown
record and a revoked token.
"""

import asyncio
import ssl
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import ClientResponseError
from b24pysdk import BitrixWebhook, Client
from b24pysdk.errors import BitrixAPIAccessDenied, BitrixAPIBadRequest
from b24pysdk.errors.oauth import BitrixOAuthNoAuthFound
from bitrix24 import Bitrix24 as Bitrix24Rest
from bitrix24.exceptions import BitrixError
from fast_bitrix24 import Bitrix, BitrixAsync
from pybitrix24 import Bitrix24 as PyBitrix24

from tests.rest.conftest import RestServer, bpt_base64

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

DEALS = 125
UNKNOWN_ID = 10**9


def deal_document(deal_id: int | str) -> list[str]:
    return ["crm", "CCrmDocumentDeal", f"DEAL_{deal_id}"]


TASK_SELECT = ["ID", "ACTIVITY", "NAME", "USER_STATUS", "PARAMETERS"]


def assert_request_task(task: dict, deal_id: int | str) -> None:
    """A Request information task as Bitrix's ``bizproc.task.list`` gives it."""
    assert (task["ACTIVITY"], task["NAME"], task["USER_STATUS"]) == (
        "RequestInformationActivity",
        "Tell us more",
        "0",
    )
    assert (task["ENTITY"], task["DOCUMENT_ID"]) == ("CCrmDocumentDeal", f"DEAL_{deal_id}")
    fields = task["PARAMETERS"]["Fields"]
    assert [(f["Id"], f["Type"], f["Required"]) for f in fields] == [
        ("Answer", "string", True),
        ("Count", "int", False),
    ]
    assert task["PARAMETERS"]["StatusOkLabel"] == "Send"


def test_fast_bitrix24_over_http(http_server: RestServer) -> None:
    bitrix = Bitrix(http_server.webhook, verbose=False)
    added = bitrix.call(
        "crm.deal.add",
        [{"fields": {"TITLE": f"FB-deal {i}", "OPPORTUNITY": i}} for i in range(DEALS)],
    )
    assert len(added) == DEALS and all(isinstance(deal_id, int) for deal_id in added)

    listed = bitrix.get_all("crm.deal.list", {"filter": {"%TITLE": "FB-deal"}, "select": ["TITLE"]})
    assert sorted(int(deal["ID"]) for deal in listed) == sorted(added)

    # call() answers in the order its batches came back, not the items' order: find deal 0.
    # call() of one item answers {label: result}; raw=True sends it alone and answers the body.
    deal_id = next(int(deal["ID"]) for deal in listed if deal["TITLE"] == "FB-deal 0")
    assert bitrix.get_by_ID("crm.deal.get", [deal_id])["TITLE"] == "FB-deal 0"
    updated = bitrix.call(
        "crm.deal.update", {"ID": deal_id, "fields": {"TITLE": "FB-renamed"}}, raw=True
    )
    assert updated["result"] is True
    assert bitrix.call("crm.deal.get", {"ID": deal_id}, raw=True)["result"]["TITLE"] == "FB-renamed"

    started = bitrix.call(
        "bizproc.workflow.start",
        {"TEMPLATE_ID": http_server.template_id, "DOCUMENT_ID": deal_document(deal_id)},
        raw=True,
    )
    workflow_id = started["result"]
    running = bitrix.get_all(
        "bizproc.workflow.instances",
        {"select": ["ID", "DOCUMENT_ID"], "filter": {"DOCUMENT_ID": f"DEAL_{deal_id}"}},
    )
    assert running == [{"ID": workflow_id, "DOCUMENT_ID": f"DEAL_{deal_id}"}]

    asking = bitrix.call(
        "bizproc.workflow.start",
        {"TEMPLATE_ID": http_server.request_template_id, "DOCUMENT_ID": deal_document(deal_id)},
        raw=True,
    )["result"]
    (task,) = bitrix.get_all(
        "bizproc.task.list", {"select": TASK_SELECT, "filter": {"WORKFLOW_ID": asking}}
    )
    assert_request_task(task, deal_id)
    done = bitrix.call(
        "bizproc.task.complete",
        {"TASK_ID": task["ID"], "STATUS": 3, "FIELDS": {"Answer": "FB", "Count": 2}},
        raw=True,
    )
    assert done["result"] is True
    (answered,) = bitrix.get_all(
        "bizproc.task.list", {"select": ["USER_STATUS"], "filter": {"ID": task["ID"]}}
    )
    assert answered["USER_STATUS"] == "3"
    with pytest.raises(ClientResponseError) as again:
        bitrix.call("bizproc.task.complete", {"TASK_ID": task["ID"], "STATUS": 3}, raw=True)
    assert again.value.status == 400

    auditor = Bitrix(http_server.auditor_webhook, verbose=False)
    with pytest.raises(ClientResponseError) as denied:
        auditor.call("crm.deal.update", {"ID": deal_id, "fields": {"TITLE": "x"}}, raw=True)
    assert denied.value.status == 403
    with pytest.raises(ClientResponseError) as unknown:
        bitrix.call("crm.deal.get", {"ID": UNKNOWN_ID}, raw=True)
    assert unknown.value.status == 400
    revoked = Bitrix(http_server.revoked_webhook, verbose=False)
    with pytest.raises(ClientResponseError) as unauthorized:
        revoked.call("crm.deal.fields", {}, raw=True)
    assert unauthorized.value.status == 401


@pytest.fixture
def closed_loop_unset() -> Iterator[None]:
    """bitrix24-rest's synchronous calls set an event loop of their own as the thread's current
    one and close it, leaving it set: fast-bitrix24's synchronous client, run later in the same
    thread, would take that closed loop ("Event loop is closed"), as it would in a program that
    used both clients."""
    yield
    asyncio.set_event_loop(None)


@pytest.mark.usefixtures("closed_loop_unset")
def test_bitrix24_rest_over_http(http_server: RestServer) -> None:
    bx = Bitrix24Rest(http_server.webhook)
    added = [
        bx.callMethod("crm.deal.add", {"fields": {"TITLE": f"BR-deal-{i}", "OPPORTUNITY": i}})
        for i in range(DEALS)
    ]
    listed = bx.callMethod(
        "crm.deal.list", {"filter": {"%TITLE": "BR-deal"}, "select": ["ID", "TITLE"]}
    )
    assert sorted(int(deal["ID"]) for deal in listed) == sorted(added)

    deal_id = added[1]
    assert bx.callMethod("crm.deal.get", {"id": deal_id})["TITLE"] == "BR-deal-1"
    assert bx.callMethod("crm.deal.update", {"id": deal_id, "fields": {"TITLE": "BR-renamed"}})
    assert bx.callMethod("crm.deal.get", {"id": deal_id})["TITLE"] == "BR-renamed"

    workflow_id = bx.callMethod(
        "bizproc.workflow.start",
        {"TEMPLATE_ID": http_server.template_id, "DOCUMENT_ID": deal_document(deal_id)},
    )
    running = bx.callMethod(
        "bizproc.workflow.instances",
        {"select": ["ID", "DOCUMENT_ID"], "filter": {"DOCUMENT_ID": f"DEAL_{deal_id}"}},
    )
    assert [row["ID"] for row in running] == [workflow_id]

    asking = bx.callMethod(
        "bizproc.workflow.start",
        {"TEMPLATE_ID": http_server.request_template_id, "DOCUMENT_ID": deal_document(deal_id)},
    )
    (task,) = bx.callMethod(
        "bizproc.task.list", {"select": TASK_SELECT, "filter": {"WORKFLOW_ID": asking}}
    )
    assert_request_task(task, deal_id)
    # Sent as a PHP form: FIELDS[Answer]=BR&FIELDS[Count]=3.
    assert bx.callMethod(
        "bizproc.task.complete",
        {"TASK_ID": task["ID"], "STATUS": "ok", "FIELDS": {"Answer": "BR", "Count": 3}},
    )
    (answered,) = bx.callMethod(
        "bizproc.task.list", {"select": ["USER_STATUS"], "filter": {"ID": task["ID"]}}
    )
    assert answered["USER_STATUS"] == "3"

    with pytest.raises(BitrixError, match="HTTP error: 403"):
        Bitrix24Rest(http_server.auditor_webhook).callMethod(
            "crm.deal.update", {"id": deal_id, "fields": {"TITLE": "x"}}
        )
    with pytest.raises(BitrixError, match="HTTP error: 400"):
        bx.callMethod("crm.deal.get", {"id": UNKNOWN_ID})
    with pytest.raises(BitrixError, match="HTTP error: 401"):
        Bitrix24Rest(http_server.revoked_webhook).callMethod("crm.deal.fields")


@pytest.mark.usefixtures("closed_loop_unset")
def test_a_client_adds_a_custom_field_and_uses_it_on_deals(http_server: RestServer) -> None:
    """bitrix24-rest sends nested parameters as PHP forms (``fields[LIST][0][VALUE]``)."""
    bx = Bitrix24Rest(http_server.webhook)
    field_id = bx.callMethod(
        "crm.deal.userfield.add",
        {
            "fields": {
                "FIELD_NAME": "CLIENT_TIER",
                "USER_TYPE_ID": "enumeration",
                "LABEL": "Tier",
                "LIST": [{"VALUE": "Gold"}, {"VALUE": "Silver"}],
            }
        },
    )
    items = {
        item["VALUE"]: item["ID"]
        for item in bx.callMethod("crm.deal.userfield.get", {"id": field_id})["LIST"]
    }
    added = {
        tier: bx.callMethod(
            "crm.deal.add",
            {"fields": {"TITLE": f"UF-deal {tier}", "UF_CRM_CLIENT_TIER": item_id}},
        )
        for tier, item_id in items.items()
    }
    assert bx.callMethod("crm.deal.fields")["UF_CRM_CLIENT_TIER"]["isDynamic"] is True

    listed = bx.callMethod(
        "crm.deal.list",
        {
            "filter": {"UF_CRM_CLIENT_TIER": items["Gold"]},
            "select": ["ID", "TITLE", "UF_CRM_CLIENT_TIER"],
        },
    )
    assert listed == [
        {"ID": str(added["Gold"]), "TITLE": "UF-deal Gold", "UF_CRM_CLIENT_TIER": items["Gold"]}
    ]


def _b24pysdk(server: RestServer, webhook: str) -> Client:
    token = webhook.split("/rest/", 1)[1].strip("/")
    return Client(BitrixWebhook(domain=server.host, webhook_token=token))


def test_b24pysdk_over_https(https_server: RestServer) -> None:
    client = _b24pysdk(https_server, https_server.webhook)
    requests = [
        client.crm.deal.add({"TITLE": f"SDK-deal {i}", "OPPORTUNITY": i}) for i in range(DEALS)
    ]
    batch = client.call_batches(requests).response.result
    added = sorted(batch.result.values() if isinstance(batch.result, dict) else batch.result)
    assert len(added) == DEALS and not batch.result_error

    listed = client.crm.deal.list(filter={"%TITLE": "SDK-deal"}, select=["ID"]).as_list()
    assert sorted(int(deal["ID"]) for deal in listed.response.result) == added
    fast = client.crm.deal.list(filter={"%TITLE": "SDK-deal"}, select=["ID"]).as_list_fast()
    assert sorted(int(deal["ID"]) for deal in fast.response.result) == added

    deal_id = added[2]
    assert client.crm.deal.get(deal_id).response.result["TITLE"] == "SDK-deal 2"
    assert client.crm.deal.update(deal_id, {"TITLE": "SDK-renamed"}).response.result is True
    assert client.crm.deal.get(deal_id).response.result["TITLE"] == "SDK-renamed"

    template_id = client.bizproc.workflow.template.add(
        document_type=("crm", "CCrmDocumentDeal", "DEAL"),
        name="Added by b24pysdk",
        template_data=("wait.bpt", bpt_base64()),
    ).response.result
    workflow_id = client.bizproc.workflow.start(template_id, deal_document(deal_id)).response.result
    running = client.bizproc.workflow.instances(
        select=["ID", "TEMPLATE_ID"], filter={"DOCUMENT_ID": f"DEAL_{deal_id}"}
    ).response.result
    assert running == [{"ID": workflow_id, "TEMPLATE_ID": str(template_id)}]

    asking = client.bizproc.workflow.start(
        https_server.request_template_id, deal_document(deal_id)
    ).response.result
    (task,) = client.bizproc.task.list(
        select=TASK_SELECT, filter={"WORKFLOW_ID": asking}
    ).response.result
    assert_request_task(task, deal_id)
    with pytest.raises(BitrixAPIBadRequest) as missing:
        client.bizproc.task.complete(int(task["ID"]), 3, fields={"Count": 4}).response  # noqa: B018
    assert missing.value.error_description == "The required value ('Answer') is missing."
    done = client.bizproc.task.complete(
        int(task["ID"]), "ok", comment="From b24pysdk", fields={"Answer": "SDK", "Count": 4}
    )
    assert done.response.result is True
    answered = client.bizproc.task.list(select=["USER_STATUS"], filter={"ID": task["ID"]})
    assert [row["USER_STATUS"] for row in answered.response.result] == ["3"]

    auditor = _b24pysdk(https_server, https_server.auditor_webhook)
    with pytest.raises(BitrixAPIAccessDenied) as denied:
        auditor.crm.deal.update(deal_id, {"TITLE": "x"}).response  # noqa: B018 (sends it)
    assert denied.value.error_description == "Access denied!"
    with pytest.raises(BitrixAPIBadRequest) as unknown:
        client.crm.deal.get(UNKNOWN_ID).response  # noqa: B018
    assert unknown.value.error_description == "Not found"
    revoked = _b24pysdk(https_server, https_server.revoked_webhook)
    with pytest.raises(BitrixOAuthNoAuthFound):
        revoked.crm.deal.fields().response  # noqa: B018


@pytest.fixture
def urllib_trusts(certificate: Path) -> Iterator[None]:
    """pybitrix24 calls urllib's global opener: make it trust our certificate explicitly, so no
    opener or context cached earlier in the test session decides instead."""
    context = ssl.create_default_context(cafile=str(certificate))
    urllib.request.install_opener(
        urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
    )
    yield
    urllib.request.install_opener(None)


@pytest.mark.usefixtures("urllib_trusts")
def test_pybitrix24_over_https(https_server: RestServer) -> None:
    """pybitrix24 has no paging of its own: the test pages with ``start`` and ``next``."""
    user_id, token = https_server.webhook.split("/rest/", 1)[1].strip("/").split("/")
    bx = PyBitrix24(https_server.host, user_id=int(user_id))
    added = []
    for first in range(0, DEALS, 50):
        calls = {
            f"deal{i}": ("crm.deal.add", {"fields": {"TITLE": f"PY-deal {i}", "OPPORTUNITY": i}})
            for i in range(first, min(first + 50, DEALS))
        }
        response = bx.call_batch_webhook(token, calls, halt_on_error=True)
        assert response["result"]["result_error"] == []
        added += response["result"]["result"].values()

    listed, start = [], 0
    while start is not None:
        page = bx.call_webhook(
            token,
            "crm.deal.list",
            {"filter": {"%TITLE": "PY-deal"}, "select": ["ID"], "start": start},
        )
        assert page["total"] == DEALS
        listed += page["result"]
        start = page.get("next")
    assert sorted(int(deal["ID"]) for deal in listed) == sorted(added)

    deal_id = added[3]
    assert bx.call_webhook(token, "crm.deal.get", {"id": deal_id})["result"]["TITLE"] == "PY-deal 3"
    updated = bx.call_webhook(
        token, "crm.deal.update", {"id": deal_id, "fields": {"TITLE": "PY-renamed"}}
    )
    assert updated["result"] is True
    started = bx.call_webhook(
        token,
        "bizproc.workflow.start",
        {"TEMPLATE_ID": https_server.template_id, "DOCUMENT_ID": deal_document(deal_id)},
    )
    running = bx.call_webhook(
        token,
        "bizproc.workflow.instances",
        {"SELECT": ["ID"], "FILTER": {"DOCUMENT_ID": f"DEAL_{deal_id}"}},
    )
    assert running["result"] == [{"ID": started["result"]}]

    asking = bx.call_webhook(
        token,
        "bizproc.workflow.start",
        {"TEMPLATE_ID": https_server.request_template_id, "DOCUMENT_ID": deal_document(deal_id)},
    )["result"]
    listed_tasks = bx.call_webhook(
        token, "bizproc.task.list", {"SELECT": TASK_SELECT, "FILTER": {"WORKFLOW_ID": asking}}
    )
    (task,) = listed_tasks["result"]
    assert_request_task(task, deal_id)
    done = bx.call_webhook(
        token,
        "bizproc.task.complete",
        {"TASK_ID": task["ID"], "STATUS": 3, "FIELDS": {"Answer": "PY", "Count": 5}},
    )
    assert done["result"] is True
    again = bx.call_webhook(token, "bizproc.task.complete", {"TASK_ID": task["ID"], "STATUS": 3})
    assert again == {"error": "ERROR_TASK_COMPLETED", "error_description": "Task already completed"}

    auditor_id, auditor_token = (
        https_server.auditor_webhook.split("/rest/")[1].strip("/").split("/")
    )
    auditor = PyBitrix24(https_server.host, user_id=int(auditor_id))
    denied = auditor.call_webhook(
        auditor_token, "crm.deal.update", {"id": deal_id, "fields": {"TITLE": "x"}}
    )
    assert denied == {"error": "ACCESS_DENIED", "error_description": "Access denied!"}
    unknown = bx.call_webhook(token, "crm.deal.get", {"id": UNKNOWN_ID})
    assert unknown == {"error": "", "error_description": "Not found"}
    revoked_token = https_server.revoked_webhook.rstrip("/").rsplit("/", 1)[1]
    revoked = bx.call_webhook(revoked_token, "crm.deal.fields")
    assert revoked == {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"}


def test_fast_bitrix24_async_client_pages_concurrently(http_server: RestServer) -> None:
    """The asynchronous client, as integrations use it, with several list calls at once."""

    async def lists() -> list:
        bitrix = BitrixAsync(http_server.webhook, verbose=False)
        return await asyncio.gather(
            *(
                bitrix.get_all("crm.deal.list", {"filter": {">OPPORTUNITY": 0}, "select": ["ID"]})
                for _ in range(3)
            )
        )

    results = asyncio.run(lists())
    assert len({len(result) for result in results}) == 1 and len(results[0]) > 120
