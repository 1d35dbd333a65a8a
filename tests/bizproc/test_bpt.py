"""The .bpt packer: the real Bitrix export, its other packings, refusals, and real PHP."""

import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from bizproc import bpt
from bizproc.bpt import BptContent, BptError, bpt_read, bpt_write, walk
from bizproc.phpserial import dumps, loads
from tests.bizproc.test_phpserial import run_php

# The shared folder sits beside the repository, here and in CI's clone alike.
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "bitrix" / "bp-179.bpt"
MB = 1024 * 1024

DAMAGED = "The file is damaged or incomplete."
NOT_BPT = "The file is not a business process template (.bpt)."

FIXTURE_TYPES = [
    "SequentialWorkflowActivity",
    "SetVariableActivity",
    "SetFieldActivity",
    "SetPermissionsActivity",
    "LogActivity",
    "WhileActivity",
    "SequenceActivity",
    "IfElseActivity",
    "IfElseBranchActivity",
    "SetFieldActivity",
    "IfElseBranchActivity",
    "LogActivity",
    "GetUserActivity",
    "SetVariableActivity",
    "IfElseActivity",
    "IfElseBranchActivity",
    "SetVariableActivity",
    "IfElseBranchActivity",
    "IfElseActivity",
    "IfElseBranchActivity",
    "TerminateActivity",
    "IfElseBranchActivity",
    "LogActivity",
    "SetPermissionsActivity",
    "IMNotifyActivity",
    "ApproveActivity",
    "SequenceActivity",
    "SetVariableActivity",
    "SequenceActivity",
    "SetFieldActivity",
    "IfElseActivity",
    "IfElseBranchActivity",
    "IMNotifyActivity",
    "SetPermissionsActivity",
    "IMNotifyActivity",
    "ReviewActivity",
    "SetFieldActivity",
    "WhileActivity",
    "SequenceActivity",
    "RequestInformationActivity",
    "SetFieldActivity",
    "ApproveActivity",
    "SequenceActivity",
    "SetFieldActivity",
    "SequenceActivity",
    "IMNotifyActivity",
    "SetStateTitleActivity",
    "IMNotifyActivity",
    "IfElseBranchActivity",
    "SetStateTitleActivity",
    "IMNotifyActivity",
]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def raw() -> bytes:
    return FIXTURE.read_bytes()


@pytest.fixture(scope="module")
def payload(raw: bytes) -> bytes:
    return zlib.decompress(raw)


@pytest.fixture(scope="module")
def content(raw: bytes) -> BptContent:
    return bpt_read(raw)


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def test_the_fixture_has_51_nodes_under_one_root_named_template(content: BptContent) -> None:
    assert len(content.template) == 1
    root = content.template[0]
    assert (root["Type"], root["Name"]) == ("SequentialWorkflowActivity", "Template")
    assert len(list(walk(content.template))) == 51


def test_the_fixture_nodes_come_in_document_order(content: BptContent) -> None:
    assert [node["Type"] for node in walk(content.template)] == FIXTURE_TYPES
    assert len(set(FIXTURE_TYPES)) == 16


def test_every_node_keeps_all_its_properties(content: BptContent, payload: bytes) -> None:
    def raw_nodes(nodes: dict[Any, Any]) -> Iterator[dict[Any, Any]]:
        for node in nodes.values():
            yield node
            yield from raw_nodes(node.get("Children", {}))

    php_nodes = list(raw_nodes(loads(payload)["TEMPLATE"]))
    ours = list(walk(content.template))
    assert len(ours) == len(php_nodes)
    for node, php_node in zip(ours, php_nodes, strict=True):
        assert node["Name"] == php_node["Name"]
        assert list(node["Properties"]) == list(php_node["Properties"])
        # Lists serialize as arrays keyed 0..n-1, so equal bytes mean every value is kept.
        assert dumps(node["Properties"]) == dumps(php_node["Properties"])


def test_arrays_keyed_from_zero_read_as_lists_and_named_maps_as_dicts(
    content: BptContent,
) -> None:
    root = content.template[0]
    while_node = root["Children"][4]
    assert while_node["Type"] == "WhileActivity"
    assert while_node["Properties"]["fieldcondition"] == [["PROPERTY_APPROVED", "=", "EMPTY"]]
    assert isinstance(while_node["Children"], list)
    assert root["Children"][0]["Properties"]["VariableValue"]["Approver"] == [
        "{=Document:CREATED_BY}"
    ]
    assert content.parameters == {}  # a:0:{} in the file, still a map
    assert content.document_fields["PROPERTY_APPROVED"]["UserTypeSettings"] == []


def test_the_fixture_has_its_variables_and_constants(content: BptContent) -> None:
    assert content.version == 2
    assert list(content.variables) == ["Approver", "Employee", "Documents", "username"]
    assert list(content.constants) == ["Manager", "Bookkeeper", "Instruction"]
    assert content.variables["Approver"]["Type"] == "user"
    assert "PROPERTY_APPROVED" in content.document_fields


def test_written_then_read_gives_identical_content(content: BptContent) -> None:
    assert bpt_read(bpt_write(content)) == content


def test_written_read_and_written_again_gives_identical_bytes(content: BptContent) -> None:
    written = bpt_write(content)
    assert bpt_write(bpt_read(written)) == written


def test_writing_the_fixture_back_gives_bitrixs_serialized_bytes(
    content: BptContent, payload: bytes
) -> None:
    written = bpt_write(content)
    assert written[:2] == b"\x78\xda"  # zlib, best compression: what gzcompress($data, 9) gives
    assert zlib.decompress(written) == payload


@pytest.mark.parametrize(
    "pack",
    [gzip.compress, raw_deflate, lambda data: data],
    ids=["gzip", "raw deflate", "plain"],
)
def test_other_packings_of_the_fixture_read_identically(
    pack: Callable[[bytes], bytes], payload: bytes, content: BptContent
) -> None:
    assert bpt_read(pack(payload)) == content


@pytest.mark.parametrize(
    "pack",
    [zlib.compress, gzip.compress, raw_deflate, lambda data: data],
    ids=["zlib", "gzip", "raw deflate", "plain"],
)
def test_a_file_cut_in_half_is_damaged(pack: Callable[[bytes], bytes], payload: bytes) -> None:
    packed = pack(payload)
    with pytest.raises(BptError) as refusal:
        bpt_read(packed[: len(packed) // 2])
    assert refusal.value.message == DAMAGED


def test_a_file_with_a_corrupted_byte_is_damaged(raw: bytes) -> None:
    middle = len(raw) // 2
    with pytest.raises(BptError, match=DAMAGED):
        bpt_read(raw[:middle] + bytes([raw[middle] ^ 0xFF]) + raw[middle + 1 :])


def test_a_file_with_bytes_after_the_stream_is_damaged(raw: bytes) -> None:
    with pytest.raises(BptError, match=DAMAGED):
        bpt_read(raw + b"\n")


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00",
        b"This is not a template, just some text.\n",
        b"",
        zlib.compress(b"just some text"),
    ],
    ids=["png", "text", "empty", "zlib text"],
)
def test_a_file_of_another_kind_is_not_a_template(data: bytes) -> None:
    with pytest.raises(BptError) as refusal:
        bpt_read(data)
    assert refusal.value.message == NOT_BPT


@pytest.mark.parametrize(
    "value",
    [
        {"VERSION": 2, "PARAMETERS": {}, "VARIABLES": {}},
        {"foo": "bar"},
        ["TEMPLATE"],
        "TEMPLATE",
    ],
    ids=["no template", "other array", "list", "string"],
)
def test_serialized_data_without_a_template_is_not_a_template(value: Any) -> None:
    for data in (zlib.compress(dumps(value)), dumps(value)):
        with pytest.raises(BptError) as refusal:
            bpt_read(data)
        assert refusal.value.message == NOT_BPT


NODE = {"Type": "LogActivity", "Name": "A1", "Properties": {"Text": "hi"}}


@pytest.mark.parametrize(
    "value",
    [
        {"TEMPLATE": []},
        {"TEMPLATE": "Template"},
        {"TEMPLATE": [{"Name": "Template", "Properties": {}}]},
        {"TEMPLATE": [{**NODE, "Type": 5}]},
        {"TEMPLATE": [{**NODE, "Properties": "Text"}]},
        {"TEMPLATE": [{**NODE, "Children": [NODE, "A2"]}]},
        {"TEMPLATE": [NODE], "VARIABLES": "Approver"},
        {"TEMPLATE": [NODE], "VERSION": "2"},
    ],
    ids=[
        "empty",
        "string",
        "no type",
        "int type",
        "string properties",
        "string child",
        "string variables",
        "string version",
    ],
)
def test_a_template_of_the_wrong_shape_is_damaged(value: dict[str, Any]) -> None:
    with pytest.raises(BptError) as refusal:
        bpt_read(zlib.compress(dumps(value)))
    assert refusal.value.message == DAMAGED


def test_a_minimal_template_without_version_or_maps_reads_with_defaults() -> None:
    content = bpt_read(dumps({"TEMPLATE": {3: NODE}}))
    assert content == BptContent(version=1, template=[NODE])


def test_a_50_mb_file_is_refused_by_size_before_unpacking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_inflating(*args: Any) -> None:
        raise AssertionError("inflating started")

    monkeypatch.setattr(bpt.zlib, "decompressobj", no_inflating)
    with pytest.raises(BptError) as refusal:
        bpt_read(bytes(50 * MB))
    assert refusal.value.message == "The file is larger than 10 MB."


def test_a_zlib_bomb_is_refused_without_inflating_it_all(monkeypatch: pytest.MonkeyPatch) -> None:
    # It starts like a template, so only the size limit can stop it.
    packer = zlib.compressobj(9)
    head = packer.compress(b'a:1:{s:8:"TEMPLATE";s:%d:"' % (200 * MB))
    zeros = bytes(MB)
    bomb = head + b"".join(packer.compress(zeros) for _ in range(200)) + packer.flush()
    assert len(bomb) < MB // 4  # 200 MB in a small file

    inflated: list[int] = []
    real_decompressobj = zlib.decompressobj

    class CountingInflater:
        def __init__(self, wbits: int) -> None:
            self._inner = real_decompressobj(wbits)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            part = self._inner.decompress(data, max_length)
            inflated.append(len(part))
            return part

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

    monkeypatch.setattr(bpt.zlib, "decompressobj", CountingInflater)
    with pytest.raises(BptError) as refusal:
        bpt_read(bomb)
    assert refusal.value.message == "The file unpacks to more than 50 MB."
    assert sum(inflated) <= 51 * MB


def php_json_view(value: Any) -> Any:
    """``value`` as PHP's json_encode shows it: arrays keyed 0..n-1 are lists, keys strings."""
    if isinstance(value, dict):
        if list(value) == list(range(len(value))):
            return [php_json_view(item) for item in value.values()]
        return {str(key): php_json_view(item) for key, item in value.items()}
    if isinstance(value, list):
        return [php_json_view(item) for item in value]
    return value


def test_php_reads_our_export_of_the_fixture(content: BptContent, tmp_path: Path) -> None:
    exported = tmp_path / "bp-179.bpt"
    exported.write_bytes(bpt_write(content))
    php_json = run_php(
        "$data = unserialize(gzuncompress(file_get_contents($argv[1])),"
        ' ["allowed_classes" => false]);'
        ' if (!is_array($data)) { fwrite(STDERR, "not an array"); exit(1); }'
        " echo json_encode($data, JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);",
        str(exported),
    )
    ours = {
        "VERSION": content.version,
        "TEMPLATE": content.template,
        "PARAMETERS": content.parameters,
        "VARIABLES": content.variables,
        "CONSTANTS": content.constants,
        "DOCUMENT_FIELDS": content.document_fields,
    }
    # Compared as JSON text, so key order counts as well.
    assert json.dumps(json.loads(php_json), ensure_ascii=False) == json.dumps(
        php_json_view(ours), ensure_ascii=False
    )


@pytest.mark.parametrize(
    "packer", ["gzcompress", "gzencode", "gzdeflate", ""], ids=["zlib", "gzip", "deflate", "plain"]
)
def test_a_template_packed_by_php_reads(packer: str) -> None:
    packed = run_php(
        f"echo {packer}(serialize(["
        ' "VERSION" => 2,'
        ' "TEMPLATE" => [["Type" => "SequentialWorkflowActivity", "Name" => "Template",'
        '   "Properties" => ["Title" => "Процесс"],'
        '   "Children" => [["Type" => "LogActivity", "Name" => "A1",'
        '     "Properties" => ["Text" => "{=Variable:Sum}", "Users" => ["user_1", "author"]]]]]],'
        ' "PARAMETERS" => [],'
        ' "VARIABLES" => ["Sum" => ["Name" => "Сумма", "Type" => "double", "Default" => 0.1]],'
        ' "CONSTANTS" => [],'
        ' "DOCUMENT_FIELDS" => ["ID" => ["Name" => "ID", "Required" => false, "Options" => []]],'
        "]));"
    )
    assert bpt_read(packed) == BptContent(
        version=2,
        template=[
            {
                "Type": "SequentialWorkflowActivity",
                "Name": "Template",
                "Properties": {"Title": "Процесс"},
                "Children": [
                    {
                        "Type": "LogActivity",
                        "Name": "A1",
                        "Properties": {"Text": "{=Variable:Sum}", "Users": ["user_1", "author"]},
                    }
                ],
            }
        ],
        variables={"Sum": {"Name": "Сумма", "Type": "double", "Default": 0.1}},
        document_fields={"ID": {"Name": "ID", "Required": False, "Options": []}},
    )
