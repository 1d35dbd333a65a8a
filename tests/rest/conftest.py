"""The real server for the public clients: ``bin/run`` as ``make run`` starts it (migrate, demo
data, serve), on a free loopback port with its own VAR_DIR — one over http, one over https with
a self-signed certificate that the test process trusts through ``REQUESTS_CA_BUNDLE`` and
``SSL_CERT_FILE``.

Besides the demo admin's webhook (printed by ``serve``), each server gets, through
``manage.py shell`` against its own database and our services, a webhook of the demo auditor
(who may read but not change anything), a revoked webhook, and two published templates
(imported over REST with ``bizproc.workflow.template.add``): one whose process waits an hour,
one whose process asks the admin for information (a Request information task).
"""

import base64
import datetime
import ipaddress
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bizproc.bpt import BptContent, bpt_write
from tests.e2e.conftest import ROOT, _free_port

STARTUP_SECONDS = 180
TEMPLATE_TREE = {
    "Type": "SequentialWorkflowActivity",
    "Name": "Template",
    "Properties": {"Title": "Waits an hour"},
    "Children": [
        {
            "Type": "DelayActivity",
            "Name": "A1_1_1_1",
            "Properties": {"Title": "Wait", "TimeoutDuration": "1", "TimeoutDurationType": "h"},
            "Children": [],
        }
    ],
}

# Asks the admin (``user_{admin}``) for an answer and a count, kept in variables.
REQUEST_FIELDS = [
    {"Title": "Answer", "Name": "Answer", "Type": "string", "Required": True, "Multiple": False},
    {"Title": "Count", "Name": "Count", "Type": "int", "Required": False, "Multiple": False},
]


def request_tree(admin_id: int) -> dict:
    return {
        "Type": "SequentialWorkflowActivity",
        "Name": "Template",
        "Properties": {"Title": "Asks for information"},
        "Children": [
            {
                "Type": "RequestInformationActivity",
                "Name": "A1_1_1_2",
                "Properties": {
                    "Title": "Ask",
                    "Users": [f"user_{admin_id}"],
                    "Name": "Tell us more",
                    "RequestedInformation": REQUEST_FIELDS,
                    "TaskButtonMessage": "Send",
                    "ShowComment": "Y",
                },
                "Children": [],
            }
        ],
    }


REQUEST_VARIABLES = {
    "Answer": {"Name": "Answer", "Type": "string", "Required": "0", "Multiple": "0"},
    "Count": {"Name": "Count", "Type": "int", "Required": "0", "Multiple": "0"},
}

_SHELL = """
import json
from accounts.models import User
from rest.services import webhook_create, webhook_path, webhook_revoke
auditor = User.objects.get(username="olga")
webhook, token = webhook_create(user=auditor, name="Client tests")
admin = User.objects.get(username="admin")
revoked, revoked_token = webhook_create(user=admin, name="Revoked")
webhook_revoke(webhook=revoked, user=admin)
print(json.dumps({
    "admin_id": admin.pk,
    "auditor": webhook_path(webhook=webhook, token=token),
    "revoked": webhook_path(webhook=revoked, token=revoked_token),
}))
"""


@dataclass
class RestServer:
    origin: str  # http(s)://127.0.0.1:<port>
    webhook: str  # the demo admin's webhook URL, ending in "/"
    auditor_webhook: str
    revoked_webhook: str
    template_id: int
    request_template_id: int  # asks the admin for information
    process: subprocess.Popen

    @property
    def host(self) -> str:
        return self.origin.split("://", 1)[1]


def bpt_base64(tree: dict | None = None, variables: dict | None = None) -> str:
    content = BptContent(
        version=2,
        template=[tree or TEMPLATE_TREE],
        parameters={},
        variables=variables or {},
        constants={},
        document_fields={},
    )
    return base64.b64encode(bpt_write(content)).decode()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for IP 127.0.0.1 that is its own authority, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _environment(var_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return env | {"PORT": str(port), "VAR_DIR": str(var_dir), "PYTHONUNBUFFERED": "1"}


def _spawn(var_dir: Path, cert: tuple[Path, Path] | None) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    args = ["--ssl-certfile", str(cert[0]), "--ssl-keyfile", str(cert[1])] if cert else []
    process = subprocess.Popen(
        [str(ROOT / "bin" / "run"), *args],
        cwd=ROOT,
        env=_environment(var_dir, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, port


def _post(url: str, params: dict, context: ssl.SSLContext | None) -> dict:
    request = urllib.request.Request(  # noqa: S310 (our own server on loopback)
        url, json.dumps(params).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30, context=context) as response:  # noqa: S310
        return json.loads(response.read())


def _ready(
    process: subprocess.Popen, var_dir: Path, port: int, context: ssl.SSLContext | None
) -> RestServer:
    """Waits for the printed webhook URL and a first answer; adds the fixtures' webhooks."""
    assert process.stdout is not None
    output: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    webhook = None
    while webhook is None:
        line = process.stdout.readline()
        if not line or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("The server did not start:\n" + "".join(output))
        output.append(line)
        if found := re.search(r"REST webhook: (\S+)", line):
            webhook = found[1]
    threading.Thread(target=process.stdout.read, daemon=True).start()
    origin = webhook.split("/rest/", 1)[0]
    while True:
        try:
            _post(f"{webhook}crm.deal.fields", {}, context)
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise AssertionError("The server never answered:\n" + "".join(output)) from None
            time.sleep(0.2)
    shell = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", _SHELL],
        cwd=ROOT,
        env=_environment(var_dir, port),
        capture_output=True,
        text=True,
        check=True,
    )
    paths = json.loads(shell.stdout.strip().splitlines()[-1])
    template = _post(
        f"{webhook}bizproc.workflow.template.add",
        {
            "DOCUMENT_TYPE": ["crm", "CCrmDocumentDeal", "DEAL"],
            "NAME": "Waits an hour",
            "TEMPLATE_DATA": ["wait.bpt", bpt_base64()],
        },
        context,
    )
    request_template = _post(
        f"{webhook}bizproc.workflow.template.add",
        {
            "DOCUMENT_TYPE": ["crm", "CCrmDocumentDeal", "DEAL"],
            "NAME": "Asks for information",
            "TEMPLATE_DATA": [
                "request.bpt",
                bpt_base64(request_tree(paths["admin_id"]), REQUEST_VARIABLES),
            ],
        },
        context,
    )
    return RestServer(
        origin=origin,
        webhook=webhook,
        auditor_webhook=origin + paths["auditor"],
        revoked_webhook=origin + paths["revoked"],
        template_id=template["result"],
        request_template_id=request_template["result"],
        process=process,
    )


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The self-signed certificate, trusted by requests and by Python's default SSL context."""
    cert, _key = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    saved = {name: os.environ.get(name) for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")}
    os.environ["REQUESTS_CA_BUNDLE"] = os.environ["SSL_CERT_FILE"] = str(cert)
    yield cert
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def rest_servers(
    tmp_path_factory: pytest.TempPathFactory, certificate: Path
) -> Iterator[dict[str, RestServer]]:
    """Both servers, started side by side (each loads its own demo company)."""
    plain_dir, tls_dir = tmp_path_factory.mktemp("http-var"), tmp_path_factory.mktemp("tls-var")
    key = certificate.with_name("key.pem")
    plain, plain_port = _spawn(plain_dir, None)
    tls, tls_port = _spawn(tls_dir, (certificate, key))
    try:
        servers = {
            "http": _ready(plain, plain_dir, plain_port, None),
            "https": _ready(
                tls, tls_dir, tls_port, ssl.create_default_context(cafile=str(certificate))
            ),
        }
        yield servers
    finally:
        _stop(plain)
        _stop(tls)


@pytest.fixture(scope="session")
def http_server(rest_servers: dict[str, RestServer]) -> RestServer:
    return rest_servers["http"]


@pytest.fixture(scope="session")
def https_server(rest_servers: dict[str, RestServer]) -> RestServer:
    return rest_servers["https"]
