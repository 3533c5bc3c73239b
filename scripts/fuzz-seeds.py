#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus under Fuzz/corpus/ (committed; run again after a format change).

events/   request bodies for `strata-fuzz events`: the first byte picks the format
          (0 JSON, 1 NDJSON, 2 Protobuf), the rest is the body.
contract/ strata.yaml files for `strata-fuzz contract`.
parquet/  small Parquet files for `strata-fuzz parquet`: Strata's lake shape and other writers'
          encodings and codecs (needs pyarrow, installed by install-deps.sh --with-test-peers).
"""
import io
import json
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CORPUS = os.path.join(ROOT, "Fuzz", "corpus")
JSON, NDJSON, PROTOBUF = 0, 1, 2


def write(folder, name, data):
    os.makedirs(os.path.join(CORPUS, folder), exist_ok=True)
    with open(os.path.join(CORPUS, folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def body(fmt, text):
    return bytes([fmt]) + (text if isinstance(text, bytes) else text.encode())


# --- events ------------------------------------------------------------------------------------
view = {"type": "view", "user_id": "u1", "timestamp": "2026-11-29T10:00:00Z", "item_id": "i1", "page": "product"}
purchase = {"type": "purchase", "user_id": "u2", "timestamp": 1764410400000, "event_id": "e-1", "item_id": "i9",
            "order_id": "o1", "price": 12.5, "quantity": 2, "currency": "EUR"}
bad = {"type": "click", "user_id": "", "timestamp": "yesterday", "position": -1, "extra": [1, {"a": None}]}
write("events", "json-one", body(JSON, json.dumps(view)))
write("events", "json-array", body(JSON, json.dumps([view, purchase, bad])))
write("events", "json-unicode", body(JSON, '{"type":"view","user_id":"\\u00e9\\ud83d\\ude00","timestamp":"2026-11-29T10:00:00.123+01:00","item_id":"caf\u00e9"}'))
write("events", "ndjson-mixed", body(NDJSON, "\n".join(json.dumps(e) for e in [view, purchase, bad]) + "\n\n  \r\n{not json\n"))
write("events", "ndjson-catalog", body(NDJSON, json.dumps({"type": "rate", "user_id": "u3", "timestamp": 1764410400000, "item_id": "i2", "rating": 4.5})))


def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number, wire, payload):
    key = varint(number << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    if wire == 1:
        return key + payload
    return key + varint(len(payload)) + payload


def text(number, s):
    return field(number, 2, s.encode())


def value(kind, v):
    if kind == "string":
        return text(1, v)
    if kind == "int":
        return field(2, 0, v)
    if kind == "double":
        return field(3, 1, struct.pack("<d", v))
    return field(6, 2, b"".join(text(1, s) for s in v))


def pb_event(type_, user, ts, fields):
    entries = b"".join(field(6, 2, text(1, k) + field(2, 2, value(kind, v))) for k, (kind, v) in fields.items())
    return text(1, type_) + text(3, user) + field(4, 0, ts) + entries


batch = field(1, 0, 1) + field(2, 2, pb_event("view", "u1", 1764410400000, {"item_id": ("string", "i1")})) + field(
    2, 2, pb_event("purchase", "u2", 1764410400000, {"item_id": ("string", "i2"), "order_id": ("string", "o"),
                                                     "price": ("double", 3.25), "quantity": ("int", 1)}))
write("events", "protobuf-batch", body(PROTOBUF, batch))

# --- contract ----------------------------------------------------------------------------------
with open(os.path.join(ROOT, "examples", "strata.yaml"), "rb") as f:
    write("contract", "example-strata.yaml", f.read())
write("contract", "minimal.yaml", "project: p\nevents:\n  view:\n    fields:\n      item_id: { type: string, required: true }\n")
write("contract", "features.yaml", """project: shop
events:
  click:
    fields:
      item_id: { type: string, required: true, max_length: 64 }
      price: { type: double, min: 0, max: 1e6 }
      tags: { type: string_list, max_items: 4 }
entities:
  item:
    properties: { category: string, price: { type: double, min: 0 } }
features:
  user_clicks_1h: { entity: user, source: [click], aggregation: count, window: 1h, freshness: 5m }
  user_spend_7d: { entity: user, source: [click], filter: "price > 0", aggregation: sum, field: price, window: 7d, default: 0 }
  item_clicks_7d: { entity: item, source: [click], aggregation: count, window: 7d, bucket: 1h }
  item_last: { entity: item, source: [click], aggregation: last, field: user_id, window: lifetime }
  item_ratio: { entity: item, aggregation: ratio, numerator: item_clicks_7d, denominator: item_clicks_7d }
""")
write("contract", "settings.yaml", """project: demo
server: { port: 8080, rate_limit: { per_key: 100, burst: 20 }, idle_timeout: 30s }
ingest: { max_batch_events: 1000, dedupe_window: 1h }
validation: { unknown_fields: keep, max_lateness: 7d }
events:
  view: { fields: { item_id: string, page: { type: string, values: [a, "b c", "\u00e9"] } } }
models:
  als: { algorithm: als, factors: 16, iterations: 5, regularization: 0.05, seed: 1 }
""")

# --- parquet -----------------------------------------------------------------------------------
try:
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError:
    sys.exit("pyarrow is needed for the Parquet seeds: scripts/install-deps.sh --with-test-peers")

table = pa.table({
    "event_id": pa.array(["a", None, "c", "d"], pa.string()),
    "user_id": pa.array(["u1", "u2", "u1", "u3"]),
    "timestamp": pa.array([1764410400000, 1764410401000, None, 1764410403000], pa.timestamp("ms", tz="UTC")),
    "count": pa.array([1, 2, 3, None], pa.int64()),
    "small": pa.array([1, -2, 3, 4], pa.int32()),
    "price": pa.array([1.5, None, 2.25, 0.0], pa.float64()),
    "ratio": pa.array([0.5, 1.0, None, 2.0], pa.float32()),
    "flag": pa.array([True, False, None, True]),
    "tags": pa.array([["x", "y"], [], None, ["z"]], pa.list_(pa.string())),
    "blob": pa.array([b"\x00\x01", b"", None, b"\xff"], pa.binary()),
})
variants = {
    "plain-none": dict(compression="NONE", use_dictionary=False),
    "dict-snappy": dict(compression="SNAPPY", use_dictionary=True),
    "zstd-v2": dict(compression="ZSTD", data_page_version="2.0"),
    "gzip": dict(compression="GZIP"),
    "delta": dict(compression="NONE", use_dictionary=False,
                  column_encoding={"count": "DELTA_BINARY_PACKED", "small": "DELTA_BINARY_PACKED", "user_id": "DELTA_BYTE_ARRAY",
                                   "event_id": "DELTA_LENGTH_BYTE_ARRAY", "price": "BYTE_STREAM_SPLIT"}),
    "two-row-groups": dict(compression="SNAPPY", row_group_size=2),
}
for name, options in variants.items():
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)
    write("parquet", name + ".parquet", buffer.getvalue())
print("seed corpus written to", CORPUS)
