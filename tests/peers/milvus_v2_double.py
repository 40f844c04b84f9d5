#!/usr/bin/python3
"""milvus_v2_double.py - an in-memory Milvus that speaks only the RESTful v2
API (/v2/vectordb/...), built from Milvus's own documentation, for the
milvus-v2 suite (tests/unit/test_milvus_v2.c). The Milvus the tests can
install (2.3.5) serves REST v1 only; this double is what the client's v2
dialect is checked against.

    milvus_v2_double.py PORTFILE [TOKEN]

It listens on a free 127.0.0.1 port and writes "PORT\\n" to PORTFILE once
listening. With TOKEN, every request must carry "Authorization: Bearer
TOKEN". Each refused request is logged to PORTFILE.log (path, body, answer),
so a failing test can show what the client sent. GET /_double/state (not
Milvus's: the tests' window) answers what the double holds: collections with
the index parameters they were created with, and the requests it counted and
refused. Runs until killed. Standard library only.

Where each shape comes from
---------------------------
The API reference pages are read from milvus-io/web-content (commit
87726919a), published at https://milvus.io/api-reference/restful/<ver>/v2/...
("v2.5.x" MDX files carry the OpenAPI spec: properties, required lists,
examples; "v2.4.x" the same pages as tables with a red asterisk on the
required parameters):

  collections/list       .../v2.5.x/v2/Collection%20(v2)/List.md
                         body {dbName}; answer {"code":0,"data":["name",...]}.
                         .../v2.5.x/About.md: POST, JSON, "Authorization:
                         Bearer user:password"; dbName "_default" in its
                         example, "default" in the v2.4.x Describe example.
  collections/describe   .../v2.4.x/v2/Collection%20(v2)/Describe.md and
                         v2.5.x: body {dbName, collectionName*}; data {aliases,
                         autoId, collectionID, collectionName, consistencyLevel,
                         description, enableDynamicField, fields[{autoId,
                         description, id, name, partitionKey, primaryKey, type,
                         params[{key, value (a string)}]}], indexes[{fieldName,
                         indexName, metricType}], load, partitionsNum,
                         properties, shardsNum}. "type" is "Int64",
                         "FloatVector"...; dim is params {"key":"dim",
                         "value":"5"} (max_length likewise).
  collections/create     .../v2.5.x/v2/Collection%20(v2)/Create.md (+ v2.4.x):
                         {dbName, collectionName*, dimension, metricType,
                         idType, autoID, primaryFieldName, vectorFieldName,
                         schema{autoID, enableDynamicField, fields*[{fieldName*,
                         dataType*, elementDataType, isPrimary, isPartitionKey,
                         elementTypeParams{max_length, dim, max_capacity}}]},
                         indexParams[{metricType, fieldName*, indexName*,
                         params{index_type*, M, efConstruction, nlist}}],
                         params{...}}; answer {"code":0,"data":{}}. Spellings
                         the same pages' examples use are accepted too:
                         "autoId", "enabledDynamicField", "metric_type".
                         User guide (docs/v2.5.x/create-collection.md,
                         dense-vector.md, primary-field.md,
                         multi-language-analyzers.md): "indexType" beside
                         "params" in an indexParams item ("index_type" there
                         in the v2.5.x Index (v2)/Create spec), "autoID" in the
                         primary field's object, elementTypeParams values as
                         numbers or numeric strings ("dim": "5"), dataType
                         names "Int64", "VarChar", "FloatVector", "Int32",
                         "Float", "Boolean", "JSON", "Array". create-collection
                         .md: with indexParams the collection is loaded at
                         creation, without it it is not.
                         docs/v2.5.x/string.md: max_length is bytes, 1..65535.
                         docs/v2.5.x/ivf-flat.md: nlist [1, 65536], nprobe
                         [1, nlist].
  collections/load,      .../Collection%20(v2)/Load.md, Drop.md, Has.md,
  drop, has,             Release.md, Get%20Load%20State.md: {dbName,
  release,               collectionName*} (+ partitionNames for the load
  get_load_state         state); data {}, {"has": bool}, {"loadState":
                         "LoadStateLoaded", "loadProgress": 100, "message":""}.
  indexes/describe       .../Index%20(v2)/Describe.md: {dbName,
                         collectionName*, indexName*}; data [{failReason,
                         fieldName, indexName, indexState, indexType,
                         indexedRows, metricType, pendingRows, totalRows}]
                         (an array in the examples). No documented answer
                         carries nlist.
  indexes/create         .../Index%20(v2)/Create.md: {dbName, collectionName*,
                         indexParams*[...]}.
  entities/insert        .../Vector%20(v2)/Insert.md: {dbName, collectionName*,
                         data* (an object or an array of objects),
                         partitionName}; data {insertCount, insertIds}.
                         insertIds are strings unless the request has
                         "Accept-Type-Allow-Int64: true" (v3.0.x Insert page;
                         v2.5.x types them as strings). docs/v2.5.x/
                         primary-field.md: with autoID the primary key must not
                         be in the data; enable-dynamic-field.md: other keys go
                         to $meta and can be filtered and output by name.
  entities/delete        .../Vector%20(v2)/Delete.md: {dbName, collectionName*,
                         filter*, partitionName}; {"code":0,"cost":0,"data":{}}.
  entities/query         .../Vector%20(v2)/Query.md (v2.5.x): {dbName,
                         collectionName*, filter*, outputFields, partitionNames,
                         limit, offset}; data [rows]; limit + offset at most
                         16384. pymilvus v2.4.x query.md: an empty filter
                         skips filtering. docs/v2.4.x get-and-scalar-query.md:
                         "count(*)" is the only output field, answering
                         [{"count(*)": N}].
  entities/search        .../Vector%20(v2)/Search.md: {dbName, collectionName*,
                         data* (a list of vectors), annsField*, filter, limit,
                         offset, groupingField, outputFields, searchParams
                         {metricType (same as the collection's), params},
                         partitionNames, consistencyLevel}; data [{"distance":
                         ..., "id": ..., fields...}] best first ("distance": 1
                         for an exact match, as the example writes it).
                         docs/v2.5.x grouping-search.md: groupingField,
                         groupSize, strictGroupSize; limit counts groups, one
                         entity per group by default; not on JSON, FLOAT,
                         DOUBLE, ARRAY or vector fields (so not a dynamic one).
                         filtered-search.md: searchParams "hints".
                         ivf-flat.md: searchParams.params.nprobe.
  filter expressions     docs/v2.4.x/reference/boolean.md (EBNF, precedence:
                         not, comparisons, like, and/&&, or/||; "x not in
                         [...]"; chained "0 < x < 400"); docs/v2.5.x
                         boolean.md and basic-operators.md (AND/OR/NOT/IN/LIKE
                         in capitals too; LIKE with % and _);
                         keyword-match.md "Escape rules in filter
                         expressions": string constants in double or single
                         quotes, backslash escapes (\\\\, \\", \\', \\n, \\t);
                         single-vector-search.md (v2.4.x): \\% and \\_ are a
                         literal % and _ in a LIKE pattern.
  errors                 Every page: a refusal is HTTP 200 with {"code": N
                         (not 0), "message": "..."}; code 1800 "User hasn't
                         authenticated" (every page's failure example).
                         pymilvus v2.6.x MilvusException.md: 100 collection
                         not found, 700 index not found. docs FAQ
                         (operational_faq.md): 1100 with "... invalid
                         parameter" for a bad value. Routes the server does
                         not have: HTTP 404 (so a client tells 2.3, v1 only,
                         from 2.4+); here every /v1/ route is one.

Not from the docs (the double's choices where they are silent): a refusal
of a request's shape (missing or unknown keys, wrong JSON types) uses 1100
with a message naming the key; a search or query of a collection not loaded
answers 101 "collection not loaded"; a drop of a missing collection answers
100; another database 800, another partition 200, a second create of a
name 65535; auto ids are large (about 4.6e17, as in the describe example's
collectionID and the search example's ids) so that they do not fit a double.
"""
import http.server
import json
import math
import os
import re
import socketserver
import struct
import sys
import threading

MAX_WINDOW = 16384
DEFAULT_DBS = ("default", "_default")

lock = threading.Lock()
state = {
    "collections": {},      # name -> Collection
    "next_id": 460000000000000000,
    "next_coll_id": 450000000000000000,
    "requests": {},         # path -> count
    "refused": 0,
}


class Refusal(Exception):
    """A request Milvus would refuse: HTTP 200, {"code": code, "message"}."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def bad(msg):
    return Refusal(1100, f"{msg}: invalid parameter")


# ---- JSON out: float32 values written as Go writes them ---------------------

def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def f32_text(x):
    if math.isnan(x) or math.isinf(x):
        return "null"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    for p in range(6, 10):
        s = "%.*g" % (p, x)
        if f32(float(s)) == f32(x):
            return s
    return repr(x)


class F32(float):
    """A float32 value (a vector element, a distance)."""


def dumps(v):
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, F32):
        return f32_text(v)
    if isinstance(v, (int, float, str)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dumps(x)
                              for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(dumps(x) for x in v) + "]"
    raise TypeError(type(v))


# ---- request shape checking ---------------------------------------------------

def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def int_like(v):
    """An integer given as a number or a numeric string ("dim": "5")."""
    if is_int(v):
        return v
    if isinstance(v, float) and v == int(v):
        return int(v)
    if isinstance(v, str) and re.fullmatch(r"[0-9]+", v):
        return int(v)
    return None


def bool_like(v):
    """Documented as "string" in the spec, a JSON boolean in the examples."""
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return None


TYPES = {
    "string": (lambda v: isinstance(v, str), "a string"),
    "int": (is_int, "an integer"),
    "bool": (lambda v: isinstance(v, bool), "a boolean"),
    "boolish": (lambda v: bool_like(v) is not None, "a boolean"),
    "object": (lambda v: isinstance(v, dict), "an object"),
    "array": (lambda v: isinstance(v, list), "an array"),
    "strings": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
                "an array of strings"),
    "intish": (lambda v: int_like(v) is not None, "an integer"),
    "any": (lambda v: True, "anything"),
}


def check(obj, spec, where):
    """obj must be an object whose keys are in spec (name -> (type, required));
    every required key present, every value of its type."""
    if not isinstance(obj, dict):
        raise bad(f"{where} must be a JSON object")
    for k in obj:
        if k not in spec:
            raise bad(f"{where}: unknown parameter \"{k}\" (documented: "
                      f"{', '.join(sorted(spec))})")
    for k, (typ, required) in spec.items():
        if k not in obj:
            if required:
                raise bad(f"missing required parameters: {where}.{k}")
            continue
        ok, what = TYPES[typ]
        if not ok(obj[k]):
            raise bad(f"{where}.{k} must be {what}, not {json.dumps(obj[k])[:60]}")


DB = {"dbName": ("string", False)}


def check_db(body):
    db = body.get("dbName", "default")
    if db not in DEFAULT_DBS:
        raise Refusal(800, f"database not found[database={db}]")


# ---- collections ------------------------------------------------------------------

INT_RANGE = {"Int8": 8, "Int16": 16, "Int32": 32, "Int64": 64}
DATA_TYPES = {"Bool": "Bool", "Boolean": "Bool", "Int8": "Int8", "Int16": "Int16",
              "Int32": "Int32", "Int64": "Int64", "Float": "Float", "Double": "Double",
              "VarChar": "VarChar", "JSON": "JSON", "Array": "Array",
              "FloatVector": "FloatVector", "BinaryVector": "BinaryVector",
              "Float16Vector": "Float16Vector", "BFloat16Vector": "BFloat16Vector",
              "SparseFloatVector": "SparseFloatVector"}
STORED_TYPES = ("Bool", "Int8", "Int16", "Int32", "Int64", "Float", "Double", "VarChar",
                "JSON", "FloatVector")
METRICS = ("L2", "IP", "COSINE")
GROUPABLE = ("Bool", "Int8", "Int16", "Int32", "Int64", "VarChar")


class Field:
    def __init__(self, name, typ, primary=False, auto_id=False, max_length=0, dim=0,
                 partition_key=False):
        self.name, self.type, self.primary, self.auto_id = name, typ, primary, auto_id
        self.max_length, self.dim, self.partition_key = max_length, dim, partition_key


class Collection:
    def __init__(self, name, fields, dynamic):
        self.name = name
        self.fields = fields
        self.by_name = {f.name: f for f in fields}
        self.dynamic = dynamic
        self.pk = next(f for f in fields if f.primary)
        self.indexes = {}           # index name -> dict
        self.loaded = False
        self.rows = {}              # pk -> row (schema fields + "$meta")
        state["next_coll_id"] += 1
        self.id = state["next_coll_id"]

    def vector_fields(self):
        return [f for f in self.fields if f.type == "FloatVector"]

    def index_of(self, field):
        for ix in self.indexes.values():
            if ix["fieldName"] == field:
                return ix
        return None


def coll_of(body):
    check_db(body)
    name = body["collectionName"]
    c = state["collections"].get(name)
    if c is None:
        raise Refusal(100, f"collection not found[database=default][collection={name}]")
    return c


def field_from_spec(fs, schema_auto_id):
    check(fs, {"fieldName": ("string", True), "dataType": ("string", True),
               "elementDataType": ("string", False), "isPrimary": ("bool", False),
               "isPartitionKey": ("bool", False), "elementTypeParams": ("object", False),
               "autoID": ("boolish", False), "autoId": ("boolish", False),
               "nullable": ("bool", False), "defaultValue": ("any", False),
               "isClusteringKey": ("bool", False), "description": ("string", False)},
          "schema.fields[]")
    name = fs["fieldName"]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,254}", name):
        raise bad(f"field name \"{name}\" is invalid")
    typ = DATA_TYPES.get(fs["dataType"])
    if typ is None:
        raise bad(f"field {name}: data type \"{fs['dataType']}\" is not one of "
                  f"{', '.join(DATA_TYPES)}")
    if typ not in STORED_TYPES:
        raise bad(f"field {name}: data type {typ} is not supported by the double")
    if fs.get("nullable") or "defaultValue" in fs:
        raise bad(f"field {name}: nullable and default values are not supported by the double")
    params = fs.get("elementTypeParams", {})
    check(params, {"max_length": ("intish", False), "dim": ("intish", False),
                   "max_capacity": ("intish", False)}, f"field {name}.elementTypeParams")
    primary = fs.get("isPrimary", False)
    auto = fs.get("autoID", fs.get("autoId"))
    if auto is not None and not primary:
        raise bad(f"field {name}: autoID is set on a field that is not the primary key")
    auto_id = bool_like(auto) if auto is not None else schema_auto_id
    f = Field(name, typ, primary, bool(primary and auto_id),
              partition_key=fs.get("isPartitionKey", False))
    if typ == "VarChar":
        ml = int_like(params.get("max_length"))
        if ml is None:
            raise bad(f"type param(max_length) should be specified for the field({name}) "
                      "of collection")
        if not 1 <= ml <= 65535:
            raise bad(f"the maximum length specified for the field({name}) should be in "
                      f"(0, 65535], but got {ml} instead")
        f.max_length = ml
    elif "max_length" in params:
        raise bad(f"field {name}: max_length is for VarChar fields")
    if typ == "FloatVector":
        dim = int_like(params.get("dim"))
        if dim is None:
            raise bad(f"dimension is not defined in field type params of field {name}")
        if not 2 <= dim <= 32768:
            raise bad(f"invalid dimension: {dim}. should be in range 2 ~ 32768")
        f.dim = dim
    elif "dim" in params:
        raise bad(f"field {name}: dim is for vector fields")
    if primary and typ not in ("Int64", "VarChar"):
        raise bad(f"field {name}: the primary key must be Int64 or VarChar")
    return f


def index_from_spec(c, ip, where):
    check(ip, {"metricType": ("string", False),
               "fieldName": ("string", True), "indexName": ("string", True),
               "indexType": ("string", False), "index_type": ("string", False),
               "params": ("object", False)}, where)
    f = c.by_name.get(ip["fieldName"])
    if f is None:
        raise bad(f"{where}: cannot create index on non-exist field: {ip['fieldName']}")
    params = dict(ip.get("params", {}))
    check(params, {"index_type": ("string", False), "nlist": ("intish", False),
                   "M": ("intish", False), "efConstruction": ("intish", False)},
          f"{where}.params")
    if params and "index_type" not in params:
        raise bad(f"missing required parameters: {where}.params.index_type")
    types = {t for t in (ip.get("indexType"), ip.get("index_type"), params.get("index_type"))
             if t is not None}
    if len(types) > 1:
        raise bad(f"{where}: index types disagree: {', '.join(sorted(types))}")
    itype = types.pop() if types else "AUTOINDEX"
    ix = {"fieldName": f.name, "indexName": ip["indexName"], "indexType": itype}
    if f.type == "FloatVector":
        metric = ip.get("metricType", "COSINE")
        if metric not in METRICS:
            raise bad(f"{where}: metric type {metric} is not one of {', '.join(METRICS)}")
        if itype not in ("AUTOINDEX", "FLAT", "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "HNSW"):
            raise bad(f"{where}: invalid index type: {itype}")
        ix["metricType"] = metric
        if itype.startswith("IVF"):
            nlist = int_like(params.get("nlist", 128))
            if not 1 <= nlist <= 65536:
                raise bad(f"{where}: param 'nlist' ({nlist}) should be in range [1, 65536]")
            ix["nlist"] = nlist
        if "M" in params or "efConstruction" in params:
            if itype != "HNSW":
                raise bad(f"{where}: M and efConstruction are HNSW parameters")
    else:
        if "metricType" in ip:
            raise bad(f"{where}: a metric type on the scalar field {f.name}")
        if "nlist" in params:
            raise bad(f"{where}: nlist on the scalar field {f.name}")
    for other in c.indexes.values():
        if other["fieldName"] == f.name:
            raise bad(f"{where}: the field {f.name} has an index already")
    if ix["indexName"] in c.indexes:
        raise bad(f"{where}: an index named {ix['indexName']} exists already")
    return ix


def op_list(body, hdr):
    check(body, dict(DB), "request")
    check_db(body)
    return sorted(state["collections"])


def op_create(body, hdr):
    check(body, {**DB, "collectionName": ("string", True), "dimension": ("intish", False),
                 "metricType": ("string", False), "metric_type": ("string", False),
                 "idType": ("string", False), "autoID": ("boolish", False),
                 "autoId": ("boolish", False), "primaryFieldName": ("string", False),
                 "vectorFieldName": ("string", False), "schema": ("object", False),
                 "indexParams": ("array", False), "params": ("object", False),
                 "description": ("string", False)}, "request")
    check_db(body)
    name = body["collectionName"]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,254}", name):
        raise bad(f"Invalid collection name: {name}. the first character of a collection "
                  "name must be an underscore or letter")
    params = body.get("params", {})
    check(params, {"max_length": ("intish", False), "enableDynamicField": ("boolish", False),
                   "shardsNum": ("intish", False), "consistencyLevel": ("string", False),
                   "partitionsNum": ("intish", False), "ttlSeconds": ("intish", False)},
          "params")
    if "schema" in body:
        s = body["schema"]
        check(s, {"autoID": ("boolish", False), "autoId": ("boolish", False),
                  "enableDynamicField": ("boolish", False),
                  "enabledDynamicField": ("boolish", False), "fields": ("array", True),
                  "params": ("object", False)}, "schema")
        auto = bool_like(s.get("autoID", s.get("autoId", False)))
        fields = [field_from_spec(fs, auto) for fs in s["fields"]]
        dyn = s.get("enableDynamicField", s.get("enabledDynamicField",
                                                params.get("enableDynamicField", False)))
        dynamic = bool_like(dyn)
    else:
        dim = int_like(body.get("dimension"))
        if dim is None:
            raise bad("missing required parameters: dimension (or a schema)")
        idt = body.get("idType", "Int64")
        if idt not in ("Int64", "VarChar"):
            raise bad(f"idType {idt} is not Int64 or VarChar")
        auto = bool_like(body.get("autoID", body.get("autoId", False)))
        pk = Field(body.get("primaryFieldName", "id"), idt, True, bool(auto),
                   max_length=int_like(params.get("max_length", 65535)) or 65535)
        vec = Field(body.get("vectorFieldName", "vector"), "FloatVector", dim=dim)
        fields, dynamic = [pk, vec], True
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise bad("duplicated field name")
    prim = [f for f in fields if f.primary]
    if len(prim) != 1:
        raise bad("there must be exactly one primary key field")
    if not any(f.type == "FloatVector" for f in fields):
        raise bad("schema does not contain vector field")
    if name in state["collections"]:
        raise Refusal(65535, f"collection {name} already exists (the double refuses a "
                      "second create)")
    c = Collection(name, fields, dynamic)
    if "schema" in body:
        for i, ip in enumerate(body.get("indexParams", [])):
            ix = index_from_spec(c, ip, f"indexParams[{i}]")
            c.indexes[ix["indexName"]] = ix
        c.loaded = bool(c.indexes) and all(c.index_of(v.name) for v in c.vector_fields())
    else:
        metric = body.get("metricType", body.get("metric_type", "COSINE"))
        if metric not in METRICS:
            raise bad(f"metric type {metric} is not one of {', '.join(METRICS)}")
        c.indexes[fields[1].name] = {"fieldName": fields[1].name, "indexName": fields[1].name,
                                     "indexType": "AUTOINDEX", "metricType": metric}
        c.loaded = True
    state["collections"][name] = c
    return {}


COLL_REQ = {**DB, "collectionName": ("string", True)}


def op_describe(body, hdr):
    check(body, COLL_REQ, "request")
    c = coll_of(body)
    fields = []
    for i, f in enumerate(c.fields):
        o = {"autoId": f.auto_id, "description": "", "id": 100 + i, "name": f.name,
             "partitionKey": f.partition_key, "primaryKey": f.primary, "type": f.type}
        if f.type == "VarChar":
            o["params"] = [{"key": "max_length", "value": str(f.max_length)}]
        if f.type == "FloatVector":
            o["params"] = [{"key": "dim", "value": str(f.dim)}]
        fields.append(o)
    indexes = []
    for ix in c.indexes.values():
        o = {"fieldName": ix["fieldName"], "indexName": ix["indexName"]}
        if "metricType" in ix:
            o["metricType"] = ix["metricType"]
        indexes.append(o)
    return {"aliases": [], "autoId": c.pk.auto_id, "collectionID": c.id,
            "collectionName": c.name, "consistencyLevel": "Bounded", "description": "",
            "enableDynamicField": c.dynamic, "fields": fields, "indexes": indexes,
            "load": "LoadStateLoaded" if c.loaded else "LoadStateNotLoad",
            "partitionsNum": 1, "properties": [], "shardsNum": 1}


def op_has(body, hdr):
    check(body, COLL_REQ, "request")
    check_db(body)
    return {"has": body["collectionName"] in state["collections"]}


def op_drop(body, hdr):
    check(body, COLL_REQ, "request")
    c = coll_of(body)
    del state["collections"][c.name]
    return {}


def op_load(body, hdr):
    check(body, COLL_REQ, "request")
    c = coll_of(body)
    for v in c.vector_fields():
        if not c.index_of(v.name):
            raise Refusal(700, f"index not found[collection={c.name}]: there is no vector "
                          f"index on field: [{v.name}], please create index firstly")
    c.loaded = True
    return {}


def op_release(body, hdr):
    check(body, COLL_REQ, "request")
    coll_of(body).loaded = False
    return {}


def op_load_state(body, hdr):
    check(body, {**COLL_REQ, "partitionNames": ("any", False)}, "request")
    c = coll_of(body)
    if c.loaded:
        return {"loadProgress": 100, "loadState": "LoadStateLoaded", "message": ""}
    return {"loadProgress": 0, "loadState": "LoadStateNotLoad", "message": ""}


def op_index_create(body, hdr):
    check(body, {**COLL_REQ, "indexParams": ("array", True)}, "request")
    c = coll_of(body)
    made = [index_from_spec(c, ip, f"indexParams[{i}]")
            for i, ip in enumerate(body["indexParams"])]
    for ix in made:
        c.indexes[ix["indexName"]] = ix
    return {}


def op_index_describe(body, hdr):
    check(body, {**COLL_REQ, "indexName": ("string", True)}, "request")
    c = coll_of(body)
    ix = c.indexes.get(body["indexName"])
    if ix is None:
        raise Refusal(700, f"index not found[indexName={body['indexName']}]")
    n = len(c.rows)
    return [{"failReason": "", "fieldName": ix["fieldName"], "indexName": ix["indexName"],
             "indexState": "Finished", "indexType": ix["indexType"], "indexedRows": n,
             "metricType": ix.get("metricType", ""), "pendingRows": 0, "totalRows": n}]


def op_index_list(body, hdr):
    check(body, COLL_REQ, "request")
    return sorted(coll_of(body).indexes)


# ---- filter expressions -----------------------------------------------------------

TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_$][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>()\[\],!+\-])
""", re.X)

ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r", "a": "\a",
           "b": "\b", "f": "\f", "v": "\v"}
LIKE_ESCAPES = ("%", "_")


class ExprError(Exception):
    pass


def tokenize(text):
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            j, s = i + 1, []
            while True:
                if j >= len(text):
                    raise ExprError("a string constant is not closed")
                c2 = text[j]
                if c2 == ch:
                    break
                if c2 in "\n\r":
                    raise ExprError("a line break inside a string constant")
                if c2 == "\\":
                    if j + 1 >= len(text):
                        raise ExprError("a string constant ends in a backslash")
                    e = text[j + 1]
                    if e in ESCAPES:
                        s.append(ESCAPES[e])
                    elif e in LIKE_ESCAPES:
                        s.append("\\" + e)     # kept for LIKE: a literal % or _
                    elif e == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[j + 2:j + 6]):
                        s.append(chr(int(text[j + 2:j + 6], 16)))
                        j += 4
                    else:
                        raise ExprError(f"invalid escape \\{e} in a string constant")
                    j += 2
                    continue
                s.append(c2)
                j += 1
            out.append(("str", "".join(s)))
            i = j + 1
            continue
        m = TOKEN_RE.match(text, i)
        if not m:
            raise ExprError(f"unexpected character {ch!r} at {i}")
        kind = m.lastgroup
        val = m.group()
        i = m.end()
        if kind == "ws":
            continue
        if kind == "num":
            out.append(("num", float(val) if re.search(r"[.eE]", val) else int(val)))
        elif kind == "ident":
            low = val.lower()
            if low in ("and", "or", "not", "in", "like"):
                out.append(("kw", low))
            elif low in ("true", "false"):
                out.append(("bool", low == "true"))
            else:
                out.append(("ident", val))
        elif val in ("&&", "||", "!"):
            out.append(("kw", {"&&": "and", "||": "or", "!": "not"}[val]))
        else:
            out.append(("op", val))
    out.append(("end", None))
    return out


CMP = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
       "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
MISSING = object()


def like_regex(pattern):
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in LIKE_ESCAPES:
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.S)


def plain(s):
    """A string constant outside LIKE: \\% is %, \\_ is _."""
    return s.replace("\\%", "%").replace("\\_", "_") if isinstance(s, str) else s


class Parser:
    def __init__(self, coll, text):
        self.c = coll
        self.t = tokenize(text)
        self.i = 0

    def peek(self):
        return self.t[self.i]

    def take(self):
        tok = self.t[self.i]
        self.i += 1
        return tok

    def expect(self, kind, val=None):
        tok = self.take()
        if tok[0] != kind or (val is not None and tok[1] != val):
            raise ExprError(f"expected {val or kind}, found {tok[1]!r}")
        return tok

    def parse(self):
        if self.peek()[0] == "end":
            return lambda row: True
        e = self.or_()
        if self.peek()[0] != "end":
            raise ExprError(f"unexpected {self.peek()[1]!r}")
        return e

    def or_(self):
        parts = [self.and_()]
        while self.peek() == ("kw", "or"):
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else (lambda row: any(p(row) for p in parts))

    def and_(self):
        parts = [self.unary()]
        while self.peek() == ("kw", "and"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda row: all(p(row) for p in parts))

    def unary(self):
        if self.peek() == ("kw", "not"):
            self.take()
            inner = self.unary()
            return lambda row: not inner(row)
        if self.peek() == ("op", "("):
            self.take()
            e = self.or_()
            self.expect("op", ")")
            return e
        return self.predicate()

    def constant(self):
        tok = self.take()
        sign = 1
        while tok[0] == "op" and tok[1] in "+-":
            sign = -sign if tok[1] == "-" else sign
            tok = self.take()
            if tok[0] != "num":
                raise ExprError("a sign before something that is not a number")
        if tok[0] == "num":
            v = sign * tok[1]
        elif tok[0] in ("str", "bool"):
            v = tok[1]
        else:
            raise ExprError(f"expected a constant, found {tok[1]!r}")
        if self.peek()[0] == "op" and self.peek()[1] in "+-" and self.t[self.i + 1][0] == "num":
            raise ExprError("arithmetic on constants is not supported by the double")
        return v

    def field(self, name):
        f = self.c.by_name.get(name)
        if f is not None:
            if f.type in ("FloatVector", "JSON"):
                raise ExprError(f"{f.type} field {name} cannot be compared")
            return name, f.type
        if name == "$meta" or not self.c.dynamic:
            raise ExprError(f"field {name} not exist")
        return name, "dynamic"

    @staticmethod
    def typecheck(name, ftype, v):
        if ftype == "dynamic":
            return
        if ftype == "VarChar" and not isinstance(v, str):
            raise ExprError(f"comparisons between VarChar field {name} and "
                            f"{type(v).__name__} are not supported")
        if ftype in INT_RANGE or ftype in ("Float", "Double"):
            if not is_num(v):
                raise ExprError(f"comparisons between {ftype} field {name} and "
                                f"{type(v).__name__} are not supported")
        if ftype == "Bool" and not isinstance(v, bool):
            raise ExprError(f"comparisons between Bool field {name} and a non-boolean")

    @staticmethod
    def getter(name, ftype):
        if ftype == "dynamic":
            return lambda row: row["$meta"].get(name, MISSING)
        return lambda row: row[name]

    @staticmethod
    def compatible(a, b):
        if a is MISSING:
            return False
        if isinstance(a, bool) or isinstance(b, bool):
            return isinstance(a, bool) and isinstance(b, bool)
        return (is_num(a) and is_num(b)) or (isinstance(a, str) and isinstance(b, str))

    def compare(self, name, ftype, op, v):
        self.typecheck(name, ftype, v)
        v = plain(v)
        get, fn, ok = self.getter(name, ftype), CMP[op], self.compatible
        if op not in ("==", "!=") and isinstance(v, bool):
            raise ExprError(f"{op} on a boolean")
        return lambda row: ok(get(row), v) and fn(get(row), v)

    def predicate(self):
        tok = self.peek()
        if tok[0] == "ident":
            self.take()
            name, ftype = self.field(tok[1])
            nxt = self.take()
            negate = False
            if nxt == ("kw", "not"):
                negate, nxt = True, self.take()
                if nxt != ("kw", "in"):
                    raise ExprError("expected in after not")
            if nxt == ("kw", "in"):
                self.expect("op", "[")
                vals = [self.constant()]
                while self.peek() == ("op", ","):
                    self.take()
                    vals.append(self.constant())
                self.expect("op", "]")
                for v in vals:
                    self.typecheck(name, ftype, v)
                vals = [plain(v) for v in vals]
                get, ok = self.getter(name, ftype), self.compatible
                has = lambda row: any(ok(get(row), v) and get(row) == v for v in vals)
                if negate:
                    return lambda row: get(row) is not MISSING and not has(row)
                return has
            if nxt == ("kw", "like"):
                if ftype not in ("VarChar", "dynamic"):
                    raise ExprError(f"like on the {ftype} field {name}")
                pat = self.take()
                if pat[0] != "str":
                    raise ExprError("like needs a string pattern")
                rx, get = like_regex(pat[1]), self.getter(name, ftype)
                return lambda row: isinstance(get(row), str) and rx.fullmatch(get(row)) is not None
            if nxt[0] == "op" and nxt[1] in CMP:
                if self.peek()[0] == "ident":
                    raise ExprError("comparing two fields is not supported by the double")
                return self.compare(name, ftype, nxt[1], self.constant())
            raise ExprError(f"unexpected {nxt[1]!r} after {name}")
        # Constant first: "5 < x", "0 < x < 400", "500 <= x < 1000".
        lo = self.constant()
        op1 = self.take()
        if op1[0] != "op" or op1[1] not in CMP:
            raise ExprError(f"expected a comparison, found {op1[1]!r}")
        ident = self.expect("ident")
        name, ftype = self.field(ident[1])
        first = self.compare(name, ftype, FLIP[op1[1]], lo)
        if self.peek()[0] == "op" and self.peek()[1] in ("<", "<="):
            if op1[1] not in ("<", "<="):
                raise ExprError("a range takes < or <= on both sides")
            op2 = self.take()[1]
            second = self.compare(name, ftype, op2, self.constant())
            return lambda row: first(row) and second(row)
        return first


def compile_filter(c, text):
    try:
        return Parser(c, text).parse()
    except ExprError as e:
        raise Refusal(1100, f"failed to create query plan: cannot parse expression: {text}, "
                      f"error: {e}: invalid parameter")


# ---- entities ------------------------------------------------------------------------

def check_value(c, f, v, i):
    where = f"the {i}th row, field {f.name}"
    if f.type in INT_RANGE:
        bits = INT_RANGE[f.type]
        if not is_int(v):
            raise bad(f"{where}: {json.dumps(v)[:40]} is not an {f.type}")
        if not -(1 << (bits - 1)) <= v < (1 << (bits - 1)):
            raise bad(f"{where}: {v} is out of the range of {f.type}")
        return v
    if f.type in ("Float", "Double"):
        if not is_num(v):
            raise bad(f"{where}: {json.dumps(v)[:40]} is not a number")
        return float(v)
    if f.type == "Bool":
        if not isinstance(v, bool):
            raise bad(f"{where}: not a boolean")
        return v
    if f.type == "VarChar":
        if not isinstance(v, str):
            raise bad(f"{where}: {json.dumps(v)[:40]} is not a string")
        n = len(v.encode("utf-8"))
        if n > f.max_length:
            raise bad(f"the length ({n}) of {i}th VarChar {f.name} exceeds max length "
                      f"({f.max_length})")
        return v
    if f.type == "FloatVector":
        if not isinstance(v, list) or not all(is_num(x) for x in v):
            raise bad(f"{where}: the vector must be an array of numbers")
        if len(v) != f.dim:
            raise bad(f"the dim ({len(v)}) of field data({f.name}) is not equal to schema "
                      f"dim ({f.dim})")
        return [F32(f32(x)) for x in v]
    return v  # JSON


def op_insert(body, hdr):
    check(body, {**COLL_REQ, "data": ("any", True), "partitionName": ("string", False)},
          "request")
    c = coll_of(body)
    if body.get("partitionName", "_default") != "_default":
        raise Refusal(200, f"partition not found[partition={body['partitionName']}]")
    data = body["data"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data or not all(isinstance(r, dict) for r in data):
        raise bad("data must be an object or a non-empty array of objects")
    rows = []
    for i, r in enumerate(data):
        row, meta = {}, {}
        for f in c.fields:
            if f.primary and f.auto_id:
                if f.name in r:
                    raise bad(f"the {i}th row holds the primary key {f.name}, which is "
                              "auto-generated (autoID): leave it out")
                continue
            if f.name not in r:
                raise bad(f"Insert missed an field `{f.name}` to collection without set "
                          "nullable==true or set default_value")
            row[f.name] = check_value(c, f, r[f.name], i)
        for k, v in r.items():
            if k in c.by_name:
                continue
            if k == "$meta" or not c.dynamic:
                raise bad(f"Attempt to insert an unexpected field `{k}` to collection "
                          "without enabling dynamic field")
            meta[k] = v
        row["$meta"] = meta
        rows.append(row)
    ids = []
    for row in rows:
        if c.pk.auto_id:
            state["next_id"] += 1
            row[c.pk.name] = state["next_id"]
        ids.append(row[c.pk.name])
    for row in rows:
        c.rows[row[c.pk.name]] = row
    allow = hdr.get("Accept-Type-Allow-Int64", "").lower() == "true"
    return {"insertCount": len(ids),
            "insertIds": ids if allow or c.pk.type == "VarChar" else [str(x) for x in ids]}


def op_delete(body, hdr):
    check(body, {**COLL_REQ, "filter": ("string", True), "partitionName": ("string", False)},
          "request")
    c = coll_of(body)
    if not body["filter"].strip():
        raise bad("the filter of a delete is empty")
    pred = compile_filter(c, body["filter"])
    for pk in [pk for pk, row in c.rows.items() if pred(row)]:
        del c.rows[pk]
    return {}


def output_names(c, fields, where):
    """The fields asked for: schema fields (with "*" every one) and, with
    dynamic fields, other names looked up in $meta."""
    names = []
    for n in fields:
        if n == "*":
            names += [f.name for f in c.fields if f.name not in names]
            names += ["$meta*"]
        elif n in c.by_name or (c.dynamic and n != "$meta"):
            if n not in names:
                names.append(n)
        else:
            raise bad(f"{where}: field {n} not exist")
    return names


def row_out(c, row, names, extra=None):
    o = dict(extra or {})
    o[c.pk.name] = row[c.pk.name]
    for n in names:
        if n == "$meta*":
            for k, v in row["$meta"].items():
                o.setdefault(k, v)
        elif n in c.by_name:
            o[n] = row[n]
        elif n in row["$meta"]:
            o[n] = row["$meta"][n]
    return o


def check_window(limit, offset, what):
    if limit < 0 or offset < 0 or limit + offset > MAX_WINDOW:
        raise bad(f"invalid max {what} result window, (offset+limit) should be in range "
                  f"[1, {MAX_WINDOW}], but got {offset + limit}")


def check_partitions(body):
    for p in body.get("partitionNames", []):
        if p != "_default":
            raise Refusal(200, f"partition not found[partition={p}]")


def need_loaded(c):
    if not c.loaded:
        raise Refusal(101, f"collection not loaded[collection={c.name}]")


def op_query(body, hdr):
    check(body, {**COLL_REQ, "filter": ("string", True), "outputFields": ("strings", False),
                 "partitionNames": ("strings", False), "limit": ("int", False),
                 "offset": ("int", False)}, "request")
    c = coll_of(body)
    check_partitions(body)
    need_loaded(c)
    fields = body.get("outputFields", [])
    limit, offset = body.get("limit", 0), body.get("offset", 0)
    check_window(limit, offset, "query")
    pred = compile_filter(c, body["filter"])
    if "count(*)" in fields:
        if fields != ["count(*)"]:
            raise bad("count(*) must be the only output field")
        return [{"count(*)": sum(1 for r in c.rows.values() if pred(r))}]
    names = output_names(c, fields, "outputFields")
    hits = [r for pk, r in sorted(c.rows.items()) if pred(r)]
    hits = hits[offset:offset + limit] if limit > 0 else hits[offset:]
    return [row_out(c, r, names) for r in hits]


def similarity(metric, q, v):
    if metric == "L2":
        return sum((a - b) * (a - b) for a, b in zip(q, v))
    dot = sum(a * b for a, b in zip(q, v))
    if metric == "IP":
        return dot
    nq = math.sqrt(sum(a * a for a in q))
    nv = math.sqrt(sum(b * b for b in v))
    return dot / (nq * nv) if nq and nv else 0.0


def op_search(body, hdr):
    check(body, {**COLL_REQ, "data": ("array", True), "annsField": ("string", True),
                 "filter": ("string", False), "limit": ("int", False),
                 "offset": ("int", False), "groupingField": ("string", False),
                 "groupSize": ("int", False), "strictGroupSize": ("bool", False),
                 "outputFields": ("strings", False), "searchParams": ("object", False),
                 "partitionNames": ("strings", False), "consistencyLevel": ("string", False)},
          "request")
    c = coll_of(body)
    check_partitions(body)
    if body.get("consistencyLevel", "Bounded") not in ("Strong", "Bounded", "Session",
                                                       "Eventually"):
        raise bad(f"consistencyLevel {body['consistencyLevel']} is not one of Strong, "
                  "Bounded, Session, Eventually")
    vf = c.by_name.get(body["annsField"])
    if vf is None or vf.type != "FloatVector":
        raise bad(f"annsField {body['annsField']} is not a vector field of {c.name}")
    need_loaded(c)
    ix = c.index_of(vf.name)
    metric = ix["metricType"]
    sp = body.get("searchParams", {})
    check(sp, {"metricType": ("string", False), "params": ("object", False),
               "hints": ("string", False)}, "searchParams")
    if sp.get("metricType", metric) != metric:
        raise bad(f"metric type not match: expected={metric}, actual={sp['metricType']}")
    p = sp.get("params", {})
    check(p, {"radius": ("any", False), "range_filter": ("any", False), "nprobe": ("int", False),
              "ef": ("int", False), "search_list": ("int", False), "level": ("int", False)},
          "searchParams.params")
    if "nprobe" in p:
        if not ix["indexType"].startswith("IVF"):
            raise bad(f"nprobe is an IVF parameter; the index is {ix['indexType']}")
        if not 1 <= p["nprobe"] <= ix["nlist"]:
            raise bad(f"param 'nprobe' ({p['nprobe']}) should be in range [1, {ix['nlist']}]")
    if "radius" in p or "range_filter" in p:
        raise bad("range search is not supported by the double")
    vecs = body["data"]
    if not vecs or not all(isinstance(v, list) and all(is_num(x) for x in v) for v in vecs):
        raise bad("data must be a non-empty list of vectors (arrays of numbers)")
    for v in vecs:
        if len(v) != vf.dim:
            raise bad(f"the dim ({len(v)}) of the query vector is not equal to the dim "
                      f"({vf.dim}) of {vf.name}")
    limit, offset = body.get("limit", 100), body.get("offset", 0)
    if limit < 1:
        raise bad(f"limit ({limit}) must be at least 1")
    check_window(limit, offset, "search")
    group = body.get("groupingField")
    gsize = body.get("groupSize", 1)
    if group is not None:
        gf = c.by_name.get(group)
        if gf is None or gf.type not in GROUPABLE:
            raise bad(f"groupBy field {group} is not a schema field of type "
                      f"{', '.join(GROUPABLE)}")
        if gsize < 1:
            raise bad("groupSize must be at least 1")
    elif "groupSize" in body or "strictGroupSize" in body:
        raise bad("groupSize without groupingField")
    pred = compile_filter(c, body.get("filter", ""))
    names = output_names(c, body.get("outputFields", []), "outputFields")
    out = []
    for q in vecs:
        q = [f32(x) for x in q]
        scored = [(similarity(metric, q, r[vf.name]), pk, r) for pk, r in c.rows.items()
                  if pred(r)]
        # Best first; ties by primary key for a stable order.
        scored.sort(key=lambda t: (t[0] if metric == "L2" else -t[0], t[1]))
        if group is not None:
            # Groups in the order of their best hit; up to groupSize hits
            # each; limit counts groups, offset skips groups.
            groups = {}
            for t in scored:
                k = t[2][group]
                if k in groups:
                    if len(groups[k]) < gsize:
                        groups[k].append(t)
                elif len(groups) < offset + limit:
                    groups[k] = [t]
            scored = [t for hits in list(groups.values())[offset:] for t in hits]
        else:
            scored = scored[offset:offset + limit]
        for s, pk, r in scored:
            out.append(row_out(c, r, names, {"distance": F32(f32(s))}))
    return out


# ---- the server ---------------------------------------------------------------------

ROUTES = {
    "collections/list": op_list, "collections/create": op_create,
    "collections/describe": op_describe, "collections/has": op_has,
    "collections/drop": op_drop, "collections/load": op_load,
    "collections/release": op_release, "collections/get_load_state": op_load_state,
    "indexes/create": op_index_create, "indexes/describe": op_index_describe,
    "indexes/list": op_index_list, "entities/insert": op_insert,
    "entities/delete": op_delete, "entities/query": op_query, "entities/search": op_search,
}


def snapshot():
    colls = {}
    for name, c in state["collections"].items():
        colls[name] = {"fields": [{"name": f.name, "type": f.type, "primary": f.primary,
                                   "autoId": f.auto_id, "max_length": f.max_length,
                                   "dim": f.dim} for f in c.fields],
                       "dynamic": c.dynamic, "indexes": list(c.indexes.values()),
                       "loaded": c.loaded, "rows": len(c.rows)}
    return {"collections": colls, "requests": state["requests"], "refused": state["refused"]}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, payload, ctype="application/json"):
        data = payload.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_refusal(self, body, answer):
        with open(sys.argv[1] + ".log", "a", encoding="utf-8") as f:
            f.write(f"{self.command} {self.path}\n  sent:   {body[:600]!r}\n"
                    f"  answer: {answer}\n")

    def do_GET(self):
        self.read_body()
        if self.path == "/_double/state":
            with lock:
                self.send(200, json.dumps(snapshot()))
            return
        self.send(404, "404 page not found", "text/plain")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_POST(self):
        raw = self.read_body()
        path = self.path.split("?", 1)[0]
        op = ROUTES.get(path[len("/v2/vectordb/"):]) if path.startswith("/v2/vectordb/") else None
        if op is None:  # every /v1/ route too: this Milvus speaks v2 only
            self.send(404, "404 page not found", "text/plain")
            return
        text = raw.decode("utf-8", "replace")
        with lock:
            state["requests"][path] = state["requests"].get(path, 0) + 1
            try:
                token = sys.argv[2] if len(sys.argv) > 2 else None
                if token and self.headers.get("Authorization") != f"Bearer {token}":
                    raise Refusal(1800, "User hasn't authenticated")
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                if ctype != "application/json":
                    raise bad(f"Content-Type is \"{ctype}\", not application/json")
                try:
                    body = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as e:
                    raise bad(f"the body is not JSON ({e})")
                if not isinstance(body, dict):
                    raise bad("the body must be a JSON object")
                data = op(body, self.headers)
                answer = {"code": 0, "data": data}
                if path in ("/v2/vectordb/entities/query", "/v2/vectordb/entities/delete"):
                    answer["cost"] = 0
            except Refusal as r:
                state["refused"] += 1
                answer = {"code": r.code, "message": r.message}
                self.log_refusal(text, json.dumps(answer))
            out = dumps(answer)
        self.send(200, out)

    def do_PUT(self):
        self.read_body()
        self.send(404, "404 page not found", "text/plain")

    do_DELETE = do_PUT


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.rename(tmp, sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
