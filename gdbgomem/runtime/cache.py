"""Cache lifetimes, declared on the decoder functions themselves.

A decoder function takes the GoRuntime first. `@per_binary` keeps its answer as
long as the same program is loaded (layouts, the function table, name tables);
`@per_stop` keeps it until the process runs again (goroutines, threads, spans):
the host calls GoRuntime.invalidate() on resume. Answers are keyed by the
function and its further arguments; an exception is never cached.
"""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)


def per_binary(function: F) -> F:
    """Cache function(rt, *args) for as long as the same program is loaded."""
    return _cached(function, "binary_cache")


def per_stop(function: F) -> F:
    """Cache function(rt, *args) until the process runs again."""
    return _cached(function, "stop_cache")


def _cached(function: F, slot: str) -> F:
    @functools.wraps(function)
    def wrapper(rt, *args):
        cache = getattr(rt, slot)
        key = (wrapper, args)
        try:
            return cache[key]
        except KeyError:
            value = cache[key] = function(rt, *args)
            return value
    return wrapper  # type: ignore[return-value]


def already_known(rt, function: Callable, *args) -> bool:
    """Whether a cached function's answer for these arguments is at hand: a command may use
    what an earlier one computed without paying for it itself."""
    return (function, args) in rt.stop_cache or (function, args) in rt.binary_cache
