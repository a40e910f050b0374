"""Which values gdbgomem calls corrupt: the bounds are the runtime's own limits."""

from gdbgomem.runtime.plausible import MAX_STACK_BYTES, span_flaws, stack_flaw, stack_flaws


def test_stacks_the_runtime_can_have_are_not_flagged():
    assert stack_flaw(0, 0) is None                       # a dead g keeps no stack
    assert stack_flaw(0xc000100000, 0xc000102000) is None
    assert stack_flaw(0x1000, 0x1000 + MAX_STACK_BYTES) is None


def test_stacks_that_cannot_be_say_why():
    assert "above stack.hi 0x1000" in stack_flaw(0x2000, 0x1000)
    assert "over the runtime's 1 GiB limit" in stack_flaw(0, MAX_STACK_BYTES + 1)
    assert set(stack_flaws(0x2000, 0x1000, "g0_")) == {"g0_stack_size"}


def test_span_fields_that_contradict_each_other():
    healthy = dict(size=8192, nelems=512, elemsize=16, alloc_count=512, freeindex=512, in_use=True)
    assert span_flaws(**healthy) == {}
    assert set(span_flaws(**{**healthy, "alloc_count": 513})) == {"alloc_count"}
    assert set(span_flaws(**{**healthy, "freeindex": 600})) == {"freeindex"}
    assert set(span_flaws(**{**healthy, "elemsize": 32})) == {"nelems"}
    assert set(span_flaws(**{**healthy, "size": 1 << 50})) == {"bytes"}
    assert span_flaws(**{**healthy, "alloc_count": 9999, "in_use": False}) == {}  # free and stack spans keep stale counts
