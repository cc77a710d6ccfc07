"""A real RFC 3161 TSA on 127.0.0.1 for the timestamp tests, and misbehaving ones.

The TSA is certomancer's Animator (its WSGI app) served by werkzeug in a thread, on a
free port, with keys generated here (``cryptography``) and certificates certomancer
issues from them. Each pytest(-xdist) worker process starts its own (session scope).
``FaultyTSA`` is a small HTTP server that answers every request in one wrong way (error
status, a token for another request, a wrong imprint, slowly, a TSA of another CA).
"""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import tsp
from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig, ServiceLabel
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from werkzeug.serving import WSGIRequestHandler, make_server

_VALIDITY = {"valid-from": "2000-01-01T00:00:00+0000", "valid-to": "2499-01-01T00:00:00+0000"}

_CONFIG = """
external-url-prefix: "http://127.0.0.1"
keysets:
  {arch}:
    path-prefix: "{keys}"
    keys:
      root: {{path: root.key.pem}}
      tsa: {{path: tsa.key.pem}}
pki-architectures:
  {arch}:
    keyset: {arch}
    entity-defaults: {{country-name: BE, organization-name: Archiver Test {arch}}}
    entities:
      root: {{common-name: Test Root CA {arch}}}
      tsa: {{common-name: Test TSA {arch}}}
    certs:
      root:
        subject: root
        issuer: root
        validity: {validity}
        extensions:
          - {{id: basic_constraints, critical: true, value: {{ca: true}}}}
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature, key_cert_sign, crl_sign]}}
      tsa:
        subject: tsa
        issuer: root
        validity: {validity}
        extensions:
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature]}}
          - {{id: extended_key_usage, critical: true, value: [time_stamping]}}
    services:
      time-stamping:
        tsa:
          signing-key: tsa
          signing-cert: tsa
          digest-algo: sha256
"""


def _write_key(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)


@dataclass
class Pki:
    """One test PKI: a root CA (``ca``, PEM file) and a TSA certificate it issued."""

    arch: str
    config: CertomancerConfig
    ca: Path

    def timestamp(self, request: bytes) -> bytes:
        """certomancer's answer to a DER TimeStampReq, without HTTP."""
        arch = self.config.pki_archs[ArchLabel(self.arch)]
        stamper = arch.service_registry.summon_timestamper(ServiceLabel("tsa"))
        answer: bytes = stamper.request_tsa_response(tsp.TimeStampReq.load(request)).dump()
        return answer


def make_pki(directory: Path, arch: str) -> Pki:
    """Keys generated with ``cryptography``, certificates issued by certomancer."""
    keys = directory / f"{arch}-keys"
    keys.mkdir(parents=True)
    _write_key(keys / "root.key.pem")
    _write_key(keys / "tsa.key.pem")
    text = _CONFIG.format(
        arch=arch,
        keys=keys,
        validity="{" + ", ".join(f'{k}: "{v}"' for k, v in _VALIDITY.items()) + "}",
    )
    config = CertomancerConfig.from_yaml(text, key_search_dir=str(keys))
    root = config.pki_archs[ArchLabel(arch)].get_cert(CertLabel("root"))
    ca = directory / f"{arch}-ca.pem"
    ca.write_bytes(_pem(root.dump()))
    return Pki(arch, config, ca)


def _pem(der: bytes) -> bytes:
    from cryptography import x509

    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: object) -> None:  # noqa: A002
        return


def free_port() -> int:
    """A TCP port nothing listens on at the moment."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Thread:
    def __init__(self, server: object, serve: Callable[[], None], stop: Callable[[], None]):
        self.server = server
        self._stop = stop
        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self._stop()
        self.thread.join()


@dataclass
class RunningTSA:
    """A TSA listening on loopback: ``url`` to post to, ``ca`` that verifies its tokens."""

    url: str
    ca: Path
    pki: Pki


@pytest.fixture(scope="session")
def tsa_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """The PKI of the good TSA."""
    return make_pki(tmp_path_factory.mktemp("tsa-pki"), "good")


@pytest.fixture(scope="session")
def rogue_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A PKI whose TSA does not chain to the good one's CA."""
    return make_pki(tmp_path_factory.mktemp("rogue-pki"), "rogue")


@pytest.fixture(scope="session")
def tsa(tsa_pki: Pki) -> Iterator[RunningTSA]:
    """certomancer's Animator serving the good PKI's TSA on a free loopback port."""
    app = Animator(AnimatorArchStore(tsa_pki.config.pki_archs), with_web_ui=False)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    running = _Thread(server, server.serve_forever, server.shutdown)
    port = server.server_port
    try:
        yield RunningTSA(f"http://127.0.0.1:{port}/{tsa_pki.arch}/tsa/tsa", tsa_pki.ca, tsa_pki)
    finally:
        running.stop()
        server.server_close()


class _FaultHandler(http.server.BaseHTTPRequestHandler):
    server: FaultyServer

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", "0"))
        request = self.rfile.read(length)
        fault = self.server.fault
        if fault == "slow":
            self.server.release.wait()
            return
        if fault == "error-status":
            self.send_error(503, "TSA overloaded")
            return
        if fault == "rejection":
            status = tsp.PKIStatusInfo({"status": "rejection", "status_string": ["bad request"]})
            inner = status.dump()  # TimeStampResp ::= SEQUENCE { status, token OPTIONAL }
            body = b"\x30" + bytes([len(inner)]) + inner
        elif fault == "wrong-nonce":
            other = tsp.TimeStampReq.load(request).copy()
            other["nonce"] = int(other["nonce"].native) + 1
            body = self.server.pki.timestamp(other.dump())
        elif fault == "wrong-imprint":
            other = tsp.TimeStampReq.load(request).copy()
            imprint = other["message_imprint"].copy()
            imprint["hashed_message"] = bytes(64)
            other["message_imprint"] = imprint
            body = self.server.pki.timestamp(other.dump())
        elif fault == "garbage":
            body = b"this is not DER"
        else:  # "other-ca": a well-formed token from a TSA of another CA
            body = self.server.pki.timestamp(request)
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


class FaultyServer(http.server.ThreadingHTTPServer):
    """An HTTP server answering every timestamp request with ``fault``."""

    daemon_threads = True

    def __init__(self, fault: str, pki: Pki) -> None:
        super().__init__(("127.0.0.1", 0), _FaultHandler)
        self.fault = fault
        self.pki = pki
        self.release = threading.Event()

    @property
    def url(self) -> str:
        """Where to post."""
        return f"http://127.0.0.1:{self.server_address[1]}/"


@pytest.fixture
def faulty_tsa(tsa_pki: Pki, rogue_pki: Pki) -> Iterator[Callable[[str], FaultyServer]]:
    """Start a misbehaving TSA: ``faulty_tsa("wrong-nonce").url``; all stopped after."""
    started: list[tuple[FaultyServer, _Thread]] = []

    def start(fault: str) -> FaultyServer:
        server = FaultyServer(fault, rogue_pki if fault == "other-ca" else tsa_pki)
        started.append(
            (server, _Thread(server, lambda: server.serve_forever(0.05), server.shutdown))
        )
        return server

    yield start
    for server, thread in started:
        server.release.set()
        thread.stop()
        server.server_close()


def openssl_verify(
    tsr: Path, data: Path, ca: Path, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``openssl ts -verify -in TSR -data DATA -CAfile CA`` (the independent check)."""
    openssl = shutil.which("openssl")
    assert openssl is not None, "the openssl binary is needed for the cross-checks"
    return subprocess.run(
        [openssl, "ts", "-verify", "-in", str(tsr), "-data", str(data), "-CAfile", str(ca)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "OPENSSL_CONF": "/dev/null"},
        check=False,
    )


def timestamp_toml(url: str, ca: Path, timeout: float | None = None) -> str:
    """A ``[timestamp]`` table for archive.toml."""
    extra = f"timeout = {timeout}\n" if timeout is not None else ""
    return f'\n[timestamp]\nurl = "{url}"\nca = "{ca}"\n{extra}'
