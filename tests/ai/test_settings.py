"""The [ai] settings: the config file, the environment over it, and writing the table back."""

from __future__ import annotations

import tomllib

import pytest

from core.domain.errors import InvalidInput
from core.domain.settings import AiSettings, ai_overrides, config_path, load_settings, save_ai_settings
from tests.ai.helpers import KEY


def test_no_model_means_no_llm():
    assert load_settings().ai == AiSettings() and not AiSettings().configured


def test_the_file_then_the_environment(monkeypatch):
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text('[jobs]\nmax_concurrent = 2\n\n[ai]\nbase_url = "http://127.0.0.1:11434/v1/"\n'
                    'model = "llama3.1:8b"\ntimeout = 30\n')
    settings = load_settings()
    assert settings.max_concurrent == 2
    assert settings.ai == AiSettings("http://127.0.0.1:11434/v1", "llama3.1:8b", 30.0)
    assert settings.ai.configured and ai_overrides() == {}
    monkeypatch.setenv("OPENAI_BASE_URL", "http://10.1.1.1:8000/v1")
    monkeypatch.setenv("COMPLIANCE_TUI_LLM_MODEL", "qwen2.5")
    assert load_settings().ai == AiSettings("http://10.1.1.1:8000/v1", "qwen2.5", 30.0)
    assert ai_overrides() == {"base_url": "OPENAI_BASE_URL", "model": "COMPLIANCE_TUI_LLM_MODEL"}


@pytest.mark.parametrize("line, message", [
    ('base_url = "ftp://x"', "must start with http"),
    ("timeout = -1", "between 0 and 3600"),
    ('timeout = "soon"', "number of seconds"),
    ('model = "a\\u001b[2Jb"', "one short line"),
    ("colour = 1", "unknown setting ai.colour"),
])
def test_bad_values_are_refused_with_the_reason(line, message):
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text(f"[ai]\n{line}\n")
    with pytest.raises(InvalidInput, match=message):
        load_settings()


def test_a_key_in_the_file_is_refused_without_repeating_it():
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text(f'[ai]\napi_key = "{KEY}"\n')
    with pytest.raises(InvalidInput, match="never read from a file") as caught:
        load_settings()
    assert KEY not in str(caught.value)


def test_saving_keeps_every_other_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("# my settings\n[jobs]\nmax_concurrent = 3  # small box\n\n[ai]\nmodel = \"old\"\n"
                    "# old comment\n\n[other]\nx = 1\n")
    save_ai_settings(AiSettings('http://h:1/v1', 'new "quoted" \\ model', 12.5), path)
    text = path.read_text()
    assert text.startswith("# my settings\n[jobs]\nmax_concurrent = 3  # small box\n")
    data = tomllib.loads(text)
    assert data["ai"] == {"base_url": "http://h:1/v1", "model": 'new "quoted" \\ model', "timeout": 12.5}
    assert data["other"] == {"x": 1} and "old comment" not in text
    save_ai_settings(AiSettings(None, "m", 60), path)  # no base URL: the key is left out
    assert tomllib.loads(path.read_text())["ai"] == {"model": "m", "timeout": 60}
    fresh = tmp_path / "new" / "config.toml"
    save_ai_settings(AiSettings("http://h:1/v1", "m"), fresh)
    assert fresh.read_text() == '[ai]\nbase_url = "http://h:1/v1"\nmodel = "m"\ntimeout = 60\n'
