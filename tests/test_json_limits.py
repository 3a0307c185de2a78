"""JSON from outside is parsed within limits: nesting, digits and non-finite numbers are refused with their place."""

import json

import pytest

from experiment.bounded_json import JSONLimitError, loads


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("[" * 1999, "nested deeper than 20 levels", 21),
        ('{"a": ' * 21 + "1" + "}" * 21, "nested deeper than 20 levels", 121),
        ("[" + "1" * 5000 + "]", "a number of 5000 digits; at most 20", 2),
        ('{"x": NaN}', "NaN is not a number a database stores", 7),
        ("[-Infinity]", "-Infinity is not a number a database stores", 2),
        ("[1e999]", "1e999 is too large a number", 2),
    ],
)
def test_json_beyond_a_limit_is_refused_with_its_place(text, message, column):
    with pytest.raises(JSONLimitError) as refused:
        loads(text, max_depth=20)
    assert refused.value.msg == message
    assert (refused.value.lineno, refused.value.colno) == (1, column)


def test_brackets_and_digits_inside_strings_do_not_count():
    text = json.dumps({"svg": "[" * 100 + "9" * 100 + '\\"{', "n": [1.5, -2, 12345678901234567890]})
    assert loads(text, max_depth=2) == json.loads(text)


def test_a_limit_error_is_a_json_decode_error():
    with pytest.raises(json.JSONDecodeError):
        loads("[[1]]", max_depth=1)
    with pytest.raises(json.JSONDecodeError, match="Expecting value"):
        loads("[1,]", max_depth=1)
