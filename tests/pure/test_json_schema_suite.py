"""The official JSON-Schema-Test-Suite against the validator as serialization uses it.

Serialization validates a document with ``fastschema.compile_validator`` and
``fastschema.iter_errors`` (see ``sync_schema.get_validator`` and
``_validation_errors``): the compiled fast path first, jsonschema when the
fast path cannot compile the schema or says no.  Every case of the vendored
draft2020-12 and draft7 files (``json_schema_test_suite/README.md``) runs
through that (after the check sync.schema makes at save, as
``_ensure_valid`` runs it before serialization), and the fast path, wherever it compiles, must agree with
jsonschema on its own.
"""

import json
from pathlib import Path

import jsonschema
import pytest
from sync_mapping_lib.fastschema import DEFAULT_VALIDATOR, compile_validator, iter_errors

SUITE = Path(__file__).resolve().parent / "json_schema_test_suite"

# The draft7 files leave $schema out (the suite's runner is told the draft);
# a user of sync.schema names it, so the case's schema gets it at the root.
# The draft2020-12 files name their draft in every schema already.
DIALECTS = {"draft7": "http://json-schema.org/draft-07/schema#", "draft2020-12": None}

REMOTE = "http://localhost:1234/"
REMOTE_REASON = "needs the suite's remote references server (http://localhost:1234), out of scope"


def _as_stored(dialect, schema):
    if dialect is None or not isinstance(schema, dict) or "$schema" in schema:
        return schema
    return {"$schema": dialect, **schema}


def _cases():
    for draft, dialect in DIALECTS.items():
        for path in sorted((SUITE / draft).glob("*.json")):
            for group in json.loads(path.read_text()):
                schema = _as_stored(dialect, group["schema"])
                remote = path.name == "refRemote.json" or REMOTE in json.dumps(schema)
                for test in group["tests"]:
                    yield pytest.param(
                        schema, test["data"], test["valid"],
                        id=f"{draft}/{path.stem}/{group['description']}/{test['description']}",
                        marks=[pytest.mark.skip(reason=REMOTE_REASON)] if remote else [],
                    )


CASES = list(_cases())


def _validator(schema, _cache={}):  # noqa: B006 - one compiled validator per schema, as get_validator caches
    key = json.dumps(schema, sort_keys=True)
    if key not in _cache:
        _cache[key] = compile_validator(schema)
    return _cache[key]


def _format_asserted(schema, description):
    # The suite's default treats format as an annotation only; serialization
    # asserts formats on purpose (a date property must refuse "29/02/2024"),
    # so these cases must follow the format checker instead.
    return isinstance(schema, dict) and "format" in schema and "only an annotation by default" in description


@pytest.mark.parametrize(("schema", "data", "valid"), CASES)
def test_suite_case(request, schema, data, valid):
    try:
        jsonschema.validators.validator_for(schema, default=DEFAULT_VALIDATOR).check_schema(schema)
    except jsonschema.SchemaError as exc:
        # Python's re has no Unicode property escapes (\p{...}) of ECMA-262
        # regexes: sync.schema refuses such a schema at save, so serialization
        # never validates with it.  Nothing else of the suite may be refused.
        assert "\\p{" in json.dumps(schema) and "is not a 'regex'" in exc.message
        return
    validator, fast = _validator(schema)
    accepted = not any(True for _ in iter_errors(validator, fast, data))
    if _format_asserted(schema, request.node.callspec.id):
        assert accepted == validator.format_checker.conforms(data, schema["format"])
    else:
        assert accepted == valid
    if fast is not None:
        assert fast(data) == validator.is_valid(data)


def test_the_fast_path_is_used_by_the_suite():
    """Most suite schemas outside $ref & co. compile, so the agreement checks above test the fast path itself."""
    compiled = {json.dumps(p.values[0]) for p in CASES if _validator(p.values[0])[1] is not None}
    assert len(compiled) > 150
    assert len(CASES) > 2000
