"""SISA (sharded retraining): see :mod:`core.methods.sisa.method`."""

from core.methods.common.forms import n_shards_param, shard_training_params
from core.methods.registry import MethodSpec, ParamSpec, deferred, register

AGGREGATES = ("owning", "all")

prepare, unlearn = deferred("core.methods.sisa.method")

register(
    MethodSpec(
        name="sisa",
        label="SISA (sharded retraining)",
        description=(
            "Splits the users at random into shards and trains one sub-model per shard "
            "(once, before the request). Unlearning retrains only the shards that held "
            "forgotten data; scores come from the shard models. Exact, but each sub-model "
            "sees only part of the data, so accuracy drops as shards multiply."
        ),
        params=(
            n_shards_param(),
            ParamSpec(
                "aggregate",
                str,
                "owning",
                "How shard scores combine: 'owning' averages the shards trained on the user; "
                "'all' averages every shard (the published baseline, weaker).",
                choices=AGGREGATES,
                label="Aggregation",
            ),
            *shard_training_params("Epochs"),
        ),
        unlearn=unlearn,
        prepare=prepare,
        capabilities=frozenset({"exact"}),
    )
)
