"""The OpenAPI schema is served at a stable path and describes every router."""


def test_openapi_schema_lists_every_router(client, db):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    paths = resp.json()["paths"]
    for prefix in ("/api/v1/territory/", "/api/v1/dispatch/orders", "/api/v1/party/"):
        assert any(p.startswith(prefix) for p in paths), prefix
    create = paths["/api/v1/dispatch/orders"]["post"]
    headers = {p["name"].lower() for p in create.get("parameters", []) if p.get("in") == "header"}
    assert "idempotency-key" in headers
