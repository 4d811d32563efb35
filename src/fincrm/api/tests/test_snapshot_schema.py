"""The OpenAPI schema states what ``/snapshots/`` returns: segments and reasons are lists."""

import pytest

from fincrm.api.models import ApiToken
from fincrm.evaluation import services
from fincrm.evaluation.choices import RunKind

pytestmark = pytest.mark.django_db


def test_snapshot_segments_and_reasons_are_documented_and_returned_as_lists(client, book, users):
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    properties = schema["SnapshotOut"]["properties"]
    assert properties["segments"]["type"] == "array"
    assert properties["segments"]["items"] == {"type": "string"}
    assert properties["reasons"]["type"] == "array"
    assert properties["reasons"]["items"]["$ref"].endswith("/ReasonOut")
    assert {"code", "component", "value", "points"} <= set(schema["ReasonOut"]["properties"])

    services.evaluation_run(kind=RunKind.FULL)
    _token, plain = ApiToken.issue(user=users["admin"], name="bi")
    response = client.get("/api/v1/snapshots/", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == 4
    for row in rows:
        assert isinstance(row["segments"], list) and isinstance(row["reasons"], list)
        assert all(isinstance(code, str) for code in row["segments"])
        assert all(isinstance(reason["code"], str) for reason in row["reasons"])
    assert any(row["reasons"] for row in rows)
