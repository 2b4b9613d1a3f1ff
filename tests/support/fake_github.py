"""A fake GitHub REST API on 127.0.0.1 built from GitHub's own OpenAPI shapes.

Routes by method and path template from ``tests/support/github_api/index.json``
(``{path}`` spans slashes, other parameters are one segment), validates every
JSON request body against the operation's request schema (OpenAPI ``nullable``
translated to JSON Schema) and answers 422 ``validation-error`` when it fails,
serves the official examples — or variants a scenario builds from them — with
the headers real answers carry (``X-RateLimit-*``, ``Link``, ``Location``), and
can script errors (rate limits, 5xx, 401, 404) per operation.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from jsonschema import Draft202012Validator

SHAPES_ENV = "DHASH_GITHUB_API_SHAPES"
DOCS = "https://docs.github.com/rest"


def shapes_dir() -> Path | None:
    """The GitHub API shapes vendored in tests/support/github_api (or $DHASH_GITHUB_API_SHAPES)."""
    candidates = []
    if os.environ.get(SHAPES_ENV):
        candidates.append(Path(os.environ[SHAPES_ENV]))
    candidates.append(Path(__file__).resolve().parent / "github_api")
    for candidate in candidates:
        if (candidate / "index.json").is_file():
            return candidate.resolve()
    return None


def to_json_schema(schema: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema: ``nullable`` becomes a ``null`` type or an anyOf."""
    if isinstance(schema, list):
        return [to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = to_json_schema(value)
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            out[key] = [to_json_schema(sub) for sub in value]
        elif key == "nullable":
            continue
        else:
            out[key] = value
    if schema.get("nullable") is True:
        if "type" in out:
            types = [out["type"]] if isinstance(out["type"], str) else list(out["type"])
            out["type"] = [*dict.fromkeys([*types, "null"])]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass
class Operation:
    op_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]
    request_validator: Draft202012Validator | None

    def example(self, status: str | None = None, name: str | None = None) -> Any:
        responses = self.spec["responses"]
        status = status or next(s for s in responses if s.startswith("2"))
        content = responses[status].get("content") or {}
        for media in ("application/json", *content):
            examples = (content.get(media) or {}).get("examples") or {}
            if examples:
                chosen = examples[name] if name else next(iter(examples.values()))
                return copy.deepcopy(chosen["value"])
        return None

    def documented_headers(self, status: str) -> list[str]:
        response = self.spec["responses"].get(status) or {}
        return list((response.get("headers") or {}).keys())


def _compile(template: str) -> re.Pattern[str]:
    regex = ""
    for piece in re.split(r"(\{[^}]+\})", template):
        if piece.startswith("{"):
            name = piece[1:-1]
            regex += f"(?P<{name}>.+)" if name == "path" else f"(?P<{name}>[^/]+)"
        else:
            regex += re.escape(piece)
    return re.compile(f"^{regex}$")


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Recorded:
    method: str
    path: str
    op_id: str | None
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@functools.lru_cache(maxsize=2)
def load_shapes(shapes: Path) -> tuple[dict[str, Any], dict[str, Operation]]:
    """The pack's operations (read once per test session; answers are deep-copied)."""
    index = json.loads((shapes / "index.json").read_text(encoding="utf-8"))
    common = json.loads((shapes / "common.json").read_text(encoding="utf-8"))
    operations: dict[str, Operation] = {}
    for op_id, entry in index.items():
        spec = json.loads((shapes / entry["file"]).read_text(encoding="utf-8"))
        validator = None
        body = spec.get("requestBody")
        if body:
            schema = (body.get("content") or {}).get("application/json", {}).get("schema")
            if schema:
                validator = Draft202012Validator(to_json_schema(schema))
        operations[op_id] = Operation(
            op_id, entry["method"], entry["path"], _compile(entry["path"]), spec, validator
        )
    return common, operations


Dynamic = Callable[["FakeGitHub", Recorded], Answer]


class FakeGitHub:
    """The server and its scenario state. Use :meth:`start` / :meth:`stop` (or the fixture)."""

    def __init__(self, shapes: Path) -> None:
        self.shapes = shapes
        self.common, self.operations = load_shapes(shapes)
        self.lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.validation_failures: list[tuple[str, str]] = []
        self.unrouted: list[str] = []
        self.answers: dict[str, list[tuple[dict[str, str], Answer | Dynamic]]] = {}
        self.scripted: dict[str, list[tuple[Answer, bool]]] = {}
        self.rate_remaining = 5000
        self.reset_at = int(time.time()) + 3600
        self.issues: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []
        self.deployments: list[dict[str, Any]] = []
        self.deployment_statuses: list[dict[str, Any]] = []
        self.commit_statuses: list[dict[str, Any]] = []
        self.prefix = ""  # e.g. "/api/v3" to act as GitHub Enterprise Server
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._install_stateful()

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- scenario API -----------------------------------------------------------------------
    def example(self, op_id: str, status: str | None = None, name: str | None = None) -> Any:
        return self.operations[op_id].example(status, name)

    def set(
        self,
        op_id: str,
        answer: Answer | Dynamic | Any,
        *,
        status: int = 200,
        match: dict[str, str] | None = None,
    ) -> None:
        """Answer ``op_id`` (only when its path parameters match ``match``) with this body."""
        if not isinstance(answer, Answer) and not callable(answer):
            answer = Answer(status, answer)
        self.answers.setdefault(op_id, []).insert(0, (match or {}, answer))

    def not_found(self, op_id: str, message: str = "Not Found", **match: str) -> None:
        self.set(op_id, Answer(404, self.error_body(404, message)), match=match)

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"message": message, "documentation_url": DOCS, "status": str(status)}

    def script(self, op_id: str, answer: Answer, *, then_apply: bool = False) -> None:
        """Answer the next call of ``op_id`` with ``answer`` (once). ``then_apply``: the call
        still takes effect on the server, as when a 502 is returned after the write."""
        self.scripted.setdefault(op_id, []).append((answer, then_apply))

    def calls(self, op_id: str) -> list[Recorded]:
        return [r for r in self.requests if r.op_id == op_id]

    # --- dispatch ---------------------------------------------------------------------------
    def _route(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self.operations.values():
            if op.method != method:
                continue
            match = op.pattern.match(path)
            if match:
                return op, {k: unquote(v) for k, v in match.groupdict().items()}
        return None

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        if self.prefix and parts.path.startswith(self.prefix + "/"):
            parts = parts._replace(path=parts.path[len(self.prefix) :])
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        method = handler.command
        routed = self._route(method, parts.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body: Any = None
        answer: Answer
        with self.lock:
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
            record = Recorded(
                method,
                parts.path,
                routed[0].op_id if routed else None,
                routed[1] if routed else {},
                query,
                body,
                {k.lower(): v for k, v in handler.headers.items()},
            )
            self.requests.append(record)
            if routed is None:
                self.unrouted.append(f"{method} {parts.path}")
                answer = Answer(404, self.error_body(404, "Not Found"))
            else:
                answer = self._answer(routed[0], record)
        self._send(handler, answer, routed[0] if routed else None)

    def _answer(self, op: Operation, record: Recorded) -> Answer:
        if op.request_validator is not None and record.method in ("POST", "PATCH", "PUT"):
            errors = sorted(op.request_validator.iter_errors(record.body), key=str)
            if errors:
                self.validation_failures.append((op.op_id, errors[0].message))
                return Answer(
                    422,
                    {
                        "message": "Invalid request.",
                        "documentation_url": op.spec.get("docs_url", DOCS),
                        "errors": [
                            {
                                "resource": op.op_id,
                                "code": "invalid",
                                "field": "/".join(str(p) for p in e.path),
                                "message": e.message,
                            }
                            for e in errors[:5]
                        ],
                    },
                )
        queue = self.scripted.get(op.op_id)
        if queue:
            scripted, then_apply = queue.pop(0)
            if then_apply:
                self._configured(op, record)
            return scripted
        return self._configured(op, record)

    def _configured(self, op: Operation, record: Recorded) -> Answer:
        for match, answer in self.answers.get(op.op_id, []):
            if all(record.params.get(k) == v for k, v in match.items()):
                return answer(self, record) if callable(answer) else copy.deepcopy(answer)
        status = next(s for s in op.spec["responses"] if s.startswith("2"))
        return Answer(int(status), op.example(status))

    def _send(self, handler: BaseHTTPRequestHandler, answer: Answer, op: Operation | None) -> None:
        payload = b"" if answer.body is None else json.dumps(answer.body).encode("utf-8")
        with self.lock:
            if self.rate_remaining > 0:
                self.rate_remaining -= 1
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": str(self.rate_remaining),
                "X-RateLimit-Reset": str(self.reset_at),
                "X-RateLimit-Used": str(5000 - self.rate_remaining),
                "X-RateLimit-Resource": "core",
                "X-GitHub-Request-Id": f"FAKE:{len(self.requests)}",
            }
        if op is not None:
            documented = op.documented_headers(str(answer.status))
            if "Link" in documented:
                path = urlsplit(handler.path).path
                headers["Link"] = f'<{self.url}{path}?page=1>; rel="last"'
            if "Location" in documented and isinstance(answer.body, dict) and "url" in answer.body:
                headers["Location"] = str(answer.body["url"])
        headers.update(answer.headers)
        handler.send_response(answer.status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        if payload:
            handler.wfile.write(payload)

    # --- stateful resources (issues, deployments, statuses) --------------------------------
    def _install_stateful(self) -> None:
        self.set("issues/list-for-repo", _list_issues)
        self.set("issues/create", _create_issue)
        self.set("issues/create-comment", _create_comment)
        self.set("repos/create-deployment", _create_deployment)
        self.set("repos/create-deployment-status", _create_deployment_status)
        self.set("repos/create-commit-status", _create_commit_status)

    def repo_url(self, record: Recorded) -> str:
        return f"{self.url}/repos/{record.params['owner']}/{record.params['repo']}"

    # rate-limit helpers -------------------------------------------------------------------
    def primary_limit(self, reset_in: float, status: int = 403) -> Answer:
        return Answer(
            status,
            {
                "message": "API rate limit exceeded for installation ID 1.",
                "documentation_url": f"{DOCS}/using-the-rest-api/rate-limits-for-the-rest-api",
            },
            {
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time() + reset_in)),
            },
        )

    def secondary_limit(self, retry_after: int | None = None) -> Answer:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return Answer(
            403,
            {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                "before you try again.",
                "documentation_url": f"{DOCS}/using-the-rest-api/rate-limits-for-the-rest-api",
            },
            headers,
        )


def _list_issues(fake: FakeGitHub, record: Recorded) -> Answer:
    state = record.query.get("state", "open")
    wanted = {x for x in record.query.get("labels", "").split(",") if x}
    items = []
    for issue in fake.issues:
        names = {label["name"] for label in issue["labels"]}
        if (state == "all" or issue["state"] == state) and wanted <= names:
            items.append(copy.deepcopy(issue))
    return Answer(200, items)


def _create_issue(fake: FakeGitHub, record: Recorded) -> Answer:
    issue = fake.example("issues/create", "201")
    number = 1347 + len(fake.issues)
    issue.update(
        id=number,
        number=number,
        title=record.body["title"],
        body=record.body.get("body"),
        state="open",
        comments=0,
        url=f"{fake.repo_url(record)}/issues/{number}",
        html_url=f"https://github.com/{record.params['owner']}/{record.params['repo']}/issues/{number}",
        labels=[
            {"id": i, "name": name, "color": "d73a4a", "default": False}
            for i, name in enumerate(record.body.get("labels") or [])
        ],
    )
    issue.pop("pull_request", None)
    fake.issues.append(issue)
    return Answer(201, copy.deepcopy(issue))


def _create_comment(fake: FakeGitHub, record: Recorded) -> Answer:
    number = int(record.params["issue_number"])
    issue = next((i for i in fake.issues if i["number"] == number), None)
    if issue is None:
        return Answer(404, fake.error_body(404, "Not Found"))
    comment = fake.example("issues/create-comment", "201")
    comment.update(id=len(fake.comments) + 1, body=record.body["body"], issue_number=number)
    issue["comments"] += 1
    fake.comments.append(comment)
    return Answer(201, copy.deepcopy(comment))


def _create_deployment(fake: FakeGitHub, record: Recorded) -> Answer:
    deployment = fake.example("repos/create-deployment", "201")
    number = 100 + len(fake.deployments)
    deployment.update(
        id=number,
        ref=record.body["ref"],
        environment=record.body.get("environment", "production"),
        payload=record.body.get("payload", {}),
        description=record.body.get("description"),
        url=f"{fake.repo_url(record)}/deployments/{number}",
    )
    fake.deployments.append(deployment)
    return Answer(201, copy.deepcopy(deployment))


def _create_deployment_status(fake: FakeGitHub, record: Recorded) -> Answer:
    number = int(record.params["deployment_id"])
    if not any(d["id"] == number for d in fake.deployments):
        return Answer(404, fake.error_body(404, "Not Found"))
    status = fake.example("repos/create-deployment-status", "201")
    status.update(
        id=len(fake.deployment_statuses) + 1,
        state=record.body["state"],
        log_url=record.body.get("log_url", ""),
        description=record.body.get("description", ""),
        deployment_id=number,
    )
    fake.deployment_statuses.append(status)
    return Answer(201, copy.deepcopy(status))


def _create_commit_status(fake: FakeGitHub, record: Recorded) -> Answer:
    status = fake.example("repos/create-commit-status", "201")
    status.update(
        id=len(fake.commit_statuses) + 1,
        state=record.body["state"],
        context=record.body.get("context", "default"),
        description=record.body.get("description"),
        target_url=record.body.get("target_url"),
        sha=record.params["sha"],
    )
    fake.commit_statuses.append(status)
    return Answer(201, copy.deepcopy(status))
