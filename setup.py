"""The optional C accelerator of the tar walker (inspector/index/_tarscan.c).

Everything else is declared in pyproject.toml. ``optional=True``: without a C compiler (or
Python headers) the build goes on without it and the walker uses its pure-Python loop.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("inspector.index._tarscan", ["inspector/index/_tarscan.c"],
                             extra_compile_args=["-O2"], optional=True)])
