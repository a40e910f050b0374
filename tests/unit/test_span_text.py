"""go-span's text: a large object's pointer bitmap is summarized, never drawn whole."""

from gdbgomem.commands.spans import pointer_words_text


def test_pointer_words_of_a_large_object_are_summarized():
    assert pointer_words_text([True, False], 2) == "P."
    assert pointer_words_text(None, 4) == "unknown"
    many = [True] * 100 + [False] * 20
    assert pointer_words_text(many, 120) == "P" * 64 + "... (120 words: 100 pointers)"
    assert pointer_words_text(many, 1 << 20) == "P" * 64 + "... (the first 120 of 1048576 words: 100 pointers)"
