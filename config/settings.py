"""The one settings model every component reads.

Sources, highest priority first: keyword arguments, environment variables (`AGENT_` prefix,
nested fields joined with `__`, e.g. `AGENT_MODEL__N_CTX=4096`), `$AGENT_HOME/config.toml`,
defaults. `AGENT_HOME` is the data directory, `AGENT_CACHE` the cache for derived model files.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from config.errors import UserError

APP_NAME = "hippo-agent"
ENV_PREFIX = "AGENT_"


def default_home() -> Path:
    """Data directory: `$AGENT_HOME`, else the platform's user data dir."""
    env = os.environ.get("AGENT_HOME")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir(APP_NAME))


def config_path(home: str | Path | None = None) -> Path:
    """`<home>/config.toml`; the default home when `home` is not given."""
    return (Path(home).expanduser() if home else default_home()) / "config.toml"


def default_cache() -> Path:
    """Cache for derived model files: `$AGENT_CACHE`, else the platform's user cache dir."""
    env = os.environ.get("AGENT_CACHE")
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir(APP_NAME))


class ModelSettings(BaseModel):
    """The base model: one GGUF serves inference (llama.cpp) and training (dequantised)."""

    path: Path | None = Field(None, description="GGUF file; unset = embedded Gemma 3 270M")
    n_ctx: int = Field(2048, ge=128)
    n_threads: int | None = Field(None, ge=1, description="unset = all cores")
    n_gpu_layers: int = Field(-1, description="layers offloaded when llama.cpp has a GPU")
    prompt_format: Literal["auto", "plain", "chat"] = "auto"
    max_tokens: int = Field(64, ge=1)
    seed: int = 0


class MemorySettings(BaseModel):
    """Short-term memory: the Chroma turn store and fact detection."""

    embedder_path: Path | None = Field(None, description="sentence-transformers dir; unset = packaged MiniLM")
    chroma_url: str | None = Field(None, description="http://host:port of a Chroma server; unset = embedded store")
    collection: str = "turns"
    min_sessions: int = Field(2, ge=1, description="distinct sessions before a fact is a candidate")
    match_threshold: float = Field(0.75, ge=0.0, le=1.0, description="cosine similarity for 'same fact'")
    embedder: str = Field("minilm", description="'minilm' or 'module:Class' of a compatible embedder")
    extractor: str = Field("model", description="'model' (extraction adapter), 'fewshot', 'rules' or 'module:Class'")
    extractor_threads: int | None = Field(None, ge=1, description="llama.cpp threads for extraction; unset = all cores")


class GateSettings(BaseModel):
    """Thresholds a candidate adapter must meet before it is published."""

    min_efficacy: float = 0.98  # trained questions answered right
    min_recall: float = 0.80  # held-out questions (written by people, not the templates) answered right
    min_retention: float = 0.95  # earlier consolidated facts still right
    min_locality: float = 0.95  # unrelated bank answers unchanged
    min_knowledge: float = 0.98  # bank questions the base got right still right
    min_absence: float = 0.90  # never-said questions answered without a learned value (consolidation/absence.py)
    max_ppl_drift: float = 0.05  # relative perplexity change on the reference text, no scope gate
    max_ppl_drift_raw: float = 5.0  # the raw adapter when the scope gate is on: catastrophic damage only
    raw_sample: int = Field(10, ge=0, description="bank and personal questions (each) the raw adapters answer for the raw figures, which are reported, not gated")
    trained_sample: int | None = Field(3, ge=1, description="trained questions asked per fact (efficacy, retention); the early stop already scored every one in torch; None: all")


class ConsolidationSettings(BaseModel):
    """LoRA training, the scope gate, and the publish gate."""

    rank: int = Field(16, ge=1)
    alpha: float = 32.0
    learning_rate: float = 3e-4
    batch_size: int = Field(8, ge=1)
    max_steps: int = Field(300, ge=1)
    stop_loss: float = Field(0.3, ge=0.0, description="stop once every answer token of every fact example has a loss below this (scored again before stopping)")
    focus: bool = Field(True, description="half of each batch's fact slots go to examples whose loss is not yet below stop_loss, the rest rehearse the others in turn")
    target_modules: list[str] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    layers: list[int] | None = Field(None, description="LoRA only on these layers; unset = all")
    examples_per_fact: int = Field(8, ge=1)
    absence_per_fact: int = Field(0, ge=0, description="'never said' questions near each relation or favourite fact, trained to answer that the user has not said (0: off; consolidation/absence.py says why)")
    anchors: int = Field(160, ge=0, description="self-distilled unrelated prompts mixed into training")
    anchor_weight: float = Field(1.0, ge=0.0)
    anchor_share: float = Field(0.25, ge=0.0, lt=1.0, description="share of each batch taken from the anchors")
    scope_gate: bool = Field(True, description="apply the adapter only to questions in the scope of learned facts")
    scope_threshold: float = Field(0.5, ge=0.0, le=1.0)
    shard_size: int = Field(40, ge=1, description="facts per adapter shard; a round retrains only the shards whose facts changed")
    continue_shards: bool = Field(True, description="a shard that only gained facts trains on from its adapter; one that lost a fact (forgotten, superseded) starts again from the base model")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["auto", "fp32", "bf16"] = Field("auto", description="training's matrix products in bf16 where the hardware has bf16 instructions (auto), always, or never (the early stop is scored the same way)")
    seed: int = 0
    gate: GateSettings = GateSettings()


class DaemonSettings(BaseModel):
    """The background daemon and its local HTTP API."""

    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535, description="0: any free port (written to daemon.json)")
    idle_minutes: float = Field(20.0, ge=0.0)
    check_seconds: float = Field(30.0, gt=0.0, description="how often the idle check runs")
    detect_delay_seconds: float = Field(10.0, ge=0.0, description="fact detection waits this long after the last chat turn")
    nightly: str | None = Field(None, pattern=r"^([01]?\d|2[0-3]):[0-5]\d$",
                                description='also consolidate every night at "HH:MM" (local time)')
    start_timeout: float = Field(120.0, gt=0.0, description="seconds `agent daemon start` waits for it")


class Settings(BaseSettings):
    """Effective settings of hippo-agent."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="ignore",
    )

    home: Path = Field(default_factory=default_home)
    cache: Path = Field(default_factory=default_cache)
    model: ModelSettings = ModelSettings()
    memory: MemorySettings = MemorySettings()
    consolidation: ConsolidationSettings = ConsolidationSettings()
    daemon: DaemonSettings = DaemonSettings()

    @field_validator("home", "cache", mode="after")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        home = init_settings.init_kwargs.get("home")  # else $AGENT_HOME or the platform's dir
        return (init_settings, env_settings, _ConfigFile(settings_cls, toml_file=config_path(home)))

    @property
    def config_file(self) -> Path:
        return config_path(self.home)


class _ConfigFile(TomlConfigSettingsSource):
    """config.toml; a file that is not TOML or cannot be read is a UserError naming it."""

    def _read_file(self, file_path: Path) -> dict[str, Any]:
        try:
            return super()._read_file(file_path)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise UserError(f"{file_path}: invalid TOML: {e}") from None
        except OSError as e:
            raise UserError(f"{file_path}: cannot read it: {e.strerror or e}") from None


def load_settings(**overrides) -> Settings:
    """Read the settings afresh (environment and config file are read at every call).

    A bad value is a UserError naming where it came from and what was expected."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        raise UserError("; ".join(_describe(err, overrides) for err in e.errors())) from None
    except SettingsError as e:  # an environment variable that should hold JSON (a list, a table)
        raise UserError(_describe_unparsable(e)) from None


# pydantic error type → what the value should have been
_EXPECTED = {
    "int_parsing": "an integer", "int_type": "an integer", "int_from_float": "an integer",
    "float_parsing": "a number", "float_type": "a number",
    "bool_parsing": "true or false", "bool_type": "true or false",
    "string_type": "a string", "path_type": "a path", "list_type": "a list",
    "model_type": "a table", "dict_type": "a table",
    "greater_than": "a number > {gt}", "greater_than_equal": "a number >= {ge}",
    "less_than": "a number < {lt}", "less_than_equal": "a number <= {le}",
    "literal_error": "one of {expected}", "string_pattern_mismatch": "a string matching {pattern}",
}


def _describe(error: dict, overrides: dict) -> str:
    """'<source>: <key>: expected …, got …' for one pydantic error."""
    loc = error["loc"]
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    template = _EXPECTED.get(error["type"])
    problem = f"expected {template.format(**error.get('ctx', {}))}" if template else error["msg"]
    return f"{_source(loc, overrides)}: {key}: {problem}, got {error['input']!r}"


def _source(loc: tuple, overrides: dict) -> str:
    """Where the value at `loc` came from, by precedence: an argument, the environment
    variable that set it (`AGENT_MODEL__N_CTX`, or `AGENT_MODEL` holding JSON), the config file."""
    names = [part for part in loc if isinstance(part, str)]
    if _holds(overrides, names):
        return "argument"
    set_vars = {var.upper(): var for var in os.environ}  # env names are case-insensitive here
    for n in range(len(names), 0, -1):
        var = ENV_PREFIX + "__".join(names[:n]).upper()
        if var in set_vars:
            return set_vars[var]
    return str(config_path(overrides.get("home")))


def _holds(mapping: Any, names: list[str]) -> bool:
    """Whether `mapping[names[0]][names[1]]…` exists."""
    for name in names:
        if not isinstance(mapping, dict) or name not in mapping:
            return False
        mapping = mapping[name]
    return True


def _describe_unparsable(error: SettingsError) -> str:
    """pydantic-settings says only 'error parsing value for field "model"': name the variables."""
    field = re.search(r'field "(\w+)"', str(error))
    prefix = ENV_PREFIX + (field[1].upper() if field else "")
    names = sorted(var for var, value in os.environ.items()
                   if var.upper().startswith(prefix) and not _is_json(value)) or [prefix]
    return f"{', '.join(names)}: expected JSON for a list or a table ({error.__cause__ or error})"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
