"""Running ``judgemind serve``: the server folder's lock, the jobs a killed server left behind, the scoring workers
(started and loaded before the port opens: a checkpoint that cannot score stops the server before it starts),
uvicorn on the bound socket, and a watch on the workers (one that dies is replaced; its clip is resumed or failed
with the reason).
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field

from judgemind.errors import JudgemindError
from judgemind.serve.app import ServeConfig, create_app
from judgemind.serve.jobs import UPLOADS, JobQueue
from judgemind.serve.security import check_bind
from judgemind.serve.uploads import remove_stale_uploads
from judgemind.serve.worker import ScoreOptions, stored_summary, worker_main, write_round_files
from judgemind.utils import check_out_dir, display_text
from judgemind.utils.lock import FileLock

SERVER_LOCK = ".serve.lock"
LOAD_TIMEOUT_S = 900  # a worker that has not loaded the run by then is a failure to start
WATCH_S = 0.5


@dataclass
class _Worker:
    index: int
    owner: str
    process: multiprocessing.process.BaseProcess


@dataclass
class WorkerPool:
    """``n`` scoring worker processes of one server instance (see :mod:`judgemind.serve.worker`)."""

    cfg: ServeConfig
    opts: ScoreOptions
    n: int
    instance: str = field(default_factory=lambda: secrets.token_hex(6))
    workers: list[_Worker] = field(default_factory=list)
    stopping: bool = False
    _generation: int = 0

    def _spawn(self, index: int):
        ctx = multiprocessing.get_context("spawn")
        self._generation += 1
        owner = f"{self.instance}:{index}:{self._generation}"
        mine, theirs = ctx.Pipe(duplex=False)
        p = ctx.Process(
            target=worker_main,
            args=(
                str(self.cfg.root),
                self.opts,
                owner,
                str(self.cfg.data) if self.cfg.data else None,
                os.getpid(),
                theirs,
            ),
            name=f"judgemind-serve-worker-{index}",
            daemon=True,
        )
        p.start()
        theirs.close()
        return _Worker(index, owner, p), mine

    def _wait_ready(self, worker: _Worker, conn) -> None:
        t0 = time.monotonic()
        while not conn.poll(0.2):
            if not worker.process.is_alive():
                raise JudgemindError(
                    f"the scoring worker stopped while loading {self.opts.checkpoint} (exit code "
                    f"{worker.process.exitcode}); the server was not started"
                )
            if time.monotonic() - t0 > LOAD_TIMEOUT_S:
                worker.process.kill()
                raise JudgemindError(f"loading {self.opts.checkpoint} took over {LOAD_TIMEOUT_S} s; not started")
        try:
            kind, msg = conn.recv()
        except EOFError:
            kind, msg = "error", f"the worker exited (code {worker.process.exitcode})"
        conn.close()
        if kind != "ready":
            raise JudgemindError(f"--checkpoint {display_text(self.opts.checkpoint)} cannot score videos: {msg}")

    def start(self) -> None:
        """Start every worker and wait until each has loaded the run (an error stops them all and is raised)."""
        try:
            started = [self._spawn(i) for i in range(self.n)]
            self.workers = [w for w, _ in started]
            for w, conn in started:
                self._wait_ready(w, conn)
        except BaseException:
            self.stop()
            raise

    def watch(self, queue: JobQueue) -> None:
        """Replace a worker that died; its clip is resumed or failed (:meth:`JobQueue.release`)."""
        for k, w in enumerate(self.workers):
            if self.stopping or w.process.is_alive():
                continue
            code = w.process.exitcode
            released = queue.release(w.owner, f"the scoring worker stopped (exit code {code})")
            for jid in released:
                job = queue.job(jid)
                if job is not None:
                    write_round_files(self.cfg.root, queue, job.round_id, display_text(self.opts.checkpoint))
            print(
                f"judgemind serve: scoring worker {w.index} stopped (exit code {code}); starting it again",
                file=sys.stderr,
                flush=True,
            )
            new, conn = self._spawn(w.index)
            self.workers[k] = new
            try:
                self._wait_ready(new, conn)
            except JudgemindError as e:
                print(f"judgemind serve: {e}", file=sys.stderr, flush=True)

    def stop(self) -> None:
        self.stopping = True
        for w in self.workers:
            if w.process.is_alive():
                w.process.terminate()
        for w in self.workers:
            w.process.join(10)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(5)


def prepare_folder(cfg: ServeConfig, checkpoint_label: str | None) -> JobQueue:
    """The queue of the server folder, after the clean-up of a server that was killed: temporary uploads removed,
    jobs it left running done (files complete), resumed, or failed with the reason; their rounds' files
    rewritten. The caller holds the folder's lock."""
    queue = JobQueue(cfg.root)
    remove_stale_uploads(cfg.root / UPLOADS)
    running = {j.id: j.round_id for j in queue.jobs(status="running")}
    queue.recover(lambda job: stored_summary(cfg.root, job))
    for rid in sorted(set(running.values())):
        write_round_files(cfg.root, queue, rid, checkpoint_label or "")
    return queue


def bind(host: str, port: int) -> socket.socket:
    """The listening socket (bound before anything else starts, so a busy port is reported at once)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as e:
        sock.close()
        raise JudgemindError(
            f"cannot listen on {host}:{port}: {e.strerror or e}; choose another --port (or stop what uses it)"
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def run_server(cfg: ServeConfig, opts: ScoreOptions | None, port: int, announce=print) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM). Raises :class:`JudgemindError` when it cannot start (a host
    without a token, the folder in use, a checkpoint that cannot score, a busy port)."""
    import uvicorn  # noqa: PLC0415 -- the optional [serve] dependency, imported when a server starts

    check_bind(cfg.host, cfg.token)
    check_out_dir(cfg.root, "--root")
    cfg.root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(cfg.root / SERVER_LOCK, what=f"server folder {cfg.root}").acquire()
    pool = None
    try:
        label = display_text(opts.checkpoint) if opts else None
        queue = prepare_folder(cfg, label)
        sock = bind(cfg.host, port)
        if opts is not None:
            pool = WorkerPool(cfg, opts, cfg.workers)
            pool.start()
        app = create_app(cfg)
        if cfg.data is not None and app.app.state.web.data is not None:
            app.app.state.web.data.status()  # validated before the first page asks
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5)
        )
        host, real_port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{real_port}/" + ("annotate" if cfg.start == "annotate" else "")
        announce(f"judgemind serve: {url}" + (" (add ?token=TOKEN)" if cfg.token else ""))
        announce(f"  folder {display_text(cfg.root)}; {cfg.workers if pool else 0} scoring worker(s); Ctrl-C stops")
        stop = threading.Event()
        if pool is not None:

            def watch():
                while not stop.wait(WATCH_S):
                    pool.watch(queue)

            threading.Thread(target=watch, name="judgemind-serve-watch", daemon=True).start()
        # uvicorn stops on SIGINT / SIGTERM and then re-raises the signal: both end here as a normal stop
        old = signal.signal(signal.SIGTERM, _interrupt)
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            signal.signal(signal.SIGTERM, old)
        pending = len(queue.jobs(status="queued")) + len(queue.jobs(status="running"))
        announce("judgemind serve: stopped" + (f"; {pending} clip(s) wait for the next start" if pending else ""))
    finally:
        if pool is not None:
            pool.stop()
            JobQueue(cfg.root).requeue_owned(pool.instance + ":", "the server was stopped while it was scored")
        lock.release()


def _interrupt(signum, frame):
    raise KeyboardInterrupt
