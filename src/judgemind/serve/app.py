"""The web app of ``judgemind serve`` (Starlette): the score pages (upload, rounds, a jump's sheet) and the annotate
pages (a data set's clips, the editor, its frames, the progress export).

    app = create_app(ServeConfig(root=Path("judgemind_serve"), checkpoint="runs/x/best.pt", data=None))

The app only queues jobs and reads what the workers wrote (:mod:`judgemind.serve.worker`); it never loads a model.
Every page is a Jinja2 template with autoescaping on; files are served only from the server's folder, by ids the
queue knows, never by a path from the request.
"""

from __future__ import annotations

import csv
import io
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from judgemind import rules
from judgemind.data import Problem
from judgemind.data.edit import EditConflict
from judgemind.errors import JudgemindError, ValidationError
from judgemind.infer.round import ranked, split_codes_line
from judgemind.rules import load_catalogue
from judgemind.rules.names import COMPONENTS, STAGE_LABELS, STAGES
from judgemind.serve import security
from judgemind.serve.annotate import N_JUDGES, AnnotateData, FrameCache
from judgemind.serve.jobs import ROUNDS, UPLOADS, Job, JobQueue, job_dir, new_job_id
from judgemind.serve.uploads import Limits, UploadRefused, check_clip, discard, display_name, read_upload, store_clip
from judgemind.utils import display_text

STATIC = Path(__file__).resolve().parent / "static"
MAX_FORM_BYTES = 4 << 20  # the annotate and "score data set videos" forms (no files)
MEDIA = {"sheet.html": "text/html; charset=utf-8", "result.json": "application/json", "timeline.png": "image/png"}
# the judge sheet is a self-contained page with inline styles and data: images; it runs no script
SHEET_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'"


@dataclass
class ServeConfig:
    """What a server serves. ``checkpoint``: the run that scores (None: no score pages); ``data``: the FineSkiing
    data set of the annotate pages and of "pick videos of the data set" (None: no annotate pages)."""

    root: Path
    checkpoint: str | None = None
    data: Path | None = None
    host: str = "127.0.0.1"
    token: str | None = None
    start: str = "score"  # the page / opens: score or annotate
    limits: Limits = field(default_factory=Limits)
    workers: int = 1


def create_app(cfg: ServeConfig) -> security.Guard:
    """The Starlette app (``.app``), wrapped in :class:`judgemind.serve.security.Guard` (an ASGI app)."""
    cfg.root.mkdir(parents=True, exist_ok=True)
    web = Web(cfg)
    routes = [
        Route("/", web.home),
        Route("/score", web.score_page),
        Route("/score/upload", web.upload_form, methods=["POST"]),
        Route("/api/upload", web.upload_api, methods=["POST"]),
        Route("/score/dataset", web.score_dataset, methods=["POST"]),
        Route("/rounds/{rid}", web.round_page),
        Route("/rounds/{rid}/{name}", web.round_file),
        Route("/rounds/{rid}/{jid}/{name}", web.job_file),  # the links of the round's index.html
        Route("/api/rounds/{rid}", web.round_api),
        Route("/jobs/{jid}", web.job_page),
        Route("/jobs/{jid}/{name}", web.job_file),
        Route("/annotate", web.annotate_index),
        Route("/annotate/edit", web.annotate_edit),
        Route("/annotate/save", web.annotate_save, methods=["POST"]),
        Route("/annotate/frame", web.annotate_frame),
        Route("/annotate/progress.{fmt}", web.annotate_progress),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={Exception: web.internal_error})
    app.state.web = web
    return security.Guard(app, security.load_secret(cfg.root), cfg.host, cfg.token)


class Web:
    """The handlers; state shared by them: the queue, the data set, the frame cache, the templates."""

    def __init__(self, cfg: ServeConfig):
        self.cfg = cfg
        self.queue = JobQueue(cfg.root)
        self.data = AnnotateData(cfg.data) if cfg.data is not None else None
        self.frames = FrameCache()
        self.env = Environment(
            loader=PackageLoader("judgemind.serve", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["timestamp"] = lambda t: time.strftime("%Y-%m-%d %H:%M", time.localtime(t))
        self.catalogue = load_catalogue()

    # -- helpers ------------------------------------------------------------------------------------------------

    def render(self, request: Request, template: str, status: int = 200, **ctx) -> HTMLResponse:
        page = self.env.get_template(template).render(
            csrf=request.state.csrf,
            scoring=self.cfg.checkpoint is not None,
            annotating=self.cfg.data is not None,
            checkpoint=display_text(self.cfg.checkpoint) if self.cfg.checkpoint else None,
            dataset=display_text(self.cfg.data) if self.cfg.data else None,
            limits=self.cfg.limits,
            **ctx,
        )
        return HTMLResponse(page, status_code=status)

    def error(self, request: Request, status: int, message: str, problems=()) -> HTMLResponse:
        return self.render(request, "error.html", status=status, message=message, problems=list(problems))

    def job_view(self, job: Job, typical: float | None) -> dict[str, Any]:
        """A job as the pages and the JSON show it, with its progress (0-1, or None while it cannot be told)."""
        now = time.time()
        view = {
            "id": job.id,
            "name": job.name,
            "status": job.status,
            "stage": job.stage,
            "reason": job.reason,
            "code": job.code or (job.summary or {}).get("action_code"),
            "record_id": job.record_id,
            "position": self.queue.queue_position(job),
            "elapsed": round(now - job.started, 1) if job.status == "running" and job.started else None,
            "summary": job.summary,
            "sheet": f"/jobs/{job.id}/sheet.html" if job.status == "done" else None,
            "page": f"/jobs/{job.id}",
        }
        if job.status in ("done", "failed"):
            view["progress"] = 1.0
        elif job.status == "queued":
            view["progress"] = 0.0
        else:
            view["progress"] = min(0.95, view["elapsed"] / typical) if typical and view["elapsed"] is not None else None
        return view

    def round_view(self, rid: str) -> dict[str, Any] | None:
        rnd = self.queue.round(rid)
        if rnd is None:
            return None
        jobs = self.queue.jobs(rid)
        typical = self.queue.typical_seconds()
        views = [self.job_view(j, typical) for j in jobs]
        rows = [
            {**(v["summary"] or {}), "name": v["name"], "job": v["id"], "status": "scored"}
            for v in views
            if v["status"] == "done"
        ]
        counts = {s: sum(v["status"] == s for v in views) for s in ("queued", "running", "done", "failed")}
        return {
            "round": rnd,
            "jobs": views,
            "ranking": ranked(rows),
            "counts": counts,
            "finished": counts["queued"] + counts["running"] == 0,
            "typical": typical,
        }

    async def internal_error(self, request: Request, exc: Exception) -> Response:
        """A bug: the traceback goes to the server's log, the page says so in one line."""
        traceback.print_exception(exc, file=sys.stderr)
        return HTMLResponse(
            "<!DOCTYPE html><title>internal error</title><p>internal error: this is a bug in judgemind; the "
            "server's log has the details (please report them).</p>",
            status_code=500,
        )

    async def _small_form(self, request: Request, max_fields: int):
        """An url-encoded form of at most :data:`MAX_FORM_BYTES` (None when larger); no files."""
        length = request.headers.get("content-length", "")
        if not length.isdigit() or int(length) > MAX_FORM_BYTES:
            return None
        return await request.form(max_files=0, max_fields=max_fields)

    # -- score ----------------------------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        start = self.cfg.start if self.cfg.start == "annotate" and self.data is not None else "score"
        return RedirectResponse(f"/{start}", status_code=303)

    def score_page(self, request: Request) -> Response:
        records = []
        if self.data is not None:
            ds, _ = self.data.status()
            if ds is not None:
                split_of = {i: s for s, ids in ds.meta.splits.items() for i in ids}
                records = [{"id": r.id, "code": r.action_code, "split": split_of.get(r.id, "")} for r in ds.records]
        return self.render(request, "score.html", rounds=self.queue.rounds(), records=records, errors=[])

    def _round_for(self, fields: dict[str, list[str]]) -> str | None:
        rid = (fields.get("round") or [""])[0]
        if rid and rid != "new":
            if self.queue.round(rid) is None:
                raise UploadRefused("that round does not exist on this server", 404)
            return rid
        return None

    async def _accept(self, fields: dict[str, list[str]], parts) -> tuple[str | None, list[dict], list[dict]]:
        """Check every uploaded part (code, size, container) and queue the good ones in the round the form names
        (or a new one). Returns (round id, accepted jobs, errors per file)."""
        rid = self._round_for(fields)
        default = (fields.get("code") or [""])[0].strip()
        listed: dict[str, str] = {}
        for line in (fields.get("codes") or [""])[0].splitlines():
            cells = split_codes_line(line)
            if len(cells) == 2:
                listed[display_name(cells[0])] = cells[1]
        errors, good = [], []
        for part in parts:
            code = listed.get(part.name, default)
            why = part.error or _code_problem(code) or await run_in_threadpool(check_clip, part)
            if why:
                errors.append({"name": part.name, "error": why})
            else:
                good.append((part, code))
        if not good:
            discard(parts)
            return rid, [], errors
        if rid is None:
            title = (fields.get("round_name") or [""])[0].strip()[:100] or time.strftime("round %Y-%m-%d %H:%M")
            rid = self.queue.add_round(title)
        accepted = []
        for part, code in good:
            jid = new_job_id()
            stored = await run_in_threadpool(store_clip, part, self.cfg.root / UPLOADS, jid)
            _, name = self.queue.add_job(rid, part.name, "upload", f"{UPLOADS}/{stored}", code, job_id=jid)
            accepted.append({"id": jid, "name": name, "code": code})
        discard(parts)
        return rid, accepted, errors

    async def _read(self, request: Request, csrf: str | None):
        why = security.same_origin(request)
        if why:
            raise UploadRefused(why, 403)
        if self.cfg.checkpoint is None:
            raise UploadRefused("this server scores nothing: start it with --checkpoint RUN", 409)

        def before_file(fields):
            given = csrf or (fields.get(security.CSRF_FIELD) or [None])[0]
            return security.check_csrf(request, given)

        return await read_upload(request, self.cfg.root / UPLOADS, self.cfg.limits, before_file)

    async def upload_form(self, request: Request) -> Response:
        """The plain form (no script needed): several files, one code for all and/or a 'VIDEO CODE' list."""
        try:
            fields, parts = await self._read(request, None)
            why = security.check_csrf(request, (fields.get(security.CSRF_FIELD) or [None])[0])
            if why:
                discard(parts)
                raise UploadRefused(why, 403)
            if not parts:
                raise UploadRefused("choose at least one video file to upload")
            rid, accepted, errors = await self._accept(fields, parts)
        except UploadRefused as e:
            return self._score_page_with(request, [{"name": "upload", "error": str(e)}], e.status)
        if not accepted:
            return self._score_page_with(request, errors, 400)
        if errors:
            view = self.round_view(rid)
            return self.render(request, "round.html", view=view, errors=errors)
        return RedirectResponse(f"/rounds/{rid}", status_code=303)

    def _score_page_with(self, request, errors, status):
        return self.render(request, "score.html", status=status, rounds=self.queue.rounds(), records=[], errors=errors)

    async def upload_api(self, request: Request) -> Response:
        """The page's script: one request per file (so each has its own upload progress); JSON back."""
        try:
            fields, parts = await self._read(request, request.headers.get(security.CSRF_HEADER))
            if not parts:
                raise UploadRefused("no file in the upload")
            rid, accepted, errors = await self._accept(fields, parts)
        except UploadRefused as e:
            return JSONResponse({"round": None, "jobs": [], "errors": [{"name": "", "error": str(e)}]}, e.status)
        return JSONResponse({"round": rid, "jobs": accepted, "errors": errors}, 200 if accepted else 400)

    async def score_dataset(self, request: Request) -> Response:
        """Queue videos of the --data set (picked on the score page); their codes come from their records."""
        form = await self._small_form(request, 20000)
        if form is None:
            return self.error(request, 413, "the form is too large")
        why = security.check_csrf(request, form.get(security.CSRF_FIELD))
        if why:
            return self.error(request, 403, why)
        if self.cfg.checkpoint is None or self.data is None:
            return self.error(request, 409, "this server needs --checkpoint and --data to score data set videos")
        ds, problems = self.data.status()
        if ds is None:
            return self.error(request, 409, "the data set does not validate", problems)
        ids = [i for i in form.getlist("record") if isinstance(i, str)]
        by_id = {r.id: r for r in ds.records}
        unknown = [i for i in ids if i not in by_id]
        if unknown or not ids:
            return self.error(
                request, 400, "pick records of the data set" + (f"; unknown: {unknown[:5]}" if unknown else "")
            )
        try:
            rid = self._round_for({"round": [form.get("round") or "new"]})
        except UploadRefused as e:
            return self.error(request, e.status, str(e))
        if rid is None:
            rid = self.queue.add_round(
                str(form.get("round_name") or "").strip()[:100] or f"{ds.meta.name}: {len(ids)} jumps"
            )
        for i in ids:
            self.queue.add_job(rid, i, "dataset", by_id[i].video, None, record_id=i)
        return RedirectResponse(f"/rounds/{rid}", status_code=303)

    def round_page(self, request: Request) -> Response:
        view = self.round_view(request.path_params["rid"])
        if view is None:
            return self.error(request, 404, "no such round on this server")
        return self.render(request, "round.html", view=view, errors=[])

    def round_api(self, request: Request) -> Response:
        view = self.round_view(request.path_params["rid"])
        if view is None:
            return JSONResponse({"error": "no such round"}, 404)
        return JSONResponse(view)

    def round_file(self, request: Request) -> Response:
        """The round's files as ``judgemind score VIDEOS --out`` writes them (index.html, round.json)."""
        rid, name = request.path_params["rid"], request.path_params["name"]
        if self.queue.round(rid) is None or name not in ("index.html", "round.json"):
            return self.error(request, 404, "no such file")
        path = self.cfg.root / ROUNDS / rid / name
        if not path.is_file():
            return self.error(request, 404, "the round has no finished jump yet")
        if name == "index.html":  # its links go to <job>/sheet.html: answered by the job's own route
            return FileResponse(
                path, media_type="text/html; charset=utf-8", headers={"content-security-policy": SHEET_CSP}
            )
        return FileResponse(path, media_type="application/json")

    def job_page(self, request: Request) -> Response:
        job = self.queue.job(request.path_params["jid"])
        if job is None:
            return self.error(request, 404, "no such clip on this server")
        view = self.job_view(job, self.queue.typical_seconds())
        rnd = self.queue.round(job.round_id)
        return self.render(request, "job.html", job=view, round=rnd)

    def job_file(self, request: Request) -> Response:
        """A scored jump's file; only once the job is done (a sheet is never shown before all files are in)."""
        jid, name = request.path_params["jid"], request.path_params["name"]
        job = self.queue.job(jid)
        rid = request.path_params.get("rid")
        if job is None or name not in MEDIA or (rid is not None and rid != job.round_id):
            return self.error(request, 404, "no such file")
        if job.status != "done":
            return self.error(request, 409, f"{job.name} is {job.status}; its sheet is shown when it is scored")
        path = job_dir(self.cfg.root, job) / name
        headers = {"content-security-policy": SHEET_CSP} if name == "sheet.html" else {}
        return FileResponse(path, media_type=MEDIA[name], headers=headers)

    # -- annotate -------------------------------------------------------------------------------------------------

    def _annotate_ready(self, request: Request):
        if self.data is None:
            return None, self.error(
                request,
                409,
                "this server annotates nothing: start it with --data DATASET (or `judgemind annotate DATASET`)",
            )
        ds, problems = self.data.status()
        if ds is None:
            return None, self.render(
                request, "annotate_invalid.html", status=409, problems=problems[:500], n_problems=len(problems)
            )
        if ds.meta.scoring != "aerials5":
            return None, self.error(
                request,
                409,
                f"the annotate page writes the 5-judge aerials format; this data set scores {ds.meta.scoring!r}",
            )
        return ds, None

    def annotate_index(self, request: Request) -> Response:
        ds, bad = self._annotate_ready(request)
        if bad is not None:
            return bad
        split_of = {i: s for s, ids in ds.meta.splits.items() for i in ids}
        records = [
            {
                "id": r.id,
                "code": r.action_code,
                "score": r.final_score,
                "split": split_of.get(r.id, ""),
                "here": (r.extra.get("annotation") or {}).get("tool") == "judgemind annotate",
            }
            for r in ds.records
        ]
        return self.render(
            request,
            "annotate_index.html",
            progress=self.data.progress(self.queue),
            records=records,
            videos=self.data.videos_without_record(ds),
            uploads=[self.job_view(j, None) for j in self.data.uploads(self.queue)],
            name=ds.meta.name,
        )

    def _clip(self, kind: str, ident: str):
        return self.data.clip(kind, ident, self.queue)

    def annotate_edit(self, request: Request) -> Response:
        ds, bad = self._annotate_ready(request)
        if bad is not None:
            return bad
        q = request.query_params
        try:
            clip = self._clip(q.get("kind", ""), q.get("ident", ""))
            form = self.data.editor(clip, self.queue)
        except JudgemindError as e:
            return self.error(request, 404, str(e))
        return self._editor(request, clip, form, ds, saved=q.get("saved") == "1")

    def _editor(self, request, clip, form, ds, saved=False, problems=(), status=200) -> Response:
        splits = list(ds.meta.splits)
        items = [
            {"id": i.id, "name": i.name, "stage": i.stage, "min": str(i.points_min), "max": str(i.points_max)}
            for i in self.catalogue
        ]
        return self.render(
            request,
            "annotate_edit.html",
            status=status,
            form=form,
            clip={
                "kind": clip.kind,
                "ident": clip.ident,
                "n_frames": clip.n_frames,
                "fps": clip.fps,
                "name": clip.record.id if clip.record else (clip.job.name if clip.job else clip.ident),
            },
            splits=splits,
            items=items,
            stages=list(zip(STAGES, STAGE_LABELS)),
            components=COMPONENTS,
            n_judges=N_JUDGES,
            saved=saved,
            problems=list(problems),
            final=_final_of(ds, form.get("id")) if saved else None,
        )

    async def annotate_save(self, request: Request) -> Response:
        form = await self._small_form(request, 5000)
        if form is None:
            return self.error(request, 413, "the form is too large")
        fields: dict[str, list[str]] = {}
        for k, v in form.multi_items():
            if isinstance(v, str):
                fields.setdefault(k, []).append(v)
        why = security.check_csrf(request, (fields.get(security.CSRF_FIELD) or [None])[0])
        if why:
            return self.error(request, 403, why)
        ds, bad = self._annotate_ready(request)
        if bad is not None:
            return bad
        kind, ident = (fields.get("kind") or [""])[0], (fields.get("ident") or [""])[0]
        try:
            clip = self._clip(kind, ident)
        except JudgemindError as e:
            return self.error(request, 404, str(e))
        try:
            rec = await run_in_threadpool(self.data.save, clip, fields)
        except EditConflict as e:
            return self._editor(
                request,
                clip,
                _form_of_fields(fields, clip),
                ds,
                status=409,
                problems=[Problem("", str(e), rule="conflict")],
            )
        except ValidationError as e:
            return self._editor(
                request,
                clip,
                _form_of_fields(fields, clip),
                ds,
                status=400,
                problems=e.problems or [Problem("", str(e))],
            )
        except JudgemindError as e:
            return self._editor(
                request, clip, _form_of_fields(fields, clip), ds, status=400, problems=[Problem("", str(e))]
            )
        return RedirectResponse(f"/annotate/edit?kind=record&ident={quote(rec.id, safe='')}&saved=1", status_code=303)

    def annotate_frame(self, request: Request) -> Response:
        if self.data is None:
            return Response("no data set", 404)
        q = request.query_params
        try:
            clip = self._clip(q.get("kind", ""), q.get("ident", ""))
            n = int(q.get("n", ""))
        except (JudgemindError, ValueError):
            return Response("no such frame", 404)
        jpeg = self.frames.frame(clip.path, n)
        if jpeg is None:
            return Response("no such frame", 404)
        return Response(jpeg, media_type="image/jpeg", headers={"cache-control": "private, max-age=3600"})

    def annotate_progress(self, request: Request) -> Response:
        ds, bad = self._annotate_ready(request)
        if bad is not None:
            return bad
        doc = self.data.progress(self.queue)
        fmt = request.path_params["fmt"]
        if fmt == "json":
            return JSONResponse(doc, headers={"content-disposition": 'attachment; filename="progress.json"'})
        if fmt != "csv":
            return self.error(request, 404, "progress.json or progress.csv")
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["action_code", "records"])
        for code, n in doc["per_code"].items():
            w.writerow([code, n])
        w.writerow(["(all)", doc["records"]])
        return Response(
            buf.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="progress.csv"'},
        )


def _code_problem(code: str) -> str | None:
    """Why ``code`` cannot score a clip (none given, not a jump code, no DD), or None."""
    if not code:
        return "has no action code (type the jump's code, e.g. bFdFF)"
    try:
        rules.parse_jump_code(code)
        rules.dd_for(code)
    except JudgemindError as e:
        return f"action code: {e}"
    return None


def _final_of(ds, rid) -> str | None:
    try:
        return str(ds.get(rid).final_score)
    except JudgemindError:
        return None


def _form_of_fields(fields: dict[str, list[str]], clip) -> dict[str, Any]:
    """The editor's values as they were sent (shown again with the problems, nothing lost)."""

    def one(k):
        return (fields.get(k) or [""])[0]

    cols = {k: fields.get(f"ded_{k}", []) for k in ("item", "points", "from", "to", "severity")}
    n = len(cols["item"])
    return {
        "id": clip.record.id if clip.record else one("id"),
        "new": clip.record is None,
        "action_code": one("action_code"),
        "dd": one("dd"),
        "sex": one("sex"),
        "athlete": one("athlete"),
        "event": one("event"),
        "split": one("split"),
        "frames": [one("start"), one("end")],
        "bounds": [one("b1"), one("b2")],
        "judges": [[one(f"j{i}_{c}") for c in COMPONENTS] for i in range(N_JUDGES)],
        "deductions": [{k: (cols[k][i] if i < len(cols[k]) else "") for k in cols} for i in range(n)],
        "prefill": one("prefill"),
        "base": one("base"),
        "kind": clip.kind,
        "ident": clip.ident,
        "model": None,
    }
