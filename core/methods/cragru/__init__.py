"""CRAGRU (arXiv 2511.05494): recommendation unlearning by retrieval-augmented generation.

Recommendations come in two stages. *Retrieval* picks a small, informative subset of a
user's retained training interactions from the retrieval store (:mod:`.strategies`,
with item clusters from :mod:`.clusters` and knapsack-chosen ratios from
:mod:`.knapsack`/:mod:`.tuning`); *generation* gives an LLM (:mod:`.backends`) a prompt
(:mod:`.prompts`) with the user's profile, that history and the base recommender's
top-N candidates, and the LLM ranks them by likelihood (:mod:`.scoring`) or by writing
JSON (:mod:`.generation_parse`), optionally fused with the base order (:mod:`.fusion`).

Unlearning deletes rows from the store (:mod:`.store`) and purges the caches derived
from them (:mod:`.state`); :func:`audit_erasure` proves nothing is left. Importing this
package registers the method ``"cragru"`` (:mod:`.method`).
"""

from core.methods.cragru import method  # noqa: F401  (registers "cragru")
from core.methods.cragru.audit import Finding, audit_erasure  # noqa: F401
from core.methods.cragru.scorer import CragruScorer  # noqa: F401
from core.methods.cragru.state import CragruState  # noqa: F401
