"""load_policy's bad input: each error names what is wrong and what would be accepted."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from sparft.trainers.models import load_policy  # noqa: E402


def test_unknown_alias_and_missing_paths_say_what_is_accepted(tmp_path):
    with pytest.raises(FileNotFoundError, match="not an alias .*smollm2-135m-instruct"):
        load_policy("smollm3", device="cpu")
    with pytest.raises(FileNotFoundError, match="no GGUF file .*use an alias"):
        load_policy(str(tmp_path / "missing.gguf"), device="cpu")
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="not a model alias .*checkpoint folder"):
        load_policy(str(weights), device="cpu")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        load_policy(str(tmp_path), device="cpu")
