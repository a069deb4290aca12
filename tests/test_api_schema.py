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


def test_every_operation_documents_every_error_status_with_the_error_body(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    operations = [(path, method.upper(), op)
                  for path, ops in schema["paths"].items() for method, op in ops.items()]
    seen = 0
    for path, method, op in operations:
        expected = {"400", "401", "403", "429"}
        if op.get("parameters") or op.get("requestBody"):
            expected.add("422")
        if "{" in path:
            expected.add("404")
        responses = {str(k): v for k, v in op["responses"].items()}
        assert expected <= set(responses), (method, path, sorted(responses))
        for status in expected:
            content = responses[status]["content"]
            assert list(content) == ["application/json"], (method, path, status)
            ref = content["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorOut", (method, path, status, ref)
        seen += 1
    assert seen >= 40
    error = schema["components"]["schemas"]["ErrorOut"]
    assert set(error["required"]) == {"code", "message"}
    assert {"field", "details"} <= set(error["properties"])


def test_bounds_are_in_the_schema(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    params = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/dispatch/orders"]["get"]["parameters"]}
    assert params["page"]["maximum"] == 10_000 and params["page"]["minimum"] == 1
    lead_unit = next(s for s in params["lead_unit"]["anyOf"] if s.get("type") == "integer")
    assert lead_unit["maximum"] == 2**63 - 1
    params = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/party/summary"]["get"]["parameters"]}
    year = next(s for s in params["year"]["anyOf"] if s.get("type") == "integer")
    assert (year["minimum"], year["maximum"]) == (1900, 2100)


def test_geojson_is_documented_as_geojson(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    ok = schema["paths"]["/api/v1/territory/divisions/{code}/children.geojson"]["get"]["responses"]["200"]
    assert list(ok["content"]) == ["application/geo+json"]
