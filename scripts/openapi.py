#!/usr/bin/env python3
"""Generates docs/openapi.json, the OpenAPI 3.0.3 description of Strata's HTTP API.

The table below (OPERATIONS) holds every route that StrataHTTPServer.router() registers, one
row per method and path, with the role RoutePolicy.match gives it (None: public), the query
parameters and body its handler reads, its success responses and the error statuses it can
answer. 401, 403 and 429 are added to every operation that needs a key, and 503 to every path
an API replica forwards to the worker (WorkerForwarding.forwardedPrefixes).

Run from anywhere: python3 scripts/openapi.py
"""

import json
import os
import re

ROLES = ["admin", "ingest", "serve", "scientist", "approver"]
# WorkerForwarding.forwardedPrefixes: on an API replica these answer 503 worker_unavailable
# when no worker takes the request.
FORWARDED = ["/v1/events", "/v1/lake", "/v1/features", "/v1/training", "/v1/monitoring", "/v1/evaluation", "/v1/experiments"]

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

# --- the operations -------------------------------------------------------------------------
# (method, path, role, operationId, summary, parameters, requestBody, responses, error statuses)

OPERATIONS = [
    # Health, metrics, the dashboard and this document: public.
    ("get", "/healthz", None, "getHealth", "Liveness: the process is alive", [], None,
     ok("Alive", obj({"status": {"type": "string", "enum": ["ok"]}, "version": STR})), ""),
    ("get", "/readyz", None, "getReadiness", "Readiness: 503 while starting or draining", [], None,
     {**ok("Ready", obj({"status": {"type": "string", "enum": ["ready"]}})),
      **ok("Not ready (starting or shutting down)", obj({"status": {"type": "string", "enum": ["not_ready"]}}), status="503",
           headers={"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}})}, ""),
    ("get", "/metrics", None, "getMetrics", "Prometheus metrics (text exposition format 0.0.4)", [], None,
     ok("The metrics", STR, "text/plain"), ""),
    ("get", "/", None, "getDashboard", "The dashboard page", [], None, ok("The page", STR, "text/html"), ""),
    ("get", "/dashboard.js", None, "getDashboardScript", "The dashboard's script", [], None,
     ok("The script (served as text/javascript)", STR, "application/javascript"), ""),
    ("get", "/openapi.json", None, "getOpenAPI", "This OpenAPI document", [], None, ok("The OpenAPI 3.0.3 document"), ""),
    # Ingestion and the catalogs.
    ("post", "/v1/events", "ingest", "ingestEvents", "Ingest one event or a batch", [], EVENTS_BODY,
     {**ok("A single event accepted (or acknowledged as a duplicate)", INGEST_RESULT, status="202"),
      **ok("A batch: accepted, duplicates and per-event rejections", INGEST_RESULT)}, "400 413 415 503 507"),
    *[
        row
        for kind, plural in [("item", "items"), ("user", "users")]
        for cap in [kind.capitalize()]
        for row in [
            ("put", f"/v1/{plural}/{{id}}", "ingest", f"put{cap}", f"Upsert one {kind} (the whole entry)", [], CATALOG_PUT_BODY,
             ok(f"The stored {kind}"), "400 413 503 507"),
            ("post", f"/v1/{plural}", "ingest", f"upsert{cap}s", f"Upsert a batch of {kind}s", [], CATALOG_POST_BODY,
             ok("Accepted, duplicates and per-entry rejections", INGEST_RESULT), "400 413 503 507"),
            ("get", f"/v1/{plural}/{{id}}", "serve", f"get{cap}", f"Read one {kind} of the catalog", [], None, ok(f"The {kind}"), "404"),
            ("delete", f"/v1/{plural}/{{id}}", "ingest", f"delete{cap}", f"Delete one {kind} (stores a deleted change)", [], None,
             ok("Deleted", obj({"id": STR, "deleted": BOOL})), "404 503 507"),
        ]
    ],
    # The lake.
    ("get", "/v1/lake", "scientist", "getLake", "Layer 1 status: log, lake, consumers", [], None, ok("The status"), ""),
    ("post", "/v1/lake/compact", "admin", "compactLake", "Compact the log into the lake now", [], None,
     ok("The compaction", obj({"segments": INT, "files": arr(OBJ), "compacted_through": INT})), ""),
    ("post", "/v1/lake/forget", "admin", "forgetUser",
     "Forget a user: their events leave the lake's current files (and every later snapshot), the catalog, the online features "
     "and the cached recommendations; immutable snapshots and model versions that still hold them are listed. Audited by user hash.",
     [], FORGET_BODY,
     ok("What was removed and what still holds the user's events", obj({
         "user_sha256": STR, "through_offset": INT, "removed_events": INT, "rewritten_files": arr(OBJ),
         "affected_snapshots": arr(STR), "affected_model_versions": arr(STR)})), "400 413"),
    ("get", "/v1/lake/snapshots", "scientist", "listSnapshots", "List the lake's snapshots", [], None,
     ok("The snapshots", obj({"snapshots": arr(OBJ)})), ""),
    ("post", "/v1/lake/snapshots", "scientist", "createSnapshot", "Snapshot the lake now", [], None,
     ok("The new snapshot's manifest", status="201"), ""),
    ("get", "/v1/lake/snapshots/{version}", "scientist", "getSnapshot", "One snapshot's manifest", [], None,
     ok("The manifest", obj({"version": STR, "rows": INT})), "400 404"),
    ("get", "/v1/lake/dead-letters", "scientist", "listDeadLetters", "Rejected events with their reasons",
     [qint("from", 0, None, 0, "First dead letter to list"), qint("limit", 1, 1000, 100, "How many")], None,
     ok("The dead letters", obj({"total": INT, "dead_letters": arr(OBJ)})), "400 404"),
    # The contract and the evaluation.
    ("get", "/v1/contract", "scientist", "getContract", "The contract and its version", [], None,
     ok("The contract", obj({"version": STR, "contract": OBJ})), ""),
    ("get", "/v1/contract/export", "scientist", "exportContract", "The contract as a schema for producers",
     [q("format", {"type": "string", "enum": ["avro", "proto", "json-schema"], "default": "json-schema"}, "Schema language (400 invalid_parameter otherwise)")], None,
     {"200": {"description": "The schema: JSON for avro and json-schema, text for proto",
              "content": {"application/json": {"schema": OBJ}, "text/plain": {"schema": STR}}}}, "400"),
    ("get", "/v1/evaluation", "scientist", "getEvaluation", "The latest offline evaluation (404 until one has run)", [], None,
     ok("The report"), "404"),
    # Features.
    ("get", "/v1/features", "serve", "getFeatures", "Feature definitions, progress, freshness and skew samples", [], None,
     ok("The status", obj({"definitions": arr(OBJ)})), ""),
    ("get", "/v1/features/{entity}/{id}", "serve", "getEntityFeatures", "One entity's features now",
     [q("features", CSV, "The features to read, comma-separated (default: every feature of the entity)")], None,
     ok("The values", ref("FeatureValues")), "400 404"),
    ("post", "/v1/features/batch", "serve", "getFeaturesBatch", "Many entities' features", [], FEATURE_BATCH_BODY,
     ok("One result per id", obj({"results": arr(ref("FeatureValues"))})), "400 404 413"),
    ("post", "/v1/features/check-skew", "scientist", "checkFeatureSkew", "The training/serving skew check",
     [qint("samples", 1, 100000, 1000, "Entities to sample"),
      q("mode", {"type": "string", "enum": ["live"]}, "live: the running store's values now against a batch recomputation; "
        "otherwise the check runs on the latest snapshot")], None,
     ok("The skew report (with data_version unless live)"), "400 404"),
    # Training, the registry, the audit log and keys.
    ("post", "/v1/training/runs", "scientist", "startTrainingRun", "Train, resume, search, train the reranker or reproduce", [], TRAINING_RUN_BODY,
     ok("The run(s) and the registered version", status="201"), "400 404 409 413"),
    ("get", "/v1/training/runs", "scientist", "listTrainingRuns", "List training runs",
     [q("model", STR, "Only this model's runs"), qint("limit", 1, 1000, 100, "How many")], None,
     ok("The runs", obj({"runs": arr(OBJ)})), "400"),
    ("get", "/v1/training/runs/{id}", "scientist", "getTrainingRun", "One run with its per-iteration metrics", [], None,
     ok("The run", obj({"iterations": arr(obj({"step": INT, "name": STR, "value": NUM}))})), "400 404"),
    ("post", "/v1/training/retrain", "scientist", "retrain", "Snapshot the lake now and retrain (what the schedule does)", [], RETRAIN_BODY,
     ok("The outcome per model", obj({"results": arr(OBJ)}), status="201"), ""),
    ("get", "/v1/models", "scientist", "listModelVersions", "List model versions",
     [q("model", STR, "Only this model's versions")], None, ok("The versions", obj({"versions": arr(OBJ)})), ""),
    ("get", "/v1/models/{ref}", "scientist", "getModelVersion", "One model version with its approvals and run", [], None,
     ok("The version", obj({"approvals": arr(OBJ), "run": OBJ})), "404"),
    ("get", "/v1/models/{ref}/artifact", "scientist", "getModelArtifact", "A model version's artifact bytes", [], None,
     ok("The artifact", {"type": "string", "format": "binary"}, "application/octet-stream",
        headers={"ETag": {"schema": STR, "description": "\"sha256:HASH\" of the artifact"}}), "404"),
    ("post", "/v1/models/{ref}/approve", "approver", "approveModelVersion", "Approve a candidate version", [], APPROVE_BODY,
     ok("The approved version"), "400 404 409 413"),
    ("post", "/v1/models/{ref}/promote", "approver", "promoteModelVersion", "Make an approved version production", [], None,
     ok("The promoted version"), "404 409"),
    ("post", "/v1/models/{ref}/rollback", "approver", "rollbackModel", "Put a model's previous production version back", [], None,
     ok("The restored version"), "404 409"),
    ("get", "/v1/audit", "admin", "listAudit", "The audit log",
     [q("principal", STR, "Only this principal's entries"), q("action", STR, "Only this action"),
      q("since", {"type": "string", "format": "date-time"}, "RFC 3339 time (400 invalid_time)"),
      q("until", {"type": "string", "format": "date-time"}, "RFC 3339 time (400 invalid_time)"),
      qint("limit", 1, 100000, 1000, "How many"),
      q("order", {"type": "string", "enum": ["oldest", "newest"], "default": "oldest"}, "Which entries first (400 invalid_order)")], None,
     ok("The entries", obj({"entries": arr(OBJ)})), "400"),
    ("get", "/v1/audit/verify", "admin", "verifyAudit", "Verify the audit log's hash chain", [], None,
     ok("The result", obj({"intact": BOOL, "entries": INT, "problem": obj({"seq": INT, "message": STR}, nullable=True)})), ""),
    ("get", "/v1/keys", "admin", "listKeys", "List API keys", [], None, ok("The keys", obj({"keys": arr(OBJ)})), ""),
    ("post", "/v1/keys", "admin", "createKey", "Create an API key (its secret is shown once)", [], KEY_BODY,
     ok("The key record with the key", obj({"key": STR}), status="201"), "400 413"),
    ("delete", "/v1/keys/{id}", "admin", "revokeKey", "Revoke an API key", [], None, ok("Revoked", obj({"revoked": STR})), "404"),
    # Serving.
    ("get", "/v1/recommendations/{user}", "serve", "getRecommendations", "Recommendations for a user",
     [N_PARAM, q("exclude", CSV, "Item ids to leave out (comma-separated)"), q("cursor", STR, "The next page's cursor from a previous answer (400 invalid_cursor)"),
      DEPLOYMENT_PARAM, *ITEM_FILTER,
      qbool("exclude_impressed", "Leave out items recently impressed to the user (default serving.exclude_impressed)"),
      q("context", {"type": "object", "additionalProperties": STR},
        "Any other query parameter (not a reserved name nor filter.*) is passed on as request context and echoed in the answer",
        style="form", explode=True)], None,
     ok("The recommendations"), "400 404 503"),
    ("get", "/v1/items/{id}/similar", "serve", "getSimilarItems", "Items similar to an item (the deployment's control model)",
     [N_PARAM, DEPLOYMENT_PARAM, q("user", STR, "Leave out what this user interacted with (serving.exclude_seen) and hid"), *ITEM_FILTER],
     None, ok("The similar items"), "400 404 503"),
    ("get", "/v1/deployments", "scientist", "listDeployments", "List deployments", [], None,
     ok("The deployments", obj({"deployments": arr(OBJ)})), ""),
    ("get", "/v1/deployments/{name}", "scientist", "getDeployment",
     "One deployment: variants, loaded models, cache, statistics, shadow, canary, history", [], None, ok("The deployment"), "404"),
    ("put", "/v1/deployments/{name}", "approver", "updateDeployment", "Set a deployment's variants (an A/B test), shadow and salt", [], DEPLOYMENT_BODY,
     ok("The saved deployment"), "400 404 409 413 503"),
    ("post", "/v1/deployments/{name}/rollback", "approver", "rollbackDeployment", "Roll a deployment back", [], None,
     ok("The rollback's outcome"), "404 409"),
    ("post", "/v1/deployments/{name}/canary", "approver", "startCanary", "Ramp a model into a deployment step by step", [], CANARY_BODY,
     ok("The deployment with its canary", status="202"), "400 404 409 413 503"),
    ("post", "/v1/deployments/{name}/precompute", "scientist", "precomputeDeployment", "Run the batch job that fills the recommendation cache now",
     [], None, ok("Users written per model", obj({"users_by_model": {"type": "object", "additionalProperties": INT}})), "404 503"),
    ("get", "/v1/experiments/{name}", "scientist", "getExperiment", "A deployment's A/B test report", [], None, ok("The report"), "404"),
    # Monitoring.
    ("get", "/v1/monitoring/drift", "scientist", "getDrift", "Drift of each deployment's control model against its training baseline", [], None,
     ok("Drift per deployment", obj({"deployments": arr(OBJ)})), ""),
    ("get", "/v1/monitoring/quality", "scientist", "getQuality", "CTR and conversion per variant against its own history", [], None,
     ok("The quality report"), ""),
    ("get", "/v1/monitoring/alerts", "scientist", "getAlerts", "Alert states", [], None, ok("The alerts", obj({"alerts": arr(OBJ)})), ""),
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


def operation(method, path, role, op_id, summary, parameters, body, responses, errors):
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"},
         "description": PATH_DESCRIPTIONS.get((path, name), PATH_PARAMS[name])}
        for name in re.findall(r"{(\w+)}", path)
    ]
    codes = set(errors.split())
    if role is not None:
        codes |= {"401", "403", "429"}
        if any(path == prefix or path.startswith(prefix + "/") for prefix in FORWARDED):
            codes.add("503")
    all_responses = dict(responses)
    for code in sorted(codes):
        if code not in all_responses:
            all_responses[code] = {"$ref": "#/components/responses/Error"}
    op = {
        "operationId": op_id,
        "summary": summary,
        "tags": [path.split("/")[2] if path.startswith("/v1/") else "server"],
        "x-strata-role": role,
        "parameters": params + list(parameters),
        "responses": all_responses,
        "security": [] if role is None else [{"bearerAuth": []}],
    }
    if body is not None:
        op["requestBody"] = body
    return op


def document():
    paths = {}
    seen = set()
    for row in OPERATIONS:
        method, path, role = row[0], row[1], row[2]
        assert (method, path) not in seen, (method, path)
        assert role is None or role in ROLES, role
        seen.add((method, path))
        paths.setdefault(path, {})[method] = operation(*row)
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
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    target = os.path.join(root, "docs", "openapi.json")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as file:
        json.dump(document(), file, indent=2, sort_keys=True)
        file.write("\n")
    print(f"wrote {target}: {len(OPERATIONS)} operations")


if __name__ == "__main__":
    main()
