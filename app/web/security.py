"""What every answer tells the browser about itself, and the attributes of the cookies Concord sets.

Pages get a strict Content-Security-Policy: scripts and stylesheets only from this site (app.js, app.css,
diagram.css), no inline script, no inline style, no plugins, no framing. Everything else (JSON, problem+json,
SVG, downloads, static files) gets a policy that allows nothing, so a document opened from the API runs
nothing either; a view may set a narrower policy of its own (the diagram SVG allows its own stylesheet).
"""
from __future__ import annotations

import base64
import hashlib

from flask import Flask, Response, current_app, request
from flask.sessions import SecureCookieSessionInterface

PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
NOTHING_POLICY = "default-src 'none'; frame-ancestors 'none'"
# The designer workbench only: dmn-js' decision table sizes its columns with style attributes, and its
# expression editor (CodeMirror) mounts its own <style> element. Inline styles — never scripts — are let
# through on that page for designers; every other page keeps PAGE_POLICY.
EDITOR_POLICY = PAGE_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def source_hash(text: str) -> str:
    """A CSP source allowing one inline <style> or <script> element whose text is `text`."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def secure_cookies() -> bool:
    """Cookies are `Secure` when the request came over HTTPS, or always with CONCORD_SECURE_COOKIES
    (behind a proxy that terminates TLS the application sees plain HTTP)."""
    return bool(current_app.config.get("SECURE_COOKIES")) or request.is_secure


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, `Secure` decided per request rather than once for the app."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return secure_cookies()


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
    else:
        headers.setdefault("Content-Security-Policy", NOTHING_POLICY)
    return response


def init_app(app: Flask) -> None:
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.session_interface = SessionInterface()
    app.after_request(_headers)


def client_address() -> str:
    """The address a request came from, as the per-address limits count it. Behind CONCORD_TRUSTED_PROXIES
    reverse proxies every request comes from the nearest proxy: then it is the address the outermost trusted
    proxy saw, the one that many places from the right of X-Forwarded-For (what a client writes to the left
    of it is not believed, or anyone could take a fresh address per request)."""
    hops = int(current_app.config.get("TRUSTED_PROXIES", 0))
    if hops > 0:
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.remote_addr or "unknown"
