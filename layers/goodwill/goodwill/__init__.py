"""Goodwill's domain layer, shared by every function.

Cold start: in a Lambda (AWS_EXECUTION_ENV names the runtime), importing this package pauses
Python's cyclic garbage collector until the function's handler is built: the handler's
`logger.inject_lambda_context` (goodwill.observability; every function's handler has it) calls
`init_done`, which freezes what the import built (gc.freeze: later collections never scan it)
and collects again from there. An import makes almost no garbage cycles but ~45 collections of
the young generations while ~300,000 objects are created: 5-7 % of a handler's import CPU
(bench/cold_start.py). Every API function's app.py imports from goodwill first, so the pause also
covers boto3, Powertools and pydantic. Outside Lambda (tests, the local run) nothing changes.
"""

import gc
import os

_paused = os.environ.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda_") and gc.isenabled()
if _paused:
    gc.disable()


def init_done() -> None:
    """The handler is built: freeze what init made and collect garbage again (once; idempotent)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
