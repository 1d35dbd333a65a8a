"""Runs the ASGI server; in the embedded default also the task worker, in the same process.

Production runs this (or any ASGI server on ``config.asgi:application``) with
EMBEDDED_WORKER=false, separate ``manage.py db_worker`` processes and, to use more than one core,
``--workers N`` server processes. Those need the Redis channel layer: the in-memory layer is
per process, so a broadcast made in one would never reach the websockets held by another.
"""

import json
import threading

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.crypto import get_random_string
from uvicorn.supervisors import Multiprocess

from bizproc.sweeper import Sweeper
from config.asgi_server import ServerConfig
from config.task_worker import EmbeddedWorker


class Command(BaseCommand):
    help = "Serves HTTP and websockets (and runs the task worker in the embedded default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--ssl-certfile", help="serve HTTPS with this PEM certificate")
        parser.add_argument("--ssl-keyfile", help="the private key of --ssl-certfile")
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.WEB_CONCURRENCY,
            help="server processes (default: WEB_CONCURRENCY, else 1); several need REDIS_URL",
        )

    def handle(
        self,
        *args: object,
        host: str,
        port: int,
        ssl_certfile: str | None,
        ssl_keyfile: str | None,
        workers: int,
        **options: object,
    ) -> None:
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        if workers > 1 and not settings.REDIS_URL:
            raise CommandError(
                "Several server processes need REDIS_URL: the in-memory channel layer cannot "
                "carry live updates from one process to another."
            )
        worker = None
        if settings.EMBEDDED_WORKER:
            worker = EmbeddedWorker(
                queue_names=["*"],
                interval=0.2,
                batch=True,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id=f"embedded-{get_random_string(12)}",
                excluded_queue_names=[],
            )
            threading.Thread(target=worker.run, name="task-worker", daemon=True).start()
            sweeper = Sweeper()
            sweeper.start()

        url = f"{'https' if ssl_certfile else 'http'}://{host}:{port}/"
        self.stdout.write(f"Bizproc Designer is running at {url}")
        credentials_file = settings.DEMO_CREDENTIALS_FILE
        if credentials_file.exists():
            credentials = json.loads(credentials_file.read_text())
            self.stdout.write(
                f"Log in as: {credentials['username']}  password: {credentials['password']}"
            )
        if settings.DEMO_WEBHOOK_FILE.exists():
            webhook = settings.DEMO_WEBHOOK_FILE.read_text().strip()
            self.stdout.write(f"REST webhook: {url.rstrip('/')}{webhook}")
        if worker:
            self.stdout.write(
                "The task worker and the sweeper run inside this process. Press Ctrl-C to stop."
            )
        self.stdout.flush()
        config = ServerConfig(
            "config.asgi:application",
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            workers=workers,
        )
        try:
            if workers > 1:
                Multiprocess(config, sockets=[config.bind_socket()]).run()
            else:
                uvicorn.Server(config).run()
        except KeyboardInterrupt:
            pass
        finally:
            if worker:
                worker.running = False
                sweeper.stop()
