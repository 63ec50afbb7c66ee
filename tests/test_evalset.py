from __future__ import annotations

import pytest

from bench.evalset import EvalSetError, load_eval_set
from practice.bank import load_bank
from tests.conftest import BANK, write

# 'validation-set' in the small bank has two key points: 0 and 1.
ANSWER = """- id: validation-set--contradiction
  question_id: validation-set
  style: contradiction
  answer: We train on the validation data too, and it is what we tune the hyperparameters on.
  covered: [1]
"""


@pytest.fixture
def bank(tmp_path):
    return load_bank(write(tmp_path / "bank" / "mine.yaml", BANK).parent)


def test_contradicted_points_load_beside_covered_ones(bank, tmp_path):
    write(tmp_path / "eval" / "mine.yaml", ANSWER + "  contradicted: [0]\n")
    (answer,) = load_eval_set(bank, tmp_path / "eval")
    assert answer.covered == {1} and answer.contradicted == {0}
    assert answer.labels == [False, True]


def test_contradicted_defaults_to_none(bank, tmp_path):
    write(tmp_path / "eval" / "mine.yaml", ANSWER)
    assert load_eval_set(bank, tmp_path / "eval")[0].contradicted == frozenset()


@pytest.mark.parametrize(
    ("contradicted", "message"),
    [
        ("[1]", r"\[1\] as both covered and contradicted"),
        ("[0, 2]", r"\[2\] that do not exist"),
        ("[-1]", r"\[-1\] that do not exist"),
    ],
)
def test_contradicted_must_exist_and_not_be_covered(bank, tmp_path, contradicted, message):
    write(tmp_path / "eval" / "mine.yaml", ANSWER + f"  contradicted: {contradicted}\n")
    with pytest.raises(EvalSetError, match=message):
        load_eval_set(bank, tmp_path / "eval")
