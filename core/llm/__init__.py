"""Local LLM loading shared by every LLM-based method (CRAGRU, E2URec)."""

from core.llm.local import LocalLLM, bundled_gguf_path, load_local_llm  # noqa: F401
