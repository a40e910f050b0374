"""GC programs (Go up to 1.23) run over bytes, as runGCProg (mbitmap.go) runs them."""

from hypothesis import given
from hypothesis import strategies as st

from gdbgomem.runtime.gc_program import run_gc_program


def test_literal_bits_low_bit_first():
    # emit 3 bits from 0b101, emit 9 bits from 0x01 0x01, stop
    assert run_gc_program(bytes([0x03, 0b101, 0x09, 0x01, 0x01, 0x00]), 64) == \
        [True, False, True] + [True] + [False] * 7 + [True]


def test_repeats_short_and_long_form():
    # emit 1001, repeat the last 4 bits twice (short form), stop
    assert run_gc_program(bytes([0x04, 0b1001, 0x84, 0x02, 0x00]), 64) == [True, False, False, True] * 3
    # the same repeat with n as a uvarint (long form); c = 200 as a two-byte uvarint
    bits = run_gc_program(bytes([0x01, 0x01, 0x80, 0x01, 0xC8, 0x01, 0x00]), 1000)
    assert bits == [True] * 201


def test_bad_programs_give_none():
    assert run_gc_program(bytes([0x03, 0b101]), 64) is None             # no stop
    assert run_gc_program(bytes([0x10, 0xFF]), 64) is None              # literal cut short
    assert run_gc_program(bytes([0x01, 0x01, 0x82, 0x01, 0x00]), 64) is None  # repeats more than was emitted
    assert run_gc_program(bytes([0x01, 0x01, 0x81, 0xFF, 0xFF, 0xFF, 0x7F, 0x00]), 64) is None  # too many bits
    assert run_gc_program(bytes([0x01, 0x01, 0x80]), 64) is None        # uvarint cut short


@given(st.binary(max_size=64), st.integers(0, 4096))
def test_any_bytes_end_in_a_mask_or_none(program, max_bits):
    bits = run_gc_program(program, max_bits)
    assert bits is None or len(bits) <= max_bits
