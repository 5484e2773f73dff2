"""Shared fixtures: the injectq-gen project fixture lives in tests/codegen_support.py."""

from tests.codegen_support import codegen_env

__all__ = ["codegen_env"]
