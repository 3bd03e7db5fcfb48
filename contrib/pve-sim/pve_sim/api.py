"""Async client the owner uses to drive its own fakepve over HTTPS, like pct drives PVE's API.

Going through the real HTTP API (rather than fakepve's Python objects) keeps fakepve's
parameter validation, lock checks and error catalogue in the path of every command.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any
from urllib.parse import urlencode

import aiohttp


class ApiError(Exception):
    """An API answer other than 200: status, message (no trailing newline) and per-key errors."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}


class TaskFailed(Exception):
    """A task ended with TASK ERROR; carries the exit status and the log lines before it."""

    def __init__(self, message: str, log: list[str]):
        super().__init__(message)
        self.message = message
        self.log = log


Params = list[tuple[str, str]] | dict[str, Any] | None


class Api:
    """A logged-in session against one fakepve; re-logs in when the ticket is refused."""

    def __init__(self, url: str, cafile: str, user: str, password: str):
        self.url = url.rstrip("/") + "/api2/json"
        self.user = user
        self.password = password
        self._ssl = ssl.create_default_context(cafile=cafile)
        self._session: aiohttp.ClientSession | None = None
        self._csrf = ""
        self.latency = 0.0

    async def open(self) -> None:
        """Start the HTTP session and log in."""
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self._ssl))
        await self._login()

    async def close(self) -> None:
        if self._session:
            await self._session.close()

    async def _login(self) -> None:
        assert self._session is not None
        async with self._session.post(
            self.url + "/access/ticket", data={"username": self.user, "password": self.password}
        ) as resp:
            data = (await resp.json())["data"]
        self._session.cookie_jar.update_cookies({"PVEAuthCookie": data["ticket"]})
        self._csrf = data["CSRFPreventionToken"]

    async def call(self, method: str, path: str, params: Params = None) -> Any:
        """One API request; returns `data` or raises ApiError."""
        for attempt in range(2):
            status, body = await self._send(method, path, params)
            if status == 401 and attempt == 0:
                await self._login()
                continue
            break
        if status != 200:
            message = str(body.get("message") or "").rstrip("\n")
            errors = {k: str(v) for k, v in (body.get("errors") or {}).items()}
            raise ApiError(status, message, errors)
        return body.get("data")

    async def _send(self, method: str, path: str, params: Params) -> tuple[int, dict[str, Any]]:
        assert self._session is not None
        items = list(params.items()) if isinstance(params, dict) else list(params or [])
        items = [(k, str(v)) for k, v in items if v is not None]
        kwargs: dict[str, Any] = {"headers": {"CSRFPreventionToken": self._csrf}}
        # Arguments that are not UTF-8 reach us with surrogate escapes; Perl passes such bytes
        # through, so they are sent as the bytes they were (never an encoding crash here).
        body = urlencode(items, encoding="utf-8", errors="surrogateescape")
        if method in ("GET", "DELETE"):
            path = f"{path}?{body}" if body else path
        else:
            kwargs["data"] = body.encode("ascii")
            kwargs["headers"]["Content-Type"] = "application/x-www-form-urlencoded"
        async with self._session.request(method, self.url + path, **kwargs) as resp:
            try:
                body = await resp.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                body = {"message": (await resp.text()) or resp.reason or ""}
            return resp.status, body if isinstance(body, dict) else {"data": body}

    async def wait(self, node: str, upid: str) -> list[str]:
        """Wait for a task like the CLI does; return its log lines or raise TaskFailed."""
        if self.latency:
            await asyncio.sleep(self.latency)
        delay = 0.01
        while True:
            status = await self.call("GET", f"/nodes/{node}/tasks/{upid}/status")
            if status.get("status") == "stopped":
                break
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)
        log = await self.call("GET", f"/nodes/{node}/tasks/{upid}/log", {"limit": 100000})
        lines = [entry["t"] for entry in log]
        exit_status = status.get("exitstatus", "OK")
        body = [t for t in lines if not t.startswith(("TASK OK", "TASK ERROR"))]
        if exit_status != "OK":
            if body and body[-1] == exit_status:
                body = body[:-1]
            raise TaskFailed(exit_status, body)
        return body
