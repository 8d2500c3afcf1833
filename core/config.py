"""An experiment's whole configuration as one plain, serialisable dataclass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from core.device import DEVICE_CHOICES
from core.errors import ConfigError
from core.evaluation.metrics import DEFAULT_KS
from core.forget_request import ForgetRequest
from core.models.base import ModelConfig, model_config
from core.params import ParamSpec, check_fields
from core.references.settings import check_references
from core.split import SplitConfig


@dataclass(frozen=True)
class MethodChoice:
    name: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DataConfig:
    path: str = "demo"
    fmt: str = "auto"
    columns: dict | None = None
    sep: str | None = None
    implicit_threshold: float | None = None
    k_core: int = 0

    @property
    def is_demo(self) -> bool:
        """The built-in demo data: methods take their demo preset (``ParamSpec.demo``)."""
        return str(self.path).strip().lower() == "demo"


@dataclass(frozen=True)
class ExperimentConfig:
    data: DataConfig = field(default_factory=DataConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    request: ForgetRequest = field(default_factory=ForgetRequest)
    methods: tuple[MethodChoice, ...] = (MethodChoice("retrain"),)
    similar_top_n: int = 10
    ks: tuple[int, ...] = DEFAULT_KS
    device: str = "auto"
    use_cache: bool = True
    mia: bool = True
    label: str = ""
    references: int | None = None  # reference ensemble size R; None: the dataset's default (core.references)

    def validate(self) -> None:
        self.split.validate()
        self.model.validate()
        self.request.validate()
        check_fields(RUN_PARAMS, self, "run")
        try:
            check_references(self.references)
        except ConfigError as exc:
            raise ConfigError(f"run: {exc}") from None
        if not self.methods:
            raise ConfigError("choose at least one unlearning method")
        names = [m.name for m in self.methods]
        if len(set(names)) != len(names):
            raise ConfigError(f"a method is listed twice: {', '.join(names)}")
        if not self.ks or any(k < 1 for k in self.ks):
            raise ConfigError(f"cut-offs K must be positive integers, got {self.ks}")

    def to_dict(self) -> dict:
        out = asdict(self)
        out["methods"] = [asdict(m) for m in self.methods]
        if out["references"] is None:  # the dataset's default: written as before R existed (same sweep cell IDs)
            del out["references"]
        return out

    @classmethod
    def from_dict(cls, raw: dict) -> "ExperimentConfig":
        try:
            split = dict(raw.get("split", {}))
            if "ratios" in split:
                split["ratios"] = tuple(split["ratios"])
            request = dict(raw.get("request", {}))
            if "ids" in request:
                request["ids"] = tuple(request["ids"])
            given = {name: raw[name] for name in _PLAIN_FIELDS if name in raw}  # the rest: the class defaults
            if "ks" in raw:
                given["ks"] = tuple(raw["ks"])
            return cls(
                data=DataConfig(**raw.get("data", {})),
                split=SplitConfig(**split),
                model=model_config(**raw.get("model", {})),
                request=ForgetRequest(**request),
                methods=tuple(MethodChoice(m["name"], dict(m.get("params", {}))) for m in raw.get("methods", [])),
                **given,
            )
        except (TypeError, KeyError) as exc:
            raise ConfigError(f"configuration is malformed: {exc}") from None


_DEFAULT = ExperimentConfig()
_PLAIN_FIELDS = ("similar_top_n", "device", "use_cache", "mia", "label", "references")
"""Fields stored as themselves in a config file (no nested dataclass, no tuple to rebuild)."""
# Run-level settings beside the model and the split; validate() checks them, the window builds its inputs.
RUN_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "device",
        str,
        _DEFAULT.device,
        "Where models train and score: automatic picks the GPU when there is one",
        choices=DEVICE_CHOICES,
        choice_labels=("Automatic", "CPU", "GPU"),
        label="Run on",
    ),
    ParamSpec(
        "use_cache",
        bool,
        _DEFAULT.use_cache,
        "Skip training the base model when the same one (same data, split and settings) was trained before",
        label="Reuse a cached base model",
    ),
    ParamSpec(
        "mia",
        bool,
        _DEFAULT.mia,
        "Run the membership attacks (fold-in: forgotten users vs users the model "
        "never saw; record-level: forgotten rows vs the same users' held-out rows). Retraining's AUC is the "
        "target; it is near 0.5 only for random user and interaction requests.",
        label="Membership attacks",
    ),
    ParamSpec(
        "similar_top_n",
        int,
        _DEFAULT.similar_top_n,
        "Neighbours of each forgotten user in the similar group",
        low=1,
        high=1000,
        label="Similar users per forgotten user",
    ),
)
