#!/usr/bin/env python3
"""Generates the OpenAPI 3.0.3 description of Strata's HTTP API: Sources/StrataServer/Resources/
openapi.json (a resource embedded in the binary and served at /openapi.json; docs/openapi.json
links to it).

The operations themselves (method, path, role, audit action, whether an API replica forwards
them, operationId, summary) are declared once, in Sources/StrataServer/Resources/routes.json,
which the server's router, role policy and forwarding also read. The table below (OPERATIONS)
adds what only the document needs, per method and path: the query parameters and body the
handler reads, its success responses and the error statuses it can answer. 401, 403 and 429 are
added to every operation that needs a key, and 503 to every operation that is forwarded. An
operation of routes.json without a row here is documented with its summary alone; a row here
without an operation in routes.json is an error.

Run from anywhere: python3 scripts/openapi.py (--check: fail if the file is out of date)
"""

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESOURCES = os.path.join(ROOT, "Sources", "StrataServer", "Resources")
ROLES = ["admin", "ingest", "serve", "scientist", "approver"]

# --- schema helpers -------------------------------------------------------------------------

STR = {"type": "string"}
INT = {"type": "integer", "format": "int64"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
OBJ = {"type": "object"}


def arr(items, **extra):
    return {"type": "array", "items": items, **extra}


def obj(properties=None, required=(), closed=False, **extra):
    schema = {"type": "object", **extra}
    if properties:
        schema["properties"] = properties
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def ref(name):
    return {"$ref": "#/components/schemas/" + name}


# --- parameter helpers ----------------------------------------------------------------------

PATH_PARAMS = {
    "id": "The entry's id (item, user, training run or API key)",
    "user": "The user to recommend for",
    "name": "The deployment's name",
    "ref": "A model version: NAME@VERSION, NAME@production, NAME@previous, or NAME (its newest version)",
    "entity": "user or item",
    "version": "A snapshot version (or latest)",
}
PATH_DESCRIPTIONS = {
    ("/v1/models/{ref}/rollback", "ref"): "The model's NAME: its previous production version becomes production again",
    ("/v1/features/{entity}/{id}", "entity"): "The entity: user or item (400 unknown_entity otherwise)",
    ("/v1/features/{entity}/{id}", "id"): "The entity's id",
    ("/v1/experiments/{name}", "name"): "The deployment whose A/B test to report",
}


def q(name, schema, description, **extra):
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description, **extra}


def qint(name, minimum, maximum, default, description):
    schema = {"type": "integer", "minimum": minimum, "default": default}
    if maximum is not None:
        schema["maximum"] = maximum
    if maximum is None or maximum > 2**31 - 1:
        schema["format"] = "int64"
    return q(name, schema, description + " (400 invalid_parameter outside the range)")


def qbool(name, description):
    return q(name, BOOL, description + " (true/false or 1/0; 400 invalid_parameter otherwise)")


CSV = {"type": "string"}
ITEM_FILTER = [
    q("category", CSV, "Only items in these categories (comma-separated)"),
    qbool("in_stock", "Only items whose in_stock property matches"),
    q("min_price", NUM, "Only items priced at least this (400 invalid_parameter if not a number)"),
    q("max_price", NUM, "Only items priced at most this (400 invalid_parameter if not a number)"),
    q(
        "filter",
        {"type": "object", "additionalProperties": STR},
        "Equality filters on catalog properties, sent as filter.PROPERTY=VALUE query parameters "
        "(this object stands for all of them; its keys are the full parameter names, filter. included)",
        style="form",
        explode=True,
    ),
]
N_PARAM = qint("n", 1, 1000, 10, "How many items (also at most serving.max_n, default 100: 400 invalid_n past it)")
DEPLOYMENT_PARAM = q("deployment", STR, "The deployment to serve from (default serving.deployment)")

# --- request bodies -------------------------------------------------------------------------


def json_body(schema, description=None, required=True):
    body = {"required": required, "content": {"application/json": {"schema": schema}}}
    if description:
        body["description"] = description
    return body


EVENTS_BODY = {
    "required": True,
    "description": "One event or a batch (at most ingest.max_batch_events events, ingest.max_body_size bytes). "
    "Content-Type application/ndjson, application/jsonl, application/x-jsonlines, application/jsonlines, "
    "application/protobuf and application/vnd.google.protobuf are accepted as synonyms; anything else is 415.",
    "content": {
        "application/json": {"schema": {"oneOf": [ref("Event"), arr(ref("Event"))]}},
        "application/x-ndjson": {"schema": {"type": "string", "description": "One JSON event per line"}},
        "application/x-protobuf": {
            "schema": {"type": "string", "format": "binary", "description": "A strata.v1.EventBatch (Sources/StrataLake/Ingestion/event_batch.proto)"}
        },
    },
}
CATALOG_PUT_BODY = json_body(
    obj(additionalProperties=True, description="The whole entry: every property (checked against the contract's entities section); "
        "properties left out are cleared; optionally \"timestamp\""),
)
CATALOG_POST_BODY = json_body(
    arr(obj({"id": STR}, ["id"], additionalProperties=True), description="At most ingest.max_batch_events entries (413 batch_too_large); "
        "each entry is stored whole, id included; entries without a valid id are reported as rejected"),
)
FEATURE_BATCH_BODY = json_body(
    obj(
        {
            "entity": {"type": "string", "enum": ["user", "item"]},
            "ids": arr(STR, maxItems=1000, description="At most 1000 ids (413 batch_too_large); non-string entries are ignored"),
            "features": arr(STR, description="The features to read (default: every feature of the entity)"),
        },
        ["entity", "ids"],
    ),
    "At most 1 MiB",
)
TRAINING_RUN_BODY = json_body(
    obj(
        {
            "model": {"type": "string", "description": "A model of strata.yaml to train (used when none of resume, search, reranker, reproduce is given)"},
            "snapshot": {"type": "string", "default": "latest", "description": "The lake snapshot to train on (model, search, reranker)"},
            "experiment": {"type": "string", "description": "An experiment name recorded on the run (model)"},
            "resume": {"type": "string", "description": "Resume this run from its last checkpoint"},
            "search": {"type": "string", "description": "Run the hyperparameter search strata.yaml defines for this model"},
            "reranker": {"type": "boolean", "description": "true: train the reranker of strata.yaml"},
            "reproduce": {"type": "string", "description": "Retrain the run behind this model version (NAME@V) and compare"},
        },
        description="One of: {\"resume\": RUN}, {\"search\": MODEL}, {\"reranker\": true}, {\"reproduce\": \"NAME@V\"} "
        "or {\"model\": MODEL, \"snapshot\": \"latest\", \"experiment\": ...}, checked in that order. At most 64 KiB.",
    ),
)
RETRAIN_BODY = json_body(
    obj(
        {"models": arr(STR, description="The models to retrain (default: all)"), "reason": {"type": "string", "default": "requested"}},
        description="Optional; a body that is not JSON is ignored",
    ),
    required=False,
)
FORGET_BODY = json_body(obj({"user_id": {"type": "string", "minLength": 1, "maxLength": 256}}, ["user_id"]), "At most 4 KiB")
APPROVE_BODY = json_body(obj({"reason": {"type": "string", "description": "Why (required by the registry: 400 reason_required when blank)"}}), "At most 64 KiB")
KEY_BODY = json_body(
    obj(
        {"name": STR, "roles": arr({"type": "string", "enum": ROLES}, minItems=1, description="Unknown role names are ignored; at least one known role")},
        ["name", "roles"],
    ),
    "At most 64 KiB",
)
VARIANT_MODEL = {"type": "string", "description": "NAME@VERSION, NAME@production, or NAME (its production version)"}
DEPLOYMENT_BODY = json_body(
    obj(
        {
            "variants": arr(ref("Variant"), minItems=1),
            "shadow": obj(
                {"name": {"type": "string", "default": "shadow"}, "model": VARIANT_MODEL, "weight": {"type": "number", "default": 0}},
                ["model"],
                nullable=True,
                description="A model scored on a share of requests without being served (null: none)",
            ),
            "salt": {"type": "string", "description": "Salt of the user-to-variant assignment"},
        },
        ["variants"],
    ),
    "At most 64 KiB",
)
CANARY_BODY = json_body(
    obj(
        {
            "model": VARIANT_MODEL,
            "steps": arr(NUM, default=[5, 25, 50, 100], description="Traffic percentages of the ramp"),
            "interval": {"type": "string", "default": "10m", "description": "Time per step: a duration such as 30s, 10m or 1h (400 invalid_interval)"},
        },
        ["model"],
    ),
    "At most 64 KiB",
)

# --- responses ------------------------------------------------------------------------------


def ok(description, schema=OBJ, media="application/json", status="200", headers=None):
    response = {"description": description, "content": {media: {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return {status: response}


INGEST_RESULT = obj(
    {
        "accepted": INT,
        "duplicates": INT,
        "rejected": arr(obj({"index": INT, "field": STR, "code": STR, "message": STR})),
        "first_offset": INT,
        "last_offset": INT,
    },
    ["accepted", "duplicates", "rejected"],
)

# --- what the document adds to each operation of routes.json -----------------------------------
# (method, path, parameters, requestBody, responses, error statuses)

OPERATIONS = [
    ("get", "/healthz", [], None,
     ok("Alive", obj({"status": {"type": "string", "enum": ["ok"]}, "version": STR})), ""),
    ("get", "/readyz", [], None,
     {**ok("Ready", obj({"status": {"type": "string", "enum": ["ready"]}})),
      **ok("Not ready (starting or shutting down)", obj({"status": {"type": "string", "enum": ["not_ready"]}}), status="503",
           headers={"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}})}, ""),
    ("get", "/metrics", [], None,
     ok("The metrics", STR, "text/plain"), ""),
    ("get", "/", [], None,
     ok("The page", STR, "text/html"), ""),
    ("get", "/dashboard.js", [], None,
     ok("The script (served as text/javascript)", STR, "application/javascript"), ""),
    ("get", "/openapi.json", [], None,
     ok("The OpenAPI 3.0.3 document"), ""),
    ("post", "/v1/events", [], EVENTS_BODY,
     {**ok("A single event accepted (or acknowledged as a duplicate)", INGEST_RESULT, status="202"),
      **ok("A batch: accepted, duplicates and per-event rejections", INGEST_RESULT)}, "400 413 415 503 507"),
    *[
        row
        for kind, plural in [("item", "items"), ("user", "users")]
        for row in [
            ("put", f"/v1/{plural}/{{id}}", [], CATALOG_PUT_BODY,
             ok(f"The stored {kind}"), "400 413 503 507"),
            ("post", f"/v1/{plural}", [], CATALOG_POST_BODY,
             ok("Accepted, duplicates and per-entry rejections", INGEST_RESULT), "400 413 503 507"),
            ("get", f"/v1/{plural}/{{id}}", [], None,
             ok(f"The {kind}"), "404"),
            ("delete", f"/v1/{plural}/{{id}}", [], None,
             ok("Deleted", obj({"id": STR, "deleted": BOOL})), "404 503 507"),
        ]
    ],
    ("get", "/v1/lake", [], None,
     ok("The status"), ""),
    ("post", "/v1/lake/compact", [], None,
     ok("The compaction", obj({"segments": INT, "files": arr(OBJ), "compacted_through": INT})), ""),
    ("post", "/v1/lake/forget", [], FORGET_BODY,
     ok("What was removed and what still holds the user's events", obj({
         "user_sha256": STR, "through_offset": INT, "removed_events": INT, "rewritten_files": arr(OBJ),
         "affected_snapshots": arr(STR), "affected_model_versions": arr(STR)})), "400 413"),
    ("get", "/v1/lake/snapshots", [], None,
     ok("The snapshots", obj({"snapshots": arr(OBJ)})), ""),
    ("post", "/v1/lake/snapshots", [], None,
     ok("The new snapshot's manifest", status="201"), ""),
    ("get", "/v1/lake/snapshots/{version}", [], None,
     ok("The manifest", obj({"version": STR, "rows": INT})), "400 404"),
    ("get", "/v1/lake/dead-letters", [qint("from", 0, None, 0, "First dead letter to list"), qint("limit", 1, 1000, 100, "How many")], None,
     ok("The dead letters", obj({"total": INT, "dead_letters": arr(OBJ)})), "400 404"),
    ("get", "/v1/contract", [], None,
     ok("The contract", obj({"version": STR, "contract": OBJ})), ""),
    ("get", "/v1/contract/export", [q("format", {"type": "string", "enum": ["avro", "proto", "json-schema"], "default": "json-schema"}, "Schema language (400 invalid_parameter otherwise)")], None,
     {"200": {"description": "The schema: JSON for avro and json-schema, text for proto",
              "content": {"application/json": {"schema": OBJ}, "text/plain": {"schema": STR}}}}, "400"),
    ("get", "/v1/evaluation", [], None,
     ok("The report"), "404"),
    ("get", "/v1/features", [], None,
     ok("The status", obj({"definitions": arr(OBJ)})), ""),
    ("get", "/v1/features/{entity}/{id}", [q("features", CSV, "The features to read, comma-separated (default: every feature of the entity)")], None,
     ok("The values", ref("FeatureValues")), "400 404"),
    ("post", "/v1/features/batch", [], FEATURE_BATCH_BODY,
     ok("One result per id", obj({"results": arr(ref("FeatureValues"))})), "400 404 413"),
    ("post", "/v1/features/check-skew", [qint("samples", 1, 100000, 1000, "Entities to sample"),
      q("mode", {"type": "string", "enum": ["live"]}, "live: the running store's values now against a batch recomputation; "
        "otherwise the check runs on the latest snapshot")], None,
     ok("The skew report (with data_version unless live)"), "400 404"),
    ("post", "/v1/training/runs", [], TRAINING_RUN_BODY,
     ok("The run(s) and the registered version", status="201"), "400 404 409 413"),
    ("get", "/v1/training/runs", [q("model", STR, "Only this model's runs"), qint("limit", 1, 1000, 100, "How many")], None,
     ok("The runs", obj({"runs": arr(OBJ)})), "400"),
    ("get", "/v1/training/runs/{id}", [], None,
     ok("The run", obj({"iterations": arr(obj({"step": INT, "name": STR, "value": NUM}))})), "400 404"),
    ("post", "/v1/training/retrain", [], RETRAIN_BODY,
     ok("The outcome per model", obj({"results": arr(OBJ)}), status="201"), ""),
    ("get", "/v1/models", [q("model", STR, "Only this model's versions")], None,
     ok("The versions", obj({"versions": arr(OBJ)})), ""),
    ("get", "/v1/models/{ref}", [], None,
     ok("The version", obj({"approvals": arr(OBJ), "run": OBJ})), "404"),
    ("get", "/v1/models/{ref}/artifact", [], None,
     ok("The artifact", {"type": "string", "format": "binary"}, "application/octet-stream",
        headers={"ETag": {"schema": STR, "description": "\"sha256:HASH\" of the artifact"}}), "404"),
    ("post", "/v1/models/{ref}/approve", [], APPROVE_BODY,
     ok("The approved version"), "400 404 409 413"),
    ("post", "/v1/models/{ref}/promote", [], None,
     ok("The promoted version"), "404 409"),
    ("post", "/v1/models/{ref}/rollback", [], None,
     ok("The restored version"), "404 409"),
    ("get", "/v1/audit", [q("principal", STR, "Only this principal's entries"), q("action", STR, "Only this action"),
      q("since", {"type": "string", "format": "date-time"}, "RFC 3339 time (400 invalid_time)"),
      q("until", {"type": "string", "format": "date-time"}, "RFC 3339 time (400 invalid_time)"),
      qint("limit", 1, 100000, 1000, "How many"),
      q("order", {"type": "string", "enum": ["oldest", "newest"], "default": "oldest"}, "Which entries first (400 invalid_order)")], None,
     ok("The entries", obj({"entries": arr(OBJ)})), "400"),
    ("get", "/v1/audit/verify", [], None,
     ok("The result", obj({"intact": BOOL, "entries": INT, "problem": obj({"seq": INT, "message": STR}, nullable=True)})), ""),
    ("get", "/v1/keys", [], None,
     ok("The keys", obj({"keys": arr(OBJ)})), ""),
    ("post", "/v1/keys", [], KEY_BODY,
     ok("The key record with the key", obj({"key": STR}), status="201"), "400 413"),
    ("delete", "/v1/keys/{id}", [], None,
     ok("Revoked", obj({"revoked": STR})), "404"),
    ("get", "/v1/recommendations/{user}", [N_PARAM, q("exclude", CSV, "Item ids to leave out (comma-separated)"), q("cursor", STR, "The next page's cursor from a previous answer (400 invalid_cursor)"),
      DEPLOYMENT_PARAM, *ITEM_FILTER,
      qbool("exclude_impressed", "Leave out items recently impressed to the user (default serving.exclude_impressed)"),
      q("context", {"type": "object", "additionalProperties": STR},
        "Any other query parameter (not a reserved name nor filter.*) is passed on as request context and echoed in the answer",
        style="form", explode=True)], None,
     ok("The recommendations"), "400 404 503"),
    ("get", "/v1/items/{id}/similar", [N_PARAM, DEPLOYMENT_PARAM, q("user", STR, "Leave out what this user interacted with (serving.exclude_seen) and hid"), *ITEM_FILTER], None,
     ok("The similar items"), "400 404 503"),
    ("get", "/v1/deployments", [], None,
     ok("The deployments", obj({"deployments": arr(OBJ)})), ""),
    ("get", "/v1/deployments/{name}", [], None,
     ok("The deployment"), "404"),
    ("put", "/v1/deployments/{name}", [], DEPLOYMENT_BODY,
     ok("The saved deployment"), "400 404 409 413 503"),
    ("post", "/v1/deployments/{name}/rollback", [], None,
     ok("The rollback's outcome"), "404 409"),
    ("post", "/v1/deployments/{name}/canary", [], CANARY_BODY,
     ok("The deployment with its canary", status="202"), "400 404 409 413 503"),
    ("post", "/v1/deployments/{name}/precompute", [], None,
     ok("Users written per model", obj({"users_by_model": {"type": "object", "additionalProperties": INT}})), "404 503"),
    ("get", "/v1/experiments/{name}", [], None,
     ok("The report"), "404"),
    ("get", "/v1/monitoring/drift", [], None,
     ok("Drift per deployment", obj({"deployments": arr(OBJ)})), ""),
    ("get", "/v1/monitoring/quality", [], None,
     ok("The quality report"), ""),
    ("get", "/v1/monitoring/alerts", [], None,
     ok("The alerts", obj({"alerts": arr(OBJ)})), ""),
]

SCHEMAS = {
    "Error": obj(
        {
            "error": obj(
                {"code": {"type": "string", "description": "Stable machine-readable code"}, "message": STR,
                 "field": {"type": "string", "description": "The offending field or parameter, when there is one"}},
                ["code", "message"],
                closed=True,
            )
        },
        ["error"],
        description="Every error's body. A single event rejected by POST /v1/events also carries the ingest result's fields.",
    ),
    "Event": obj(
        {
            "type": {"type": "string", "description": "An event type of the contract"},
            "event_id": {"type": "string", "description": "Retries with the same id within ingest.dedupe_window are stored once"},
            "user_id": STR,
            "item_id": STR,
            "timestamp": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "integer", "format": "int64"}],
                          "description": "RFC 3339 text or epoch milliseconds"},
        },
        ["type"],
        additionalProperties=True,
        description="An event; the contract defines each type's other fields",
    ),
    "Variant": obj(
        {"name": STR, "model": VARIANT_MODEL, "weight": {"type": "number", "default": 100}},
        ["name", "model"],
    ),
    "FeatureValues": obj(
        {"entity": {"type": "string", "enum": ["user", "item"]}, "id": STR, "found": BOOL, "values": OBJ,
         "defaults": arr(STR, description="Features answered by their default")},
    ),
}


def operation(route, parameters=(), body=None, responses=None, errors=""):
    path, role = route["path"], route["role"]
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"},
         "description": PATH_DESCRIPTIONS.get((path, name), PATH_PARAMS[name])}
        for name in re.findall(r"{(\w+)}", path)
    ]
    codes = set(errors.split())
    if role is not None:
        codes |= {"401", "403", "429"}
        if route["forwarded"]:
            codes.add("503")
    all_responses = dict(responses or {"200": {"description": "OK"}})
    for code in sorted(codes):
        if code not in all_responses:
            all_responses[code] = {"$ref": "#/components/responses/Error"}
    op = {
        "operationId": route["operation_id"],
        "summary": route["summary"],
        "tags": [path.split("/")[2] if path.startswith("/v1/") else "server"],
        "x-strata-role": role,
        "parameters": params + list(parameters),
        "responses": all_responses,
        "security": [] if role is None else [{"bearerAuth": []}],
    }
    if body is not None:
        op["requestBody"] = body
    return op


def routes():
    with open(os.path.join(RESOURCES, "routes.json")) as file:
        return json.load(file)


def document():
    details = {}
    for row in OPERATIONS:
        key = (row[0].upper(), row[1])
        assert key not in details, f"{key} has two rows"
        details[key] = row[2:]
    paths = {}
    declared = set()
    for route in routes():
        key = (route["method"], route["path"])
        assert key not in declared, f"{key} is declared twice in routes.json"
        assert route["role"] is None or route["role"] in ROLES, route["role"]
        declared.add(key)
        paths.setdefault(route["path"], {})[route["method"].lower()] = operation(route, *details.get(key, ()))
    undeclared = sorted(set(details) - declared)
    assert not undeclared, f"documented here but not declared in routes.json: {undeclared}"
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Strata API",
            "version": "0.1.0",
            "description": "Strata's HTTP API. Keys are sent as Authorization: Bearer strata_... (or X-API-Key); x-strata-role is the "
            "role each operation needs (null: public); admin may do everything. Errors are JSON: "
            "{\"error\": {\"code\", \"message\", \"field\"}}.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "An API key: strata_..."}},
            "schemas": SCHEMAS,
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": {"application/json": {"schema": ref("Error")}},
                    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait (429, 503 and 507)"}},
                },
            },
        },
    }


def main():
    target = os.path.join(RESOURCES, "openapi.json")
    text = json.dumps(document(), indent=2, sort_keys=True) + "\n"
    if "--check" in sys.argv:
        with open(target) as file:
            if file.read() != text:
                print(f"{target} is out of date with routes.json: run scripts/openapi.py", file=sys.stderr)
                return 1
        print(f"{os.path.relpath(target, ROOT)} is up to date with routes.json")
        return 0
    with open(target, "w") as file:
        file.write(text)
    print(f"wrote {target}: {sum(len(item) for item in document()['paths'].values())} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
