"""The fake GitHub server itself: shapes translation, request validation, headers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from fake_github import FakeGitHub, to_json_schema
from jsonschema import Draft202012Validator


def test_nullable_translation() -> None:
    assert to_json_schema({"type": "string", "nullable": True}) == {"type": ["string", "null"]}
    assert to_json_schema({"type": "string", "enum": ["a"], "nullable": True})["enum"] == [
        "a",
        None,
    ]
    wrapped = to_json_schema({"nullable": True, "anyOf": [{"type": "integer"}]})
    assert Draft202012Validator(wrapped).is_valid(None)
    nested = to_json_schema(
        {"type": "object", "properties": {"m": {"type": "integer", "nullable": True}}}
    )
    assert Draft202012Validator(nested).is_valid({"m": None})
    assert not Draft202012Validator(nested).is_valid({"m": "x"})


def _post(url: str, body: object) -> tuple[int, dict[str, str], object]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def test_invalid_request_body_gets_422_validation_error(fake_github: FakeGitHub) -> None:
    status, _, body = _post(f"{fake_github.url}/repos/a/b/statuses/abc", {"state": "green"})
    assert status == 422
    assert isinstance(body, dict) and body["errors"][0]["code"] == "invalid"
    schema = fake_github.common["error_schemas"]["validation-error"]
    assert Draft202012Validator(to_json_schema(schema)).is_valid(body)
    assert fake_github.validation_failures
    fake_github.validation_failures.clear()


def test_created_answer_has_location_and_rate_headers(fake_github: FakeGitHub) -> None:
    status, headers, _ = _post(f"{fake_github.url}/repos/a/b/issues", {"title": "x"})
    assert status == 201
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered["location"].endswith("/issues/1347")
    assert int(lowered["x-ratelimit-remaining"]) < 5000


def test_content_path_spans_slashes(fake_github: FakeGitHub) -> None:
    with urllib.request.urlopen(
        f"{fake_github.url}/repos/a/b/contents/docs/deep/CODEOWNERS", timeout=10
    ) as r:
        assert r.status == 200
    assert fake_github.calls("repos/get-content")[0].params["path"] == "docs/deep/CODEOWNERS"


@pytest.mark.parametrize(
    "op_id",
    [
        "repos/get-branch-rules",
        "repos/get-repo-ruleset",
        "repos/get-environment",
        "issues/create",
        "repos/create-deployment",
    ],
)
def test_official_examples_match_their_schema(fake_github: FakeGitHub, op_id: str) -> None:
    op = fake_github.operations[op_id]
    status = next(s for s in op.spec["responses"] if s.startswith("2"))
    schema = to_json_schema(op.spec["responses"][status]["content"]["application/json"]["schema"])
    assert Draft202012Validator(schema).is_valid(op.example(status))


def test_scenario_variants_match_github_schemas(fake_github: FakeGitHub) -> None:
    from github_scenarios import rules_compliant, ruleset

    def schema_of(op_id: str) -> Draft202012Validator:
        spec = fake_github.operations[op_id].spec
        return Draft202012Validator(
            to_json_schema(spec["responses"]["200"]["content"]["application/json"]["schema"])
        )

    rules = rules_compliant(fake_github)
    errors = list(schema_of("repos/get-branch-rules").iter_errors(rules))
    assert not errors, errors[0].message if errors else ""
    bypass = [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]
    assert schema_of("repos/get-repo-ruleset").is_valid(ruleset(fake_github, 7, bypass))
