"""A worker's start (portal/wsgi.py): every view imported, every template compiled, and
what the process then holds frozen out of the garbage collector's full collections."""

import gc

import pytest
from django.urls import get_resolver

from portal import warmup


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_worker_compiles_every_template_and_freezes_what_it_holds(unfrozen):
    names = warmup._template_names()
    assert "opinions/opinion_list.html" in names and "base.html" in names
    resolver = get_resolver()
    assert any(found is resolver for found in gc.get_objects())
    assert warmup.settle() == gc.get_freeze_count() > 10_000
    # The URLconf is among them: no collection walks it any more.
    assert not any(found is resolver for found in gc.get_objects())


def test_what_requests_create_afterwards_is_still_collected(unfrozen):
    warmup.settle()

    class Node:
        pass

    first, second = Node(), Node()
    first.other, second.other = second, first  # a cycle: only the collector frees it
    del first, second
    assert gc.collect() >= 2
