"""Serving the web application: Cheroot (a threaded, production WSGI server, with TLS) and the
background workers that generate packs beside it."""

from __future__ import annotations

import logging
import os
import signal
import ssl
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import FrameType

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from docgen.bootstrap import between_jobs, job_handlers
from docgen.configuration.web import SECRET_KEY_VARIABLE, WebSettings
from docgen.entrypoints.web import create_app
from docgen.errors import ConfigurationError
from docgen.services.jobs import work
from docgen.services.portal import CodeSender
from docgen.services.runtime import Runtime

log = logging.getLogger("docgen.web")


@dataclass(frozen=True)
class Listen:
    host: str = "127.0.0.1"
    port: int = 8080
    tls_certificate: Path | None = None
    tls_key: Path | None = None

    @property
    def tls(self) -> bool:
        return self.tls_certificate is not None


def secret_key_from_environment() -> str:
    key = os.environ.get(SECRET_KEY_VARIABLE, "")
    if len(key) < 32:
        raise ConfigurationError(
            f"{SECRET_KEY_VARIABLE} must be set to a random value of at least 32 characters (it signs the session "
            "cookies), for example the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'")
    return key


def start_workers(runtime: Runtime, settings: WebSettings, count: int, stop: threading.Event) -> list[threading.Thread]:
    handlers = job_handlers(settings.data_folder)
    threads = [threading.Thread(target=work, args=(runtime, handlers, stop), name=f"docgen-worker-{n}", daemon=True,
                                kwargs={"lease": timedelta(seconds=settings.job_lease_seconds),
                                        "on_idle": between_jobs(settings.data_folder)})
               for n in range(count)]
    for thread in threads:
        thread.start()
    return threads


def serve(runtime: Runtime, settings: WebSettings, listen: Listen, *, secret_key: str,
          ready: threading.Event | None = None, stop: threading.Event | None = None,
          portal_code_sender: CodeSender | None = None) -> None:
    """Serve until interrupted (or ``stop`` is set), with ``settings.workers_beside_server`` workers;
    ``portal_code_sender`` sends the recipient portal's one-time codes (none: the portal says so)."""
    if listen.tls and (listen.tls_key is None or not listen.tls_certificate.is_file() or not listen.tls_key.is_file()):  # type: ignore[union-attr]
        raise ConfigurationError("--tls-certificate and --tls-key must both name readable PEM files")
    app = create_app(runtime, settings, secret_key=secret_key, tls=listen.tls, portal_code_sender=portal_code_sender)
    server = wsgi.Server((listen.host, listen.port), app, numthreads=8, server_name="docgen")
    if listen.tls:
        adapter = BuiltinSSLAdapter(str(listen.tls_certificate), str(listen.tls_key))
        adapter.context.minimum_version = ssl.TLSVersion.TLSv1_2
        server.ssl_adapter = adapter
    stopping = stop or threading.Event()
    workers = start_workers(runtime, settings, settings.workers_beside_server, stopping)

    def shut_down(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()  # the watcher below stops the server, outside the signal handler

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, shut_down)
    try:
        server.prepare()
    except OSError as error:
        stopping.set()
        raise ConfigurationError(f"cannot listen on {listen.host}:{listen.port}: "
                                 f"{error.strerror or error.args[0] if error.args else 'refused'}") from None
    if ready is not None:
        ready.set()
    def stop_when_asked() -> None:
        stopping.wait()
        server.stop()

    watcher = threading.Thread(target=stop_when_asked, daemon=True)
    watcher.start()
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        for thread in workers:
            thread.join(timeout=30)
