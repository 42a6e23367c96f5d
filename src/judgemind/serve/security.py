"""What keeps ``judgemind serve`` safe by default (an ASGI middleware and the forms' tokens).

- **Hosts.** Bound to 127.0.0.1 unless told otherwise; a request whose ``Host`` is not the server's own name
  (``127.0.0.1``, ``localhost``, ``[::1]`` or the ``--host`` given) is refused, so a web page cannot reach the
  server through a DNS name that points at 127.0.0.1 (DNS rebinding).
- **Token.** A server on another address than the loopback needs ``--token``: every request carries it, as
  ``Authorization: Bearer TOKEN`` or once as ``?token=TOKEN`` (the browser then keeps a cookie that holds a hash
  of it, ``HttpOnly``, ``SameSite=Strict``).
- **Forms (CSRF).** Each browser gets a random session cookie; every form and every upload carries a token made
  from it with the server's secret key (``FOLDER/.secret``, mode 0600), and a request that changes something must
  come from the server's own origin (``Origin``, or ``Referer`` when the browser sends no ``Origin``).
- **Headers.** A Content-Security-Policy without inline scripts, ``nosniff``, no framing by other sites, no
  referrer to other sites.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from judgemind.errors import JudgemindError

SESSION_COOKIE = "jm_session"
TOKEN_COOKIE = "jm_token"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SECRET_FILE = ".secret"
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """A host other than the loopback needs a token (the server would be open to the network)."""
    if not is_loopback(host) and not token:
        raise JudgemindError(
            f"--host {host} makes the server reachable from other machines; give --token TOKEN (a long random "
            f"string every request must carry), or keep the default --host 127.0.0.1"
        )
    if token is not None and len(token) < 16:
        raise JudgemindError(
            "--token must be at least 16 characters (e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(24))'`)"
        )


def load_secret(root: Path) -> bytes:
    """The server folder's secret key (made on first use, readable by the user only)."""
    path = root / SECRET_FILE
    if not path.is_file():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    data = path.read_bytes()
    if len(data) < 32:
        raise JudgemindError(f"{path}: the server's secret key is damaged; delete it and restart")
    return data


def csrf_token(secret: bytes, session: str) -> str:
    return hmac.new(secret, f"csrf:{session}".encode(), hashlib.sha256).hexdigest()


def _cookies(scope) -> dict[str, str]:
    raw = b"; ".join(v for k, v in scope.get("headers", []) if k == b"cookie").decode("latin-1")
    c = SimpleCookie()
    try:
        c.load(raw)
    except Exception:  # noqa: BLE001 -- a malformed cookie header is treated as no cookies
        return {}
    return {k: m.value for k, m in c.items()}


def _header(scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", []):
        if k == name:
            return v.decode("latin-1")
    return None


class Guard:
    """ASGI middleware: host check, token, session cookie, security headers (see the module docstring).
    ``scope["state"]["session"]`` and ``["csrf"]`` are set for the app."""

    def __init__(self, app, secret: bytes, host: str, token: str | None):
        self.app, self.secret, self.token = app, secret, token
        self.hosts = {h.lower() for h in LOOPBACK_NAMES} | {host.lower().strip("[]")}
        self.any_host = _is_ip(host) and ipaddress.ip_address(host.strip("[]")).is_unspecified  # 0.0.0.0, ::
        self.token_hash = hmac.new(secret, f"token:{token}".encode(), hashlib.sha256).hexdigest() if token else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        host = (_header(scope, b"host") or "").lower()
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        if not self.any_host and name.strip("[]") not in self.hosts:
            return await _plain(send, 421, "this server answers only to its own address (Host header refused)")
        cookies = _cookies(scope)
        set_cookies: list[str] = []
        if self.token is not None:
            ok, set_token = self._authorised(scope, cookies)
            if not ok:
                return await _plain(send, 401, "this server needs its token: open it with ?token=TOKEN")
            if set_token:
                set_cookies.append(f"{TOKEN_COOKIE}={self.token_hash}; Path=/; HttpOnly; SameSite=Strict")
        session = cookies.get(SESSION_COOKIE, "")
        if len(session) != 43 or not session.replace("-", "").replace("_", "").isalnum():
            session = secrets.token_urlsafe(32)
            set_cookies.append(f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict")
        scope.setdefault("state", {})
        scope["state"]["session"] = session
        scope["state"]["csrf"] = csrf_token(self.secret, session)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"SAMEORIGIN"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"cache-control", b"no-store"),
                ]
                if b"content-security-policy" not in have:
                    extra.append((b"content-security-policy", CSP.encode()))
                headers += [(k, v) for k, v in extra if k not in have]
                headers += [(b"set-cookie", c.encode("latin-1")) for c in set_cookies]
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)

    def _authorised(self, scope, cookies) -> tuple[bool, bool]:
        auth = _header(scope, b"authorization") or ""
        if auth.startswith("Bearer ") and hmac.compare_digest(auth[7:].encode(), self.token.encode()):
            return True, False
        if hmac.compare_digest(cookies.get(TOKEN_COOKIE, "").encode(), self.token_hash.encode()):
            return True, False
        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
        if given and hmac.compare_digest(given.encode(), self.token.encode()):
            return True, True
        return False, False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


async def _plain(send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def same_origin(request) -> str | None:
    """Why a request that changes something is refused as cross-site, or None (``Origin``, else ``Referer``,
    must be this server)."""
    host = request.headers.get("host", "")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        ref = request.headers.get("referer")
        if not ref:
            return "the request names no origin (Origin or Referer); send it from the server's own pages"
        parts = urlsplit(ref)
        origin = f"{parts.scheme}://{parts.netloc}"
    if urlsplit(origin).netloc.lower() != host.lower():
        return "a request from another site was refused (cross-site request)"
    return None


def check_csrf(request, given: str | None) -> str | None:
    """Why a form post is refused (another origin, or no valid token), or None."""
    why = same_origin(request)
    if why:
        return why
    want = request.scope.get("state", {}).get("csrf", "")
    if not given or not hmac.compare_digest(given.encode(), want.encode()):
        return "the form's security token is missing or expired; reload the page and send it again"
    return None
