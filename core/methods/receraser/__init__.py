"""RecEraser (balanced shards + attention aggregator): see :mod:`core.methods.receraser.method`."""

from core.methods.common.forms import n_shards_param, shard_training_params
from core.methods.registry import MethodSpec, ParamSpec, deferred, register

PARTITIONS = ("embeddings", "random")  # read by partition.user_partition

prepare, unlearn = deferred("core.methods.receraser.method")

register(
    MethodSpec(
        name="receraser",
        label="RecEraser (balanced shards + attention)",
        description=(
            "Partitions users into balanced shards of similar users (k-means on the base "
            "model's embeddings, capped shard size), trains one sub-model per shard and an "
            "attention aggregator over them. Unlearning retrains the shards that held the "
            "forgotten data and the aggregator. Exact for the shards' rows; the k-means "
            "partition itself was fitted on embeddings that saw the forgotten data."
        ),
        params=(
            n_shards_param(),
            ParamSpec(
                "partition",
                str,
                "embeddings",
                "How users are dealt into shards: 'embeddings' — balanced k-means on the base "
                "model's user embeddings (the paper's; those embeddings saw the forgotten data); "
                "'random' — a seeded deal independent of the data.",
                choices=PARTITIONS,
                label="Partition",
            ),
            ParamSpec(
                "partition_iters",
                int,
                10,
                "k-means iterations of the balanced partition.",
                low=1,
                high=100,
                label="Partition iterations",
            ),
            ParamSpec(
                "attention_dim",
                int,
                32,
                "Hidden size of the attention aggregator.",
                low=1,
                high=1024,
                label="Attention size",
            ),
            ParamSpec(
                "agg_epochs",
                int,
                20,
                "Epoch budget of the aggregator (early-stopped on validation).",
                low=1,
                high=10_000,
                label="Aggregator epochs",
            ),
            ParamSpec(
                "agg_batch",
                int,
                16384,
                "Training rows per aggregator step. Each step maps every distinct user and item "
                "of the batch through K shard transforms, and a few thousand rows already touch "
                "most items, so large batches are what keeps the aggregator cheap.",
                low=1,
                high=10_000_000,
                label="Aggregator batch",
            ),
            ParamSpec(
                "agg_lr",
                float,
                0.02,
                "Learning rate of the aggregator (Adam).",
                low=1e-6,
                high=1.0,
                label="Aggregator learning rate",
            ),
            *shard_training_params("Shard epochs"),
        ),
        unlearn=unlearn,
        prepare=prepare,
        capabilities=frozenset({"exact"}),
    )
)
