"""How many web workers `./manage.sh serve` runs: one per core when the machine's sandbox
service holds what they must share, else one (its pool and fair queue the only ones)."""

import os

import pytest

from pyspace.gunicorn_config import web_workers


def _workers(monkeypatch, **environment: str) -> int:
    for name in ("PYSPACE_SANDBOX_SERVICE", "PYSPACE_WEB_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return web_workers()


def test_without_a_sandbox_service_one_worker_keeps_the_pool(monkeypatch):
    assert _workers(monkeypatch) == 1
    assert _workers(monkeypatch, PYSPACE_WEB_WORKERS="4") == 1


def test_with_a_sandbox_service_one_worker_per_core(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert _workers(monkeypatch, PYSPACE_SANDBOX_SERVICE="/srv/sandbox.sock") == 6


@pytest.mark.parametrize("configured", ["1", "3"])
def test_web_workers_sets_the_count(monkeypatch, configured):
    service = {"PYSPACE_SANDBOX_SERVICE": "/srv/sandbox.sock"}
    assert _workers(monkeypatch, PYSPACE_WEB_WORKERS=configured, **service) == int(configured)
