"""``speechsift eval``: score a speech LLM on the held-out sets speechsift builds and on Speech-IFEval.

One module per part: ``items`` (reading DATA), ``model`` (the model under test), ``transcription``
(WER/CER), ``answers`` (exact match, F1, label accuracy), ``judge`` (the EvalSIFT judge),
``controllable`` (re-measured audio: MAE/QWK), ``ifeval`` (Speech-IFEval's checkers),
``constraints`` (the ``constrained`` task family's instructions), ``scoring`` and ``summary``
(aggregation with bootstrap intervals), ``runner`` (the run), ``report`` and ``compare``.
"""

from speechsift.eval.config import EvalConfig
from speechsift.eval.runner import EvalResult, run_eval

__all__ = ["EvalConfig", "EvalResult", "run_eval"]
