"""Every file of the malformed corpus is refused by its loader's own error class with one
line naming the file and what is wrong, and by the CLI with exit 2 and one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from latentlab.cli import main
from latentlab.core import DataFileError, ModelFileError, load_dataset, load_model

from .corpus import CASES, DATA_CASES, MODEL_CASES, Case, build_corpus

LOADERS = {"data": (load_dataset, DataFileError), "model": (load_model, ModelFileError)}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {case.name: path for case, path in build_corpus(tmp_path_factory.mktemp("corpus"))}


def test_the_corpus_is_big_enough() -> None:
    assert len(DATA_CASES) >= 40 and len(MODEL_CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_refused_with_one_clear_line(case: Case, corpus: dict[str, Path]) -> None:
    path = corpus[case.name]
    load, error = LOADERS[case.loader]
    with pytest.raises(error) as info:
        load(path)
    message = str(info.value)
    assert type(info.value) is error
    assert message.startswith(str(path)), message
    assert "\n" not in message and len(message) < 400, message
    assert case.says in message.lower(), message
    assert "Error" not in message.replace("DataFileError", ""), message  # no bare exception


@pytest.mark.parametrize("case", DATA_CASES, ids=lambda c: c.name)
def test_cli_exits_2_with_one_line(case: Case, corpus: dict[str, Path],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["train", "--data", str(corpus[case.name]), "--epochs", "1"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("latentlab train: error: ") and str(corpus[case.name]) in err
