"""The envelope id's quick path (a pattern) must accept and refuse exactly as the parse did, with the
same key and message, through validate and parse (JSON text with escapes, bytes)."""

import json
import random
import uuid

import pytest
from sync_base_lib import envelope as env_mod
from sync_base_lib.envelope import EnvelopeError


def _old_check_id(message_id):
    """_check_id before its quick path (67f1c42): the type's check, then the parse alone."""
    if not isinstance(message_id, str):
        raise EnvelopeError("id", f"must be a UUID string, got {type(message_id).__name__}")
    env_mod._parse_id(message_id)


def _outcome(check, message_id):
    try:
        check(message_id)
    except EnvelopeError as exc:
        return ("error", exc.key, str(exc))
    return ("ok",)


def _odd_ids():
    base = str(uuid.UUID(int=0x0123456789ABCDEF0123456789ABCDEF))
    ids = [base, base.upper(), base.title(), "{" + base + "}", "urn:uuid:" + base, "uuid:" + base, base + "\n",
           base + "\r\n", "\n" + base, base + " ", base.replace("-", ""), base.replace("-", "_"),
           base[:8] + "-" + base[9:].replace("-", ""), base + "\x00", "\t" + base, base.replace("0", "\u0660"),
           base.replace("1", "\uff11"), base.replace("a", "\uff41"), base.replace("-", "\u2010"),
           base.replace("-", "\u2011"), base.replace("-", "\uff0d"), base.replace("b", "\u212a"),
           "0x" + base[2:], "+" + base[1:], base[:-1], base + "0", base.replace("-", "--", 1)[:36],
           "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
           "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", "", "-" * 36, "g" * 36, base.replace("-", ""),
           "{" + base.replace("-", "") + "}", "urn:uuid:{" + base + "}", base[:8] + "-" + base[9:13] + base[13:],
           "urn:uuid:" + base.upper(), "1_23456789-abcd-ef01-2345-6789abcdef0"[:36]]
    rnd = random.Random(30)
    alphabet = "0123456789abcdefABCDEF-{}_ \n:\u0660\uff10xurn"
    for _ in range(3000):
        chars = list(base)
        for _edit in range(rnd.randint(1, 3)):
            pos = rnd.randrange(len(chars))
            what = rnd.random()
            if what < 0.5:
                chars[pos] = rnd.choice(alphabet)
            elif what < 0.75:
                chars.insert(pos, rnd.choice(alphabet))
            else:
                del chars[pos]
        ids.append("".join(chars))
    return ids


ODD_IDS = _odd_ids()
NON_STR = [None, 1, 1.5, True, [], {}, uuid.UUID(int=1), b"00000000-0000-0000-0000-000000000000"]


@pytest.fixture
def envelope():
    return env_mod.build("contacts.partner", "upsert", "erp_main", ["shop_eu"], "res.partner", 42, {"name": "A"})


def test_quick_path_agrees_with_the_parse_on_many_forms():
    disagreements = [(mid, _outcome(env_mod._check_id, mid), _outcome(_old_check_id, mid))
                     for mid in ODD_IDS + NON_STR
                     if _outcome(env_mod._check_id, mid) != _outcome(_old_check_id, mid)]
    assert disagreements == []


@pytest.mark.parametrize("message_id", ODD_IDS[:45] + NON_STR, ids=[str(i) for i in range(45 + len(NON_STR))])
def test_validate_and_parse_same_as_before(envelope, message_id):
    envelope["id"] = message_id
    expected = _outcome(_old_check_id, message_id)
    for how in ("validate", "parse_text", "parse_ascii_escaped", "parse_bytes"):
        try:
            if how == "validate":
                env_mod.validate(dict(envelope))
            elif how == "parse_text":
                env_mod.parse(json.dumps(envelope, ensure_ascii=False, default=str))
            elif how == "parse_ascii_escaped":
                env_mod.parse(json.dumps(envelope, ensure_ascii=True, default=str))
            else:
                env_mod.parse(json.dumps(envelope, ensure_ascii=False, default=str).encode("utf-8"))
        except EnvelopeError as exc:
            got = ("error", exc.key, str(exc))
        else:
            got = ("ok",)
        if how != "validate" and not isinstance(message_id, (str, type(None), int, float, bool, list, dict)):
            continue  # json.dumps(default=str) turns it into a str: not the same input
        assert got == expected, how


def test_uppercase_id_round_trips_unchanged(envelope):
    envelope["id"] = envelope["id"].upper()
    parsed = env_mod.parse(env_mod.dumps(envelope))
    assert parsed["id"] == envelope["id"]
